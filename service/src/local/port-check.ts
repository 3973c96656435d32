/** `npm start`'s port: 8080 unless PORT says otherwise, checked before anything else starts. */
import { createServer } from 'node:net';

/** The port `npm start` listens on when PORT is unset: the config table's default, so saved client configs keep working. */
export const LOCAL_DEFAULT_PORT = 8080;

/** Thrown when the chosen port is taken; its message is the one line `npm start` prints. */
export class PortInUseError extends Error {
  constructor(
    readonly host: string,
    readonly port: number,
  ) {
    super(
      `port ${port} on ${host} is already in use (another npm start, or another server): stop it, or choose another port with PORT=<port> (PORT=0 picks any free port)`,
    );
    this.name = 'PortInUseError';
  }
}

/** True when `err` is the listen error of a taken port. */
export function isAddressInUse(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'EADDRINUSE';
}

/**
 * Rejects with PortInUseError when `port` cannot be bound on `host` right now (port 0 always can). A check
 * before the databases start, so a taken port costs one line instead of a slow start and a stack trace; the
 * gateway's own listen error is mapped the same way for the race that remains.
 */
export function assertPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.once('error', (err) => reject(isAddressInUse(err) ? new PortInUseError(host, port) : err));
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}
