/**
 * Import rules of the repository (../shared/ARCHITECTURE.md, "Dependency rules"), checked by
 * `npm run lint:imports` and as the `imports` step of `npm test`. docs/service.md ("Layers") explains them.
 *
 * Layers inside service/src, top to bottom (an import may skip layers downwards, never go up or sideways):
 *
 *   entries   app.ts (the gateway's assembly), gateway-main.ts, worker-main.ts, local/, cli/
 *             may import anything; only other entries import them (tests and bench/ may too)
 *   platform/ the core both entries share (stores, federation, tasks, blobs, event bus, one cleanup);
 *             the one place that wires gateway/ into tasks/' ports
 *   config.ts the process configuration: assembles each layer's own config schema, so it sits with the
 *             composition code (entries and platform/), not below the layers it reads from
 *   http/     node:http server, auth, admin API, status page
 *   mcp/      the MCP endpoint and both protocol legs
 *   gateway/ | tasks/ | tools/   peers: none imports another (tasks/ports.ts declares what tasks need of
 *             the gateway; the platform core passes the gateway's implementation in)
 *   store/    persistence ports and adapters
 *   domain/, log/   shared types (Principal) and the logger; both may read protocol/
 *   protocol/ the wire vocabulary: pure, imports nothing of the service and no I/O module
 *
 * Every module may also read contract/ (names both halves share) and npm packages.
 */
const SRC = '^service/src/';
const ENTRY = `${SRC}(app\\.ts|gateway-main\\.ts|worker-main\\.ts|local/|cli/)`;
const layer = (name) => `${SRC}${name}/`;
/** What each layer may not import inside service/src (entries and everything above it). */
const above = {
  platform: [ENTRY, layer('http'), layer('mcp')],
  config: [ENTRY, `${SRC}platform/`, layer('http')],
  http: [ENTRY, `${SRC}platform/`, `${SRC}config\\.ts$`],
  mcp: [ENTRY, `${SRC}platform/`, `${SRC}config\\.ts$`, layer('http')],
  gateway: [ENTRY, `${SRC}platform/`, `${SRC}config\\.ts$`, layer('http'), layer('mcp'), layer('tasks'), layer('tools')],
  tasks: [ENTRY, `${SRC}platform/`, `${SRC}config\\.ts$`, layer('http'), layer('mcp'), layer('gateway'), layer('tools')],
  tools: [ENTRY, `${SRC}platform/`, `${SRC}config\\.ts$`, layer('http'), layer('mcp'), layer('gateway'), layer('tasks')],
  store: [ENTRY, `${SRC}platform/`, `${SRC}config\\.ts$`, layer('http'), layer('mcp'), layer('gateway'), layer('tasks'), layer('tools')],
  domain: [`${SRC}(?!protocol/|domain/)`],
  log: [`${SRC}(?!log/|protocol/)`],
  protocol: [`${SRC}(?!protocol/)`],
};

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'service-not-infra',
      comment: 'service/ and infra/ never import each other; both may read contract/.',
      severity: 'error',
      from: { path: '^service/' },
      to: { path: '^infra/' },
    },
    {
      name: 'infra-not-service',
      comment: 'service/ and infra/ never import each other; both may read contract/.',
      severity: 'error',
      from: { path: '^infra/' },
      to: { path: '^service/' },
    },
    {
      name: 'contract-stands-alone',
      comment: 'contract/ is read by both halves and imports neither.',
      severity: 'error',
      from: { path: '^contract/' },
      to: { path: '^(service|infra|test|bench)/' },
    },
    {
      name: 'production-not-tests',
      comment: 'Production code never imports test/ or bench/ (tests may import anything).',
      severity: 'error',
      from: { path: '^(service|infra|contract)/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'entries-only-from-entries',
      comment: 'app.ts, the *-main.ts entries, local/ and cli/ may import anything; only other entries import them.',
      severity: 'error',
      from: { path: SRC, pathNot: ENTRY },
      to: { path: ENTRY },
    },
    ...Object.entries(above).map(([name, targets]) => ({
      name: `${name}-imports-down`,
      comment: `${name === 'config' ? 'config.ts' : `${name}/`} imports only layers below it (see the header of this file).`,
      severity: 'error',
      from: { path: name === 'config' ? `${SRC}config\\.ts$` : layer(name) },
      to: { path: targets },
    })),
    {
      name: 'protocol-no-io',
      comment: 'protocol/ is pure vocabulary: no file, network or process access.',
      severity: 'error',
      from: { path: layer('protocol') },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'no-circular',
      comment: 'No import cycles (type-only imports included).',
      severity: 'error',
      from: { path: '^(service|infra|contract)/' },
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that resolves to nothing is a typo or a missing dependency.',
      severity: 'error',
      from: { path: '^(service|infra|contract)/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: ['node_modules'] },
    exclude: { path: ['(^|/)dist/', '(^|/)\\.data/'] },
    // Type-only imports count: a layer that names another layer's types depends on it.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
