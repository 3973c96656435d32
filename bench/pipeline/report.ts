/** The pipeline bench's rows: goals, the printed table and the goal plot (bench/cluster/svg-chart.ts). */
import { barChart } from '../cluster/svg-chart.js';

/** A goal on a row's ratio or on its value. */
export interface Goal {
  readonly on: 'ratio' | 'value';
  readonly op: '>=' | '<=';
  readonly target: number;
}

/** One row of the table. */
export interface Row {
  readonly id: string;
  readonly measure: string;
  readonly value: number;
  readonly baseline: number;
  /** value / baseline. */
  readonly ratio: number;
  readonly unit: string;
  /** What the baseline is. */
  readonly baselineName: string;
  readonly goal: Goal;
  /** Measured against the goal: x / target for `>=`, target / x for `<=`; 1 or more meets it. */
  readonly attainment: number;
  readonly met: boolean;
}

/** A row with its ratio, attainment and verdict computed. */
export function row(id: string, measure: string, value: number, baseline: number, unit: string, baselineName: string, goal: Goal): Row {
  const ratio = value / baseline;
  const x = goal.on === 'ratio' ? ratio : value;
  const attainment = goal.op === '>=' ? x / goal.target : goal.target / x;
  return { id, measure, value, baseline, ratio, unit, baselineName, goal, attainment, met: Number.isFinite(attainment) && attainment >= 1 };
}

const num = (v: number) => (!Number.isFinite(v) ? 'n/a' : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const ratioText = (v: number) => (!Number.isFinite(v) ? 'n/a' : v < 1 ? v.toFixed(3) : `${v.toFixed(2)}x`);
const goalText = (g: Goal) =>
  `${g.on === 'ratio' ? 'ratio' : 'value'} ${g.op} ${g.on === 'ratio' && g.op === '<=' ? `${g.target}x` : g.target}${g.on === 'value' ? ' MB' : ''}`;

/** The Markdown table: measure | value | baseline | ratio | goal | met? */
export function markdownTable(rows: readonly Row[]): string {
  return [
    '| # | measure | value | baseline (same run) | ratio | goal | met? |',
    '|---|---|---:|---:|---:|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.id} | ${r.measure} | ${num(r.value)} ${r.unit} | ${num(r.baseline)} ${r.unit} (${r.baselineName}) | ${ratioText(r.ratio)} | ${goalText(r.goal)} | ${r.met ? 'yes' : 'no'} |`,
    ),
  ].join('\n');
}

/** Bar chart: each row measured against its goal (1.00 = the goal; a bar reaching past it meets it). */
export function goalPlot(rows: readonly Row[], subtitle: string): string {
  return barChart(
    `Issue 17 goals, one run: measured / goal (${subtitle})`,
    rows.map((r) => ({
      label: `${r.id} ${r.goal.on === 'ratio' ? ratioText(r.ratio) : `${num(r.value)} MB`} (goal ${r.goal.op} ${r.goal.target})`,
      value: Math.round(r.attainment * 1000) / 1000,
      second: 1,
    })),
    'x goal',
    ['measured / goal', 'goal (1.00)'],
  );
}
