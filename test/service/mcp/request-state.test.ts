/**
 * RotatingRequestStateCodec: sealing with the first key, verifying with any configured key, refusing
 * tampered, expired, unknown-key and foreign-caller state with a reason.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { ServerContext } from '@modelcontextprotocol/server';
import { RequestStateKeysSchema } from '../../../service/src/mcp/config.js';
import { RequestStateError, RotatingRequestStateCodec, bindToCaller } from '../../../service/src/mcp/request-state.js';

const key = (kid: string) => `${kid}:${randomBytes(32).toString('base64')}`;

/** The parts of a handler context the binding reads. */
function ctxFor(tenantId: string, subject: string, method = 'tools/call'): ServerContext {
  return {
    mcpReq: { method },
    http: { authInfo: { token: '', clientId: subject, scopes: [], extra: { principal: { tenantId } } } },
  } as unknown as ServerContext;
}

async function refusal(promise: Promise<unknown>): Promise<RequestStateError['reason']> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof RequestStateError, `expected a RequestStateError, got ${String(err)}`);
  return err.reason;
}

describe('RotatingRequestStateCodec', () => {
  const old = key('old');
  const fresh = key('new');
  const ctx = ctxFor('tenant-a', 'key:1');

  it('round-trips a payload and names the signing key', async () => {
    const codec = new RotatingRequestStateCodec(RequestStateKeysSchema.parse(`${fresh},${old}`), 60, bindToCaller);
    const state = await codec.mint({ round: 2, name: 'Ada' }, ctx);
    assert.match(state, /^new~/);
    assert.deepEqual(await codec.verify(state, ctx), { round: 2, name: 'Ada' });
  });

  it('accepts state sealed by a key that is still listed after rotation, refuses it once dropped', async () => {
    const before = new RotatingRequestStateCodec(RequestStateKeysSchema.parse(old), 60, bindToCaller);
    const state = await before.mint({ round: 1 }, ctx);
    const rotated = new RotatingRequestStateCodec(RequestStateKeysSchema.parse(`${fresh},${old}`), 60, bindToCaller);
    assert.deepEqual(await rotated.verify(state, ctx), { round: 1 });
    const dropped = new RotatingRequestStateCodec(RequestStateKeysSchema.parse(fresh), 60, bindToCaller);
    assert.equal(await refusal(dropped.verify(state, ctx)), 'unknown-key');
  });

  it('refuses tampered, malformed and foreign-caller state', async () => {
    const codec = new RotatingRequestStateCodec(RequestStateKeysSchema.parse(fresh), 60, bindToCaller);
    const state = await codec.mint({ round: 1 }, ctx);
    assert.ok(['mac', 'malformed'].includes(await refusal(codec.verify(`${state}-TAMPERED`, ctx))));
    const body = state.split('.');
    body[1] = Buffer.from(JSON.stringify({ p: { round: 9 }, exp: 9_999_999_999 })).toString('base64url');
    assert.ok(['mac', 'malformed'].includes(await refusal(codec.verify(body.join('.'), ctx))));
    assert.equal(await refusal(codec.verify('no-key-id', ctx)), 'malformed');
    assert.equal(await refusal(codec.verify(state, ctxFor('tenant-b', 'key:1'))), 'bind');
    assert.equal(await refusal(codec.verify(state, ctxFor('tenant-a', 'key:2'))), 'bind');
    assert.equal(await refusal(codec.verify(state, ctxFor('tenant-a', 'key:1', 'prompts/get'))), 'bind');
  });

  it('refuses expired state', async () => {
    const codec = new RotatingRequestStateCodec(RequestStateKeysSchema.parse(fresh), 1, bindToCaller);
    const state = await codec.mint({ round: 1 }, ctx);
    await new Promise((r) => setTimeout(r, 2100));
    assert.equal(await refusal(codec.verify(state, ctx)), 'expired');
  });

  it('config rejects short secrets, duplicate ids and bad entries with one message each', () => {
    const result = RequestStateKeysSchema.safeParse(`a:${Buffer.alloc(8).toString('base64')},${fresh},${fresh.replace(/^new/, 'new')},bad entry`);
    assert.equal(result.success, false);
    const messages = result.error!.issues.map((i) => i.message).join('\n');
    assert.match(messages, /at least 32 bytes/);
    assert.match(messages, /duplicate key id "new"/);
    assert.match(messages, /expected `kid:base64secret`/);
  });
});
