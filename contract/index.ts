/**
 * The few names both halves of the product rely on: the service emits them, the Pulumi program
 * (probes, alerts, KEDA trigger, Cloudflare monitors) reads them. service/ and infra/ never import each
 * other; both import this module.
 */
export const HTTP = {
  /** Port the gateway listens on inside its container (PORT): /mcp, the admin API, health and /metrics. */
  containerPort: 8080,
  /**
   * Port of the worker's only listener (WORKER_METRICS_PORT): /healthz, /readyz and /metrics. The worker
   * serves nothing on containerPort; its Deployment declares, probes and scrapes this one.
   */
  workerPort: 9464,
  mcpPath: '/mcp',
  livenessPath: '/healthz',
  readinessPath: '/readyz',
  metricsPath: '/metrics',
  adminPrefix: '/admin/v1',
  protectedResourceMetadataPath: '/.well-known/oauth-protected-resource',
} as const;

/** Prometheus metric names (prom-client), used by dashboards, PrometheusRule alerts and HPA. */
export const METRICS = {
  httpRequests: 'umcp_http_requests_total',
  httpDuration: 'umcp_http_request_duration_seconds',
  mcpRequests: 'umcp_mcp_requests_total',
  mcpDuration: 'umcp_mcp_request_duration_seconds',
  activeSessions: 'umcp_active_sessions',
  openSseStreams: 'umcp_open_sse_streams',
  toolCallsPassedThrough: 'umcp_tool_calls_passed_through_total',
  toolCallsDirect: 'umcp_tool_calls_direct_total',
  upstreamToolsRejected: 'umcp_upstream_tools_rejected_total',
  pgPoolTotal: 'umcp_pg_pool_total',
  pgPoolIdle: 'umcp_pg_pool_idle',
  pgPoolWaiting: 'umcp_pg_pool_waiting',
  queueWaiting: 'umcp_queue_waiting',
  queueActive: 'umcp_queue_active',
  queueDelayed: 'umcp_queue_delayed',
  queueOldestWaitingAge: 'umcp_queue_oldest_waiting_age_seconds',
  dlqSize: 'umcp_dlq_size',
  jobDuration: 'umcp_job_duration_seconds',
  jobRetries: 'umcp_job_retries_total',
  replicationLag: 'umcp_pg_replication_lag_seconds',
  /** Units consumed per limit (labels: limit_id, limit, kind). */
  limitConsumed: 'umcp_limit_consumed_total',
  /** Calls/requests past a limit (labels: limit_id, limit, kind, action: reject = refused, log = let through). */
  limitRefusals: 'umcp_limit_refusals_total',
  /** Counter reads that failed (Redis down or slow; labels: outcome allowed = failed open, refused = failed closed). */
  limitCounterErrors: 'umcp_limit_counter_errors_total',
  /** Per-user upstream credentials (docs/per-user-credentials.md), by `outcome`. */
  upstreamUserConsents: 'umcp_upstream_user_consents_total',
  upstreamUserTokenRefreshes: 'umcp_upstream_user_token_refreshes_total',
  upstreamTokenExchanges: 'umcp_upstream_token_exchanges_total',
} as const;

/** The BullMQ queue the worker tier consumes; KEDA's redis trigger reads the wait list `bull:<name>:wait`. */
export const QUEUE = {
  name: 'umcp-tasks',
  deadLetterName: 'umcp-tasks-dlq',
  /** BullMQ default prefix. */
  prefix: 'bull',
} as const;
