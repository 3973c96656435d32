/** Resident set size of a process from /proc (Linux), in MB. */
import { readFileSync } from 'node:fs';

/** VmRSS of `pid` in MB (NaN when unreadable). */
export function rssMb(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round((Number(m[1]) / 1024) * 10) / 10 : NaN;
  } catch {
    return NaN;
  }
}

/** Samples the RSS of `pids` every `intervalMs` until stop() and returns the peak per pid. */
export function sampleRss(pids: number[], intervalMs = 200): { stop(): number[] } {
  const peak = pids.map((p) => rssMb(p));
  const timer = setInterval(() => pids.forEach((p, i) => (peak[i] = Math.max(peak[i]!, rssMb(p)))), intervalMs);
  return {
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}
