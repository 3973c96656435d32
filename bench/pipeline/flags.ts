/** Command-line flags of the pipeline bench (`npm run bench -- --duration 3 ...`), defaults resolved and checked once. */
import { parseArgs } from 'node:util';

/** Resolved settings of one run. */
export interface PipelineFlags {
  /** wrk seconds per throughput round and target (row 1). @defaultValue 6 */
  readonly durationS: number;
  /** Throughput rounds, gateway and baseline alternated; the best round of each is kept. @defaultValue 2 */
  readonly rounds: number;
  /** wrk connections (rows 1 and 4). @defaultValue 32 */
  readonly connections: number;
  /** Seconds of load before the loaded RSS is read (row 4). @defaultValue 15 */
  readonly loadS: number;
  /** Sequential calls per kind (rows 2 and 3), after `warmup` rounds. @defaultValue 1000 */
  readonly calls: number;
  /** Warm-up rounds of the sequential calls. @defaultValue 200 */
  readonly warmup: number;
  /** No-op tasks (row 5). @defaultValue 300 */
  readonly tasks: number;
  /** Concurrent task submitters (row 5). @defaultValue 16 */
  readonly taskClients: number;
  /** Jobs one worker (and the bare BullMQ consumer) runs at the same time. @defaultValue 8 */
  readonly workerConcurrency: number;
  /** Where pipeline.json and pipeline-goals.svg go. @defaultValue bench/results */
  readonly out: string;
}

const USAGE =
  'npm run bench -- [--duration S] [--rounds N] [--connections N] [--load-s S] [--calls N] [--warmup N] [--tasks N] [--task-clients N] [--worker-concurrency N] [--out DIR]';

/** Parses `argv` (without node and the script). Throws naming the flag on a bad value. */
export function parseFlags(argv: string[], defaultOut: string): PipelineFlags {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: '6' },
      rounds: { type: 'string', default: '2' },
      connections: { type: 'string', default: '32' },
      'load-s': { type: 'string', default: '15' },
      calls: { type: 'string', default: '1000' },
      warmup: { type: 'string', default: '200' },
      tasks: { type: 'string', default: '300' },
      'task-clients': { type: 'string', default: '16' },
      'worker-concurrency': { type: 'string', default: '8' },
      out: { type: 'string', default: defaultOut },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const int = (name: keyof typeof values, min: number) => {
    const n = Number(values[name]);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got ${String(values[name])}\n${USAGE}`);
    return n;
  };
  return {
    durationS: int('duration', 1),
    rounds: int('rounds', 1),
    connections: int('connections', 2),
    loadS: int('load-s', 1),
    calls: int('calls', 10),
    warmup: int('warmup', 0),
    tasks: int('tasks', 1),
    taskClients: int('task-clients', 1),
    workerConcurrency: int('worker-concurrency', 1),
    out: values.out!,
  };
}
