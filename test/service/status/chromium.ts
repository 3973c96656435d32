/**
 * Finds Debian's chromium for the browser tests, installing it with apt when it is missing (the tests
 * run as root on Debian), and launches it with the flags this closed network needs.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** Path of Debian's chromium binary. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Returns CHROMIUM_PATH, running `apt-get update && apt-get install -y chromium` first if it is missing.
 * Throws a message saying what to do when that is impossible (not root, no apt, no package source).
 */
export function ensureChromium(): string {
  if (existsSync(CHROMIUM_PATH)) return CHROMIUM_PATH;
  try {
    execFileSync('sh', ['-c', 'apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium'], { stdio: 'pipe', timeout: 600_000 });
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    const detail = e.stderr?.toString().trim().split('\n').slice(-3).join(' | ') ?? e.message;
    throw new Error(
      `${CHROMIUM_PATH} is missing and installing the Debian package failed (${detail}). Install it as root: apt-get update && apt-get install -y chromium`,
    );
  }
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`apt-get installed chromium but ${CHROMIUM_PATH} does not exist`);
  return CHROMIUM_PATH;
}

/** A launched browser (its one persistent context) with a fresh profile; `close()` removes the profile. */
export interface TestBrowser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Launches headless chromium with a fresh profile (`--user-data-dir`, which playwright takes as the
 * persistent context's directory). Without the background-networking flags chromium
 * tries to reach Google services and this closed network refuses it.
 */
export async function launchChromium(): Promise<TestBrowser> {
  const executablePath = ensureChromium();
  const profile = mkdtempSync(join(tmpdir(), 'umcp-status-chromium-'));
  const context = await chromium
    .launchPersistentContext(profile, {
      executablePath,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    })
    .catch((err: unknown) => {
      rmSync(profile, { recursive: true, force: true });
      throw err;
    });
  return {
    context,
    async close() {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
