/**
 * Adapter for the one private SDK member an upstream connection touches. The SDK 2.x Protocol numbers a
 * client's requests from 0 (`_requestMessageId`) and offers no option to start elsewhere; a client that
 * joins another client's upstream session needs a distant start (see below). Kept here, alone, so the
 * private access is in one place until the SDK has a seam for it.
 */
import { randomInt } from 'node:crypto';
import type { Client } from '@modelcontextprotocol/client';

/** Makes `client` (joining an existing upstream session) number its requests far from the session creator's. */
export function numberRequestsApart(client: Client): void {
  // All clients in one upstream session share its JSON-RPC id space (the server routes each response
  // by id), so a joining client numbers its requests from a random point far from the creator's,
  // which counts from 0 (SDK 2.x Protocol counter).
  (client as unknown as { _requestMessageId: number })._requestMessageId = randomInt(2 ** 40, 2 ** 40 + 2 ** 47);
}
