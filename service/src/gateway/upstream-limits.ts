/**
 * What the gateway accepts from an upstream, whatever it sends: the size of one HTTP answer
 * (UPSTREAM_MAX_RESPONSE_BYTES, enforced where every upstream byte arrives: dispatcher-fetch.ts) and the
 * size of its listings (UPSTREAM_MAX_TOOLS, UPSTREAM_MAX_DESCRIPTION_BYTES, enforced by the catalog).
 *
 * Process-wide: the platform core sets them once from the configuration (setUpstreamLimits); the
 * defaults are the configuration's. One process serves one configuration, so a setting rather than an
 * option threaded through every layer between the platform and the socket.
 */

/** The limits. */
export interface UpstreamLimits {
  /** Largest upstream answer read (a JSON body, a request's SSE stream, one event of a GET stream), bytes. */
  readonly maxResponseBytes: number;
  /** Tools one upstream may list. */
  readonly maxTools: number;
  /** Longest description kept (UTF-8 bytes); longer ones are cut. */
  readonly maxDescriptionBytes: number;
}

/** The configuration's defaults (service/src/config.ts). */
export const DEFAULT_UPSTREAM_LIMITS: UpstreamLimits = { maxResponseBytes: 32 * 1024 * 1024, maxTools: 5_000, maxDescriptionBytes: 64 * 1024 };

let current: UpstreamLimits = DEFAULT_UPSTREAM_LIMITS;

/** Sets the limits of this process (the platform core, from the configuration). */
export function setUpstreamLimits(limits: Partial<UpstreamLimits>): void {
  current = { ...current, ...limits };
}

/** The limits in force. */
export function upstreamLimits(): UpstreamLimits {
  return current;
}

/** An upstream answer over UPSTREAM_MAX_RESPONSE_BYTES: the read stops there and the caller gets this. */
export class UpstreamResponseTooLarge extends Error {
  constructor(
    readonly limit: number,
    what: string,
  ) {
    super(`${what} larger than ${limit} bytes (UPSTREAM_MAX_RESPONSE_BYTES); not read further`);
    this.name = 'UpstreamResponseTooLarge';
  }
}

/** The UpstreamResponseTooLarge in `err` or its causes, if any. */
export function responseTooLarge(err: unknown): UpstreamResponseTooLarge | undefined {
  for (let e = err, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof UpstreamResponseTooLarge) return e;
  }
  return undefined;
}
