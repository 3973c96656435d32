/** Built-in toolsets: the registry and the toolset contract. */
export { BUILTIN_TOOLSETS, DEFAULT_TOOLSETS, knownToolsets, resolveToolsets } from './registry.js';
export { builtinNames } from './builtin-names.js';
export { CALL_TOOL, SEARCH_ONLY_TOOLSET, SEARCH_TOOLS, SEARCH_TOOLSET, TOOL_SEARCH_NAMES } from './search.js';
export type { CallToolArgs, DeploymentInfo, RequestStateMinter, SearchToolsArgs, Toolset, ToolsetContext, ToolSearchPort } from './types.js';
