/**
 * Finds the Debian-packaged programs the cluster and the bench need (nginx, wrk), installing them with
 * apt-get when they are missing and this process may do so. Says which happened; fails with one clear
 * message when neither works.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Where a tool came from. */
export interface ToolLocation {
  readonly path: string;
  readonly how: 'found' | 'installed';
}

const SEARCH = ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin', '/sbin', '/bin'];

function locate(binary: string): string | undefined {
  const which = spawnSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' });
  const found = which.status === 0 ? which.stdout.trim() : '';
  if (found) return found;
  return SEARCH.map((d) => `${d}/${binary}`).find((p) => existsSync(p));
}

let updated = false;

/**
 * Returns the path of `binary`, installing Debian package `pkg` when it is missing (needs root and
 * apt-get). `log` receives progress lines.
 */
export function ensureTool(binary: string, pkg: string, log: (line: string) => void = () => undefined): ToolLocation {
  const existing = locate(binary);
  if (existing) {
    log(`${binary}: found ${existing}`);
    return { path: existing, how: 'found' };
  }
  const canInstall = process.getuid?.() === 0 && !!locate('apt-get');
  if (!canInstall) {
    throw new Error(`${binary} is not installed and this process cannot install it (needs root and apt-get). Install it with: sudo apt-get install -y ${pkg}`);
  }
  try {
    if (!updated) {
      log(`${binary}: not found; running apt-get update`);
      execFileSync('apt-get', ['update'], { stdio: 'ignore', timeout: 180_000 });
      updated = true;
    }
    log(`${binary}: installing Debian package ${pkg} (apt-get install -y ${pkg})`);
    execFileSync('apt-get', ['install', '-y', '--no-install-recommends', pkg], {
      stdio: 'ignore',
      timeout: 300_000,
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  } catch (err) {
    throw new Error(
      `${binary} is missing and 'apt-get install -y ${pkg}' failed (${err instanceof Error ? err.message.split('\n')[0] : String(err)}). Install it by hand and retry.`,
    );
  }
  const path = locate(binary);
  if (!path) throw new Error(`apt-get installed ${pkg} but ${binary} is still not on PATH`);
  log(`${binary}: installed ${path}`);
  return { path, how: 'installed' };
}

/** The PostgreSQL server bindir (pg_config --bindir), checked for initdb, pg_ctl and pg_basebackup. */
export function postgresBindir(): string {
  let dir: string;
  try {
    dir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('pg_config not found: install the PostgreSQL server package (e.g. apt-get install -y postgresql-15)');
  }
  for (const b of ['initdb', 'pg_ctl', 'pg_basebackup', 'postgres']) {
    if (!existsSync(`${dir}/${b}`)) throw new Error(`${dir}/${b} is missing: install the PostgreSQL server package (postgresql-15)`);
  }
  return dir;
}
