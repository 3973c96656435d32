/**
 * Virtual servers and access scopes (issue 20): what one caller may see of its tenant.
 *
 * A virtual server is a tenant's named selection of its tools, resources, resource templates and prompts
 * (include/exclude globs), with optional tool renames and description overrides, served at
 * `/mcp/<name>`. Scopes on API keys and OAuth tokens name virtual servers (`server:<name>`) and tools
 * (`tool:<glob>`). Both are pure data here; {@link viewFor} turns them into a {@link View}: the caller's
 * visible names and the mapping between the names it sees and the tenant's own. docs/virtual-servers.md
 * states the rules; this module is their one implementation.
 *
 * Matching: tools and prompts by name, resources by URI, resource templates by URI template. `*` matches
 * any run of characters except `/`, `**` any run including `/`, `?` one character, `{a,b}` alternatives.
 */
import picomatch from 'picomatch';

/** Virtual server names: DNS-label-like (1-63 lower-case letters, digits and inner hyphens). */
export const SERVER_NAME = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** One tool rename: the tenant's name of the tool, and the name callers of the virtual server see. */
export interface ToolRename {
  readonly from: string;
  readonly to: string;
}

/** How a virtual server lists its tools: all of them, or only the search tools (tool search, issue 20). */
export type ToolListing = 'all' | 'search';

/** A tenant's virtual server. */
export interface VirtualServer {
  readonly tenantId: string;
  readonly name: string;
  /** Globs selecting items (at least one). */
  readonly include: readonly string[];
  /** Globs removing selected items. */
  readonly exclude: readonly string[];
  readonly renames: readonly ToolRename[];
  /** Tool description overrides, by the tenant's tool name. */
  readonly descriptions: Readonly<Record<string, string>>;
  readonly toolListing: ToolListing;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** The scopes of the grammar, parsed; scopes of other shapes (e.g. OAuth `openid`) are ignored. */
export interface AccessScopes {
  /** Virtual server names (`server:<name>`). */
  readonly servers: readonly string[];
  /** Tool globs (`tool:<glob>`), matched against tool names as the caller sees them. */
  readonly tools: readonly string[];
}

/** Why a scope string is not of the grammar (undefined when it is). */
export function scopeError(scope: string): string | undefined {
  const m = /^(server|tool):(.*)$/.exec(scope);
  if (!m) return `scope "${scope}" is neither server:<name> nor tool:<name>`;
  const [, kind, value] = m as unknown as [string, 'server' | 'tool', string];
  if (kind === 'server' && !SERVER_NAME.test(value))
    return `scope "${scope}": "${value}" is not a virtual server name (1-63 lower-case letters, digits, inner hyphens)`;
  if (kind === 'tool') return globError(value, /^[A-Za-z0-9_.\-*?{},[\]!]{1,128}$/, 'a tool name or glob (A-Z a-z 0-9 _ - . and * ? { } , [ ] !)');
  return undefined;
}

/** Why `glob` is not usable (undefined when it is). */
export function globError(glob: string, allowed: RegExp = /^[^\s]{1,512}$/, what = 'a glob without whitespace, 1-512 characters'): string | undefined {
  if (!allowed.test(glob)) return `"${glob}" is not ${what}`;
  try {
    picomatch.makeRe(glob, GLOB_OPTIONS);
  } catch (err) {
    return `"${glob}" is not a valid glob: ${(err as Error).message}`;
  }
  return undefined;
}

/** The server and tool scopes among `scopes`. */
export function parseScopes(scopes: readonly string[]): AccessScopes {
  const servers: string[] = [];
  const tools: string[] = [];
  for (const s of scopes) {
    if (s.startsWith('server:') && SERVER_NAME.test(s.slice(7))) servers.push(s.slice(7));
    else if (s.startsWith('tool:') && s.length > 5) tools.push(s.slice(5));
  }
  return { servers, tools };
}

/** True when the scopes restrict anything (a caller without such scopes has the whole tenant). */
export function restricts(scopes: AccessScopes): boolean {
  return scopes.servers.length > 0 || scopes.tools.length > 0;
}

const GLOB_OPTIONS = { dot: true, nonegate: true, strictBrackets: true } as const;
type Matcher = (name: string) => boolean;
const NONE: Matcher = () => false;

function anyOf(globs: readonly string[]): Matcher {
  if (globs.length === 0) return NONE;
  try {
    const matchers = globs.map((g) => picomatch(g, GLOB_OPTIONS));
    return (name) => matchers.some((m) => m(name));
  } catch {
    return NONE; // validated at creation; a stored glob that no longer compiles selects nothing
  }
}

/** Whether a virtual server selects a name: some include matches and no exclude does. */
export function selector(server: Pick<VirtualServer, 'include' | 'exclude'>): Matcher {
  const inc = anyOf(server.include);
  const exc = anyOf(server.exclude);
  return (name) => inc(name) && !exc(name);
}

/** A tool as one caller sees it. */
export interface ExposedTool {
  readonly name: string;
  readonly description?: string;
}

/**
 * What one caller sees of its tenant: built for a request from its scopes and the virtual server it is
 * served by. Names going out are mapped by {@link tool}; names coming in by {@link toolOriginal}.
 */
export interface View {
  /** The virtual server the caller is served by, if any. */
  readonly server?: VirtualServer;
  /** The tool with the tenant's name `name` as the caller sees it, or undefined when hidden. */
  tool(name: string): ExposedTool | undefined;
  /**
   * The tenant's name of the tool the caller calls `name`, or undefined when the caller sees no such tool
   * (hidden, unknown, or the old name of a renamed tool: all answer alike).
   */
  toolOriginal(name: string): string | undefined;
  /** Whether the tenant's tool `name` is visible (by its tenant name, renames aside): the pipeline's check. */
  toolVisible(name: string): boolean;
  prompt(name: string): boolean;
  resource(uri: string): boolean;
  template(uriTemplate: string): boolean;
}

/**
 * The view of a caller with `scopes` served by `server` (undefined: the whole tenant). Rules:
 * - a virtual server selects what its include/exclude globs select, tools shown under their renamed names;
 * - `tool:` scopes narrow tools to those whose name as the caller sees it matches one of them;
 * - a caller with `tool:` scopes but no `server:` scope sees tools only (no resources, templates or prompts):
 *   scopes grant, and a tool scope grants tools;
 * - a renamed tool's old name is not callable through the server; a rename wins over a tool of that name.
 * Callers without scopes served by no server get no view at all (everything; no filtering cost).
 */
export function viewFor(scopes: AccessScopes, server: VirtualServer | undefined): View {
  const selected: Matcher = server ? selector(server) : () => true;
  const toolScoped = scopes.tools.length > 0 ? anyOf(scopes.tools) : () => true;
  const othersVisible = scopes.tools.length === 0 || scopes.servers.length > 0;
  const renamedTo = new Map<string, string>();
  const renamedFrom = new Map<string, string>();
  for (const r of server?.renames ?? []) {
    renamedTo.set(r.from, r.to);
    renamedFrom.set(r.to, r.from);
  }
  const descriptions = server?.descriptions ?? {};
  const exposedName = (name: string) => renamedTo.get(name) ?? name;
  const toolVisible = (name: string) => selected(name) && toolScoped(exposedName(name));
  return {
    ...(server && { server }),
    tool(name) {
      if (!toolVisible(name)) return undefined;
      // A tool whose own name is another tool's new name is shadowed by the renamed one.
      if (!renamedTo.has(name) && renamedFrom.has(name)) return undefined;
      const description = Object.prototype.hasOwnProperty.call(descriptions, name) ? descriptions[name] : undefined;
      return { name: exposedName(name), ...(description !== undefined && { description }) };
    },
    toolOriginal(name) {
      const original = renamedFrom.get(name) ?? (renamedTo.has(name) ? undefined : name);
      return original !== undefined && toolVisible(original) ? original : undefined;
    },
    toolVisible,
    prompt: (name) => othersVisible && selected(name),
    resource: (uri) => othersVisible && selected(uri),
    template: (uriTemplate) => othersVisible && selected(uriTemplate),
  };
}
