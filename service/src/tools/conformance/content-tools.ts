/**
 * Conformance fixtures: tools with fixed content (text, image, audio, embedded resource, mixed, error)
 * and the schema-shape tools (JSON Schema 2020-12 keywords, an `x-mcp-header` parameter).
 */
import { fromJsonSchema, type JsonSchemaType } from '@modelcontextprotocol/server';
import type { ToolsetServer } from '../surface.js';
import { z } from 'zod';
import { PNG_BASE64, WAV_BASE64 } from './assets.js';

const noArgs = z.object({});

/** JSON Schema 2020-12 input schema with `$defs`/`$anchor`, composition and conditional keywords. */
const SCHEMA_2020_12 = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  $defs: {
    address: {
      $anchor: 'addressDef',
      type: 'object',
      properties: { street: { type: 'string' }, city: { type: 'string' } },
    },
  },
  properties: {
    name: { type: 'string' },
    address: { $ref: '#/$defs/address' },
    contactMethod: { type: 'string', enum: ['phone', 'email'] },
    phone: { type: 'string' },
    email: { type: 'string' },
  },
  allOf: [{ anyOf: [{ required: ['phone'] }, { required: ['email'] }] }],
  if: { properties: { contactMethod: { const: 'phone' } }, required: ['contactMethod'] },
  then: { required: ['phone'] },
  else: { required: ['email'] },
  additionalProperties: false,
} as const;

/** A tool whose `region` argument is mirrored in an `Mcp-Param-Region` header (SEP-2243). */
const HEADER_PARAM_SCHEMA = {
  type: 'object',
  properties: {
    region: { type: 'string', description: 'Region to greet', 'x-mcp-header': 'Region' },
  },
  required: ['region'],
} as const;

const Schema2020Input = fromJsonSchema<Record<string, unknown>>(SCHEMA_2020_12 as unknown as JsonSchemaType);
const HeaderParamInput = fromJsonSchema<{ region: string }>(HEADER_PARAM_SCHEMA as unknown as JsonSchemaType);

/** Registers the fixed-content and schema-shape fixtures. */
export function registerContentTools(server: ToolsetServer): void {
  server.registerTool('test_simple_text', { description: 'Returns a simple text response.', inputSchema: noArgs }, async () => ({
    content: [{ type: 'text', text: 'This is a simple text response for testing.' }],
  }));
  server.registerTool('test_image_content', { description: 'Returns a 1x1 PNG image.', inputSchema: noArgs }, async () => ({
    content: [{ type: 'image', data: PNG_BASE64, mimeType: 'image/png' }],
  }));
  server.registerTool('test_audio_content', { description: 'Returns a short WAV clip.', inputSchema: noArgs }, async () => ({
    content: [{ type: 'audio', data: WAV_BASE64, mimeType: 'audio/wav' }],
  }));
  server.registerTool('test_embedded_resource', { description: 'Returns an embedded text resource.', inputSchema: noArgs }, async () => ({
    content: [
      {
        type: 'resource',
        resource: { uri: 'test://embedded-resource', mimeType: 'text/plain', text: 'This is an embedded resource content.' },
      },
    ],
  }));
  server.registerTool('test_multiple_content_types', { description: 'Returns text, image and resource content together.', inputSchema: noArgs }, async () => ({
    content: [
      { type: 'text', text: 'Multiple content types test:' },
      { type: 'image', data: PNG_BASE64, mimeType: 'image/png' },
      {
        type: 'resource',
        resource: {
          uri: 'test://mixed-content-resource',
          mimeType: 'application/json',
          text: JSON.stringify({ test: 'data', value: 123 }),
        },
      },
    ],
  }));
  server.registerTool('test_error_handling', { description: 'Always fails with a tool error (isError: true).', inputSchema: noArgs }, async () => ({
    isError: true,
    content: [{ type: 'text', text: 'This tool intentionally returns an error for testing' }],
  }));
  server.registerTool(
    'json_schema_2020_12_tool',
    {
      description: 'Tool with JSON Schema 2020-12 features',
      inputSchema: Schema2020Input,
    },
    async (args) => ({ content: [{ type: 'text', text: `received ${JSON.stringify(args)}` }] }),
  );
  server.registerTool(
    'test_header_param',
    {
      description: 'Greets a region; the region is also sent as the Mcp-Param-Region header (SEP-2243).',
      inputSchema: HeaderParamInput,
    },
    async ({ region }) => ({ content: [{ type: 'text', text: `Hello, ${region}!` }] }),
  );
}
