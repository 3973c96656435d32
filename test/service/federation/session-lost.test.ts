/** Which upstream answers mean "the upstream lost our session" (re-initialise and retry once) and which are real errors. */
import assert from 'node:assert/strict';
import { SdkErrorCode, SdkHttpError, type Client } from '@modelcontextprotocol/client';
import { isSessionLost } from '../../../service/src/gateway/connection/upstream-error-mapper.js';

const client = (sessionId?: string) => ({ transport: { sessionId } }) as unknown as Client;
const http = (status: number, text: string) => new SdkHttpError(SdkErrorCode.ClientHttpNotImplemented, `Error POSTing to endpoint: ${text}`, { status, text });

describe('federation: a lost upstream session', () => {
  it('is a 404, or a 400 naming the session, on a request that carried a session id', () => {
    assert.equal(isSessionLost(http(404, '{"error":{"message":"Session not found"}}'), client('s1')), true);
    assert.equal(
      isSessionLost(http(400, '{"jsonrpc":"2.0","error":{"code":-32000,"message":"Bad Request: No valid session ID provided"}}'), client('s1')),
      true,
    );
    assert.equal(isSessionLost(http(400, 'Bad Request: Mcp-Session-Id header is required'), client('s1')), true);
  });

  it('is not a 400 about something else, any answer to a sessionless request, or a non-HTTP error', () => {
    assert.equal(isSessionLost(http(400, '{"error":{"message":"Parse error"}}'), client('s1')), false);
    assert.equal(isSessionLost(http(400, 'Bad Request: No valid session ID provided'), client(undefined)), false);
    assert.equal(isSessionLost(http(404, 'not found'), client(undefined)), false);
    assert.equal(isSessionLost(http(500, 'session store down'), client('s1')), false);
    assert.equal(isSessionLost(new Error('No valid session ID provided'), client('s1')), false);
  });
});
