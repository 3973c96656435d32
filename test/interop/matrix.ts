/**
 * The interop matrix's vocabulary: the capabilities every client is driven through, a cell's verdict, and
 * the helpers a client driver uses to turn one check into a cell (bounded in time, never throwing).
 */

/** What each client is asked to do against the local platform, in table order. */
export const CAPABILITIES = ['connect', 'tools/list', 'built-in call', 'federated call', 'progress', 'cancellation', 'error', 'tasks', 'tasks/list'] as const;
export type Capability = (typeof CAPABILITIES)[number];

/**
 * A cell's verdict. `by-design`: the client cannot do this at all (the note says why); `known-fail`: a
 * platform bug already filed (the note names it), not counted as a failure until it passes;
 * `not-installed`: the client's package is missing (the note says why), counted as a failure.
 */
export type Status = 'pass' | 'fail' | 'by-design' | 'known-fail' | 'not-installed';

export interface Cell {
  readonly status: Status;
  readonly note?: string;
}

/** One client (or one mode of a client) and its cells. */
export interface ClientRow {
  readonly id: string;
  readonly label: string;
  /** npm package and pinned version. */
  readonly pkg: string;
  readonly version: string;
  /** How it is driven (mode, transport). */
  readonly how: string;
  /** The protocol revision the session ended up on, when the client tells. */
  negotiated?: string;
  readonly cells: Partial<Record<Capability, Cell>>;
}

/** What a driver gets: the platform under test and the upstream behind it. */
export interface Target {
  readonly mcpUrl: string;
  readonly apiKey: string;
  /** JSON-RPC messages the gateway sent to the federated upstream (server-everything), in order. */
  readonly upstreamSent: readonly { method?: string; id?: unknown; params?: Record<string, unknown> }[];
  /** A scratch directory the driver may use as HOME / config dir. */
  readonly scratch: string;
}

/** Known platform bugs, by client id and capability: the cell says `known-fail` with this note while it fails. */
export const KNOWN_FAILURES: Record<string, Partial<Record<Capability, string>>> = {};

export const pass = (note?: string): Cell => (note ? { status: 'pass', note } : { status: 'pass' });
export const byDesign = (note: string): Cell => ({ status: 'by-design', note });

/** Thrown by a check for a failed expectation; its message becomes the cell's note. */
export class CheckFailed extends Error {}

/** Thrown by a check that found the client cannot do this at all; its message is the reason. */
export class ByDesign extends Error {}

export function expect(cond: unknown, message: string): asserts cond {
  if (!cond) throw new CheckFailed(message);
}

/**
 * Runs one check with a deadline: a resolved note (or nothing) is a pass, a throw a fail whose note is
 * the error's message. A known failure that fails stays `known-fail`; one that passes is a pass (and the
 * runner asks for its entry to be removed).
 */
export async function check(row: ClientRow, cap: Capability, fn: () => Promise<string | void>, timeoutMs = 30_000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const note = await Promise.race([
      fn(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new CheckFailed(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    row.cells[cap] = pass(note || undefined);
    return true;
  } catch (err) {
    if (err instanceof ByDesign) {
      row.cells[cap] = byDesign(err.message);
      return false;
    }
    const message = (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 300);
    const known = KNOWN_FAILURES[row.id]?.[cap];
    row.cells[cap] = known ? { status: 'known-fail', note: `${known}; got: ${message}` } : { status: 'fail', note: message };
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** Waits until `cond()` holds, polling; throws CheckFailed naming `what` after `ms`. */
export async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new CheckFailed(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The text of a tool result's first content block. */
export const textOf = (r: unknown): string => ((r as { content?: { text?: string }[] }).content ?? [])[0]?.text ?? '';

/** The long federated call the cancellation checks abort: server-everything's, 10 s in 10 steps. */
export const LONG_FEDERATED = { name: 'ev__trigger-long-running-operation', arguments: { duration: 10, steps: 10 } } as const;

/**
 * Verifies a cancellation reached the upstream: after `from` (an index into `sent`), the gateway sent the
 * upstream its tools/call of the long operation and then notifications/cancelled for that request id.
 */
export async function upstreamCancelled(t: Target, from: number, within = 5_000): Promise<void> {
  const call = () => t.upstreamSent.slice(from).find((m) => m.method === 'tools/call' && m.params?.name === 'trigger-long-running-operation');
  await until(() => call() !== undefined, within, 'the long call to reach the upstream');
  const id = call()!.id;
  await until(
    () => t.upstreamSent.slice(from).some((m) => m.method === 'notifications/cancelled' && m.params?.requestId === id),
    within,
    `notifications/cancelled for upstream request ${String(id)}`,
  );
}
