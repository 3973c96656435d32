/**
 * Test environments share one PostgreSQL and one Redis with concurrent runs (other suites, other
 * checkouts): everything a test gateway writes must sit under its own names, the task queue included,
 * or another run's worker takes its jobs.
 */
import assert from 'node:assert/strict';
import { loadConfig } from '../../../service/src/config.js';
import { QUEUE } from '../../../contract/index.js';
import type { TestDatabase } from '../../support/platform-db.js';
import { testEnv } from '../../support/platform-gateway.js';

describe('test environment isolation', () => {
  const db: TestDatabase = { url: 'postgres://u@127.0.0.1:5432/umcp_test_x', name: 'umcp_test_x', drop: async () => undefined };

  it('puts the task queue of a test gateway under its Redis key prefix, not the shared default', () => {
    const a = loadConfig(testEnv({}, db, 'umcp-test-aaa:', 'admin-token-aaaaaaaaaaaa'));
    const b = loadConfig(testEnv({}, db, 'umcp-test-bbb:', 'admin-token-bbbbbbbbbbbb'));
    assert.notEqual(a.TASK_QUEUE_PREFIX, QUEUE.prefix);
    assert.ok(a.TASK_QUEUE_PREFIX.startsWith('umcp-test-aaa:'), a.TASK_QUEUE_PREFIX);
    assert.notEqual(a.TASK_QUEUE_PREFIX, b.TASK_QUEUE_PREFIX);
  });

  it('still lets a test choose its own queue prefix', () => {
    assert.equal(loadConfig(testEnv({ TASK_QUEUE_PREFIX: 'mine' }, db, 'umcp-test-aaa:', 'admin-token-cccccccccccc')).TASK_QUEUE_PREFIX, 'mine');
  });
});
