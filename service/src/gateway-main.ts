/**
 * `npm run gateway`: the production gateway process, configured only by environment variables (see
 * docs/service.md). Exits 1 with one line per bad key when the configuration is invalid; on SIGTERM or
 * SIGINT it drains (not ready at once), lets in-flight requests finish up to SHUTDOWN_GRACE_MS and exits 0.
 */
import { loadConfigOrExit } from './config.js';
import { startGateway } from './app.js';
import { createLogger } from './log/logger.js';
import { startTracing } from './log/tracing-sdk.js';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger({ level: config.LOG_LEVEL, base: { service: 'gateway', region: config.REGION, version: config.VERSION } });
  // A bug that escapes every handler ends the process (the orchestrator restarts it), logged as JSON first.
  const fatal = (kind: string) => (err: unknown) => {
    logger.fatal({ err }, kind);
    process.exit(1);
  };
  process.on('uncaughtException', fatal('uncaught exception'));
  process.on('unhandledRejection', fatal('unhandled rejection'));
  // OpenTelemetry (docs/tracing.md): started before anything serves, flushed after everything has stopped.
  const tracing = await startTracing(config, { defaultServiceName: 'unified-mcp-gateway', version: config.VERSION, region: config.REGION, logger });
  const gateway = await startGateway(config, { logger });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    gateway
      .close()
      .then(() => tracing?.shutdown().catch((err: unknown) => logger.warn({ err }, 'tracing: final export failed')))
      .then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  // Startup failures (database unreachable, migration error) end the process so the orchestrator restarts it.
  process.stderr.write(`gateway failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
