/**
 * The soak's verdict from its samples: latency p99 per minute against the first minute, the RSS trend
 * over the second half of the load (least-squares slope, MB/min, per gateway), and the RSS after the
 * load against the baseline before it.
 */
import { quantile } from '../../test/e2e/load/http-load.js';

/** The q-quantile of `values` (nearest rank): the load helpers' own. */
export { quantile };

/** Least-squares slope of y over x. */
export function slope(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return NaN;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? NaN : num / den;
}

/** The median of `values`. */
export const median = (values: readonly number[]) => quantile(values, 0.5);
