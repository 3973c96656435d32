/**
 * TenantHandlers: one handler per tenant, LRU-bounded, never closing a handler with work in flight.
 */
import assert from 'node:assert/strict';
import type { McpHttpHandler } from '@modelcontextprotocol/server';
import { TenantHandlers } from '../../../service/src/mcp/tenant-handlers.js';

function fakeHandlers() {
  const closed: string[] = [];
  const create = (tenantId: string) => ({ close: async () => void closed.push(tenantId) }) as unknown as McpHttpHandler;
  return { closed, create };
}

describe('TenantHandlers', () => {
  it('reuses one handler per tenant', () => {
    const { create } = fakeHandlers();
    const handlers = new TenantHandlers(create, 10);
    const a = handlers.acquire('a');
    const again = handlers.acquire('a');
    assert.equal(a.handler, again.handler);
    assert.equal(handlers.size, 1);
  });

  it('closes the least recently used idle handlers past the bound, never busy ones', async () => {
    const { closed, create } = fakeHandlers();
    const handlers = new TenantHandlers(create, 2);
    const busy = handlers.acquire('busy'); // stays in flight
    handlers.acquire('a').release();
    handlers.acquire('b').release(); // 3 > 2: 'busy' is oldest but in flight, so 'a' goes
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(closed, ['a']);
    handlers.acquire('c').release(); // 'busy' still in flight; 'b' is the oldest idle one
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(closed, ['a', 'b']);
    busy.release();
    busy.release(); // idempotent
    handlers.acquire('d').release();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(closed, ['a', 'b', 'busy']);
    assert.equal(handlers.size, 2);
  });

  it('closes everything on closeAll and refuses a bad bound', async () => {
    const { closed, create } = fakeHandlers();
    const handlers = new TenantHandlers(create, 5);
    handlers.acquire('x');
    handlers.acquire('y').release();
    await handlers.closeAll();
    assert.deepEqual(closed.sort(), ['x', 'y']);
    assert.throws(() => new TenantHandlers(create, 0), /positive integer/);
  });
});
