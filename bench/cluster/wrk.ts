/**
 * Throughput runs with wrk (Debian package, found or installed by system-tools): one POST body and header
 * set per run through a Lua script, fixed connections and duration; parses requests/s, the latency
 * percentiles of `--latency` and the count of non-2xx answers.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** One wrk result. */
export interface WrkResult {
  rps: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  requests: number;
  errors: number;
  non2xx: number;
}

function ms(v: string, unit: string): number {
  const n = Number(v);
  return unit === 'us' ? n / 1000 : unit === 's' ? n * 1000 : unit === 'm' ? n * 60_000 : n;
}

/** Parses wrk's text output. */
export function parseWrk(out: string): WrkResult {
  const pct = (p: string) => {
    const m = new RegExp(`\\s${p}%\\s+([\\d.]+)(us|ms|s|m)\\b`).exec(out);
    return m ? ms(m[1]!, m[2]!) : NaN;
  };
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const errLine = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = errLine ? errLine.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
  return { rps, p50Ms: pct('50'), p90Ms: pct('90'), p99Ms: pct('99'), requests, errors, non2xx };
}

/** Runs wrk against `url` with a POST of `body`. */
export async function wrkPost(
  wrkPath: string,
  dir: string,
  name: string,
  url: string,
  headers: Record<string, string>,
  body: string,
  opts: { connections: number; durationS: number },
): Promise<WrkResult> {
  const script = join(dir, `${name}.lua`);
  const h = Object.entries(headers)
    .map(([k, v]) => `wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`)
    .join('\n');
  writeFileSync(script, `wrk.method = "POST"\nwrk.body = ${JSON.stringify(body)}\n${h}\n`);
  const { stdout } = await run(
    wrkPath,
    ['-t', '1', '-c', String(opts.connections), '-d', `${opts.durationS}s`, '--timeout', '10s', '--latency', '-s', script, url],
    { timeout: (opts.durationS + 30) * 1000 },
  );
  const r = parseWrk(stdout);
  if (!Number.isFinite(r.rps)) throw new Error(`cannot parse wrk output for ${name}:\n${stdout}`);
  return r;
}
