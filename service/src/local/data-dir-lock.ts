/**
 * One `npm start` per data directory. A second one on the same directory (say `PORT=0 npm start` in another
 * terminal while the first runs) would take the first one's embedded PostgreSQL and redis-server for
 * leftovers of a killed run and stop them, leaving the first gateway without its stores. The running
 * start's pid is kept in `<dir>/npm-start.pid`; a second start stops at once with one line saying so.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { commandLine, isAlive } from './process-util.js';

/** Another live `npm start` holds the data directory. */
export class DataDirInUseError extends Error {
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(
      `another npm start (pid ${pid}) is using the data directory ${dir}: stop it first (Ctrl+C in its terminal), or give this one its own directory with UMCP_DATA_DIR=<dir>`,
    );
    this.name = 'DataDirInUseError';
  }
}

/** The pid of the live `npm start` that holds `dir`, if any (a pid file left by a killed run does not count). */
export function dataDirHolder(dir: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(join(dir, 'npm-start.pid'), 'utf8').trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || !isAlive(pid)) return undefined;
  const cmd = commandLine(pid);
  // Where /proc is not available the command line is unknown: a live pid is taken as the holder.
  return cmd === '' || cmd.includes('local/main') ? pid : undefined;
}

/** Takes `dir` for this process (DataDirInUseError when another start holds it); the returned function gives it back. */
export function lockDataDir(dir: string): () => void {
  const holder = dataDirHolder(dir);
  if (holder !== undefined) throw new DataDirInUseError(dir, holder);
  const file = join(dir, 'npm-start.pid');
  writeFileSync(file, `${process.pid}\n`);
  return () => {
    try {
      if (readFileSync(file, 'utf8').trim() === String(process.pid)) rmSync(file, { force: true });
    } catch {
      // already gone
    }
  };
}
