/**
 * Conformance fixtures: static and templated resources, a subscribable resource, and the prompts
 * (simple, with arguments + completion, embedded resource, image, and one that needs input first).
 */
import { ResourceTemplate, acceptedContent, completable, inputRequired } from '@modelcontextprotocol/server';
import type { ToolsetServer } from '../surface.js';
import { z } from 'zod';
import { PNG_BASE64 } from './assets.js';

const ARG1_SUGGESTIONS = ['paris', 'park', 'party', 'test', 'testing', 'tested'];

const PromptWithArgs = z.object({
  arg1: completable(z.string().describe('First test argument'), (value) => ARG1_SUGGESTIONS.filter((s) => s.startsWith(value.toLowerCase()))),
  arg2: z.string().describe('Second test argument'),
});
const EmbeddedResourceArgs = z.object({ resourceUri: z.string().describe('URI of the resource to embed') });
const ContextAnswer = z.object({ context: z.string() });

/** Registers the resource fixtures. */
export function registerResources(server: ToolsetServer): void {
  server.registerResource('static-text', 'test://static-text', { description: 'A static text resource.', mimeType: 'text/plain' }, async (uri) => ({
    contents: [{ uri: uri.href, mimeType: 'text/plain', text: 'This is the content of the static text resource.' }],
  }));
  server.registerResource(
    'static-binary',
    'test://static-binary',
    { description: 'A static binary resource (1x1 PNG).', mimeType: 'image/png' },
    async (uri) => ({ contents: [{ uri: uri.href, mimeType: 'image/png', blob: PNG_BASE64 }] }),
  );
  server.registerResource(
    'watched-resource',
    'test://watched-resource',
    { description: 'A resource clients may subscribe to.', mimeType: 'text/plain' },
    async (uri) => ({ contents: [{ uri: uri.href, mimeType: 'text/plain', text: 'Watched resource content.' }] }),
  );
  server.registerResource(
    'template-data',
    new ResourceTemplate('test://template/{id}/data', {
      list: undefined,
      complete: { id: (value) => ['123', '456', '789'].filter((id) => id.startsWith(value)) },
    }),
    { description: 'Data for an id, substituted from the URI template.', mimeType: 'application/json' },
    async (uri, { id }) => {
      const value = Array.isArray(id) ? id.join(',') : String(id);
      return {
        contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify({ id: value, templateTest: true, data: `Data for ID: ${value}` }) }],
      };
    },
  );
}

/** Registers the prompt fixtures. */
export function registerPrompts(server: ToolsetServer): void {
  server.registerPrompt('test_simple_prompt', { description: 'A simple prompt without arguments.' }, async () => ({
    messages: [{ role: 'user', content: { type: 'text', text: 'This is a simple prompt for testing.' } }],
  }));

  server.registerPrompt(
    'test_prompt_with_arguments',
    {
      description: 'A prompt with two required arguments; arg1 offers completions.',
      argsSchema: PromptWithArgs,
    },
    async ({ arg1, arg2 }) => ({
      messages: [{ role: 'user', content: { type: 'text', text: `Prompt with arguments: arg1='${arg1}', arg2='${arg2}'` } }],
    }),
  );

  server.registerPrompt(
    'test_prompt_with_embedded_resource',
    {
      description: 'A prompt embedding the resource named by resourceUri.',
      argsSchema: EmbeddedResourceArgs,
    },
    async ({ resourceUri }) => ({
      messages: [
        { role: 'user', content: { type: 'resource', resource: { uri: resourceUri, mimeType: 'text/plain', text: 'Embedded resource content for testing.' } } },
        { role: 'user', content: { type: 'text', text: 'Please process the embedded resource above.' } },
      ],
    }),
  );

  server.registerPrompt('test_prompt_with_image', { description: 'A prompt carrying an image.' }, async () => ({
    messages: [
      { role: 'user', content: { type: 'image', data: PNG_BASE64, mimeType: 'image/png' } },
      { role: 'user', content: { type: 'text', text: 'Please analyze the image above.' } },
    ],
  }));

  server.registerPrompt(
    'test_input_required_result_prompt',
    { description: 'A prompt that first asks the user for context (input_required on prompts/get).' },
    async (ctx) => {
      const answer = acceptedContent(ctx.mcpReq.inputResponses, 'user_context', ContextAnswer);
      if (!answer) {
        return inputRequired({
          inputRequests: {
            user_context: inputRequired.elicit({
              message: 'What context should the prompt use?',
              requestedSchema: { type: 'object', properties: { context: { type: 'string' } }, required: ['context'] },
            }),
          },
        });
      }
      return { messages: [{ role: 'user', content: { type: 'text', text: `Use this context: ${answer.context}` } }] };
    },
  );
}
