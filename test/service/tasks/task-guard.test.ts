/**
 * The task methods' error guard says what failed: a store or queue that could not be reached, or an
 * unexpected error in the gateway (never the latter reported as the former), without internals on the wire.
 */
import assert from 'node:assert/strict';
import { ProtocolError } from '@modelcontextprotocol/server';
import { guard } from '../../../service/src/tasks/mcp-tasks.js';
import { TaskNotFoundError } from '../../../service/src/tasks/types.js';

const failure = async (err: unknown) => {
  try {
    await guard(async () => {
      throw err;
    });
  } catch (e) {
    return e as ProtocolError;
  }
  throw new Error('guard did not throw');
};

describe('task request guard', () => {
  it('reports a TypeError as an unexpected error, not as a store outage', async () => {
    const e = await failure(new TypeError("Cannot read properties of undefined (reading 'cursor')"));
    assert.equal(e.code, -32603);
    assert.deepEqual(e.data, { cause: 'unexpected TypeError in the gateway' });
    assert.doesNotMatch(e.message, /cursor/);
  });

  it('reports connection failures of the store or queue as such', async () => {
    for (const code of ['ECONNREFUSED', '57P01', '08006']) {
      const e = await failure(Object.assign(new Error('connect failed'), { code }));
      assert.deepEqual(e.data, { cause: 'task store or queue unavailable' }, code);
    }
  });

  it('maps an unknown task to -32602 with its message', async () => {
    const e = await failure(new TaskNotFoundError('t-1'));
    assert.equal(e.code, -32602);
  });
});
