/** The public status page (issue 9): HTML, hashed assets, service worker and /status.json. */
export { createStatusPage, IMMUTABLE, STATUS_PATHS, type StatusPage, type StatusPageOptions } from './status-routes.js';
export type { QueueCheck, QueueStats, StatusDocument } from './status-snapshot.js';
