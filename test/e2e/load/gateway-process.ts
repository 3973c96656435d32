/**
 * Starts gateway-child.ts as its own process and reads its JSON line: the flood suite's gateway.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The running child. */
export interface GatewayProcess {
  readonly url: string;
  readonly mcpUrl: string;
  readonly calm: string;
  readonly loud: string;
  readonly pid: number;
  stop(): Promise<void>;
}

/** Spawns the gateway with `env` (configuration keys) and waits until it serves. */
export async function startGatewayProcess(env: Record<string, string>): Promise<GatewayProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./gateway-child.ts', import.meta.url))], {
    // GATEWAY_NODE_OPTIONS (e.g. `--cpu-prof --cpu-prof-dir=...`) applies to the gateway alone: profile before optimising.
    env: { ...process.env, GATEWAY_ENV: JSON.stringify(env), ...(process.env.GATEWAY_NODE_OPTIONS && { NODE_OPTIONS: process.env.GATEWAY_NODE_OPTIONS }) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const info = await new Promise<Omit<GatewayProcess, 'stop'>>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line) as Omit<GatewayProcess, 'stop'>);
    });
    child.once('exit', (code) => reject(new Error(`gateway child exited (${code}) before serving`)));
  });
  return {
    ...info,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/** The calm client (calm-child.ts) as its own process; `stop()` ends it and returns what it saw. */
export function startCalmClient(mcpUrl: string, key: string, rate: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./calm-child.ts', import.meta.url))], {
    env: { ...process.env, MCP_URL: mcpUrl, CALM_KEY: key, CALM_RATE: String(rate) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const samples: { t: number; ms: number }[] = [];
  const failures: { t: number; what: string }[] = [];
  let buf = '';
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const [kind, t, ...rest] = line.split(' ');
      if (kind === 'ok') samples.push({ t: Number(t), ms: Number(rest[0]) });
      else if (kind === 'fail') failures.push({ t: Number(t), what: rest.join(' ') });
    }
  });
  return {
    samples,
    failures,
    async stop(): Promise<void> {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.stdin.end();
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
