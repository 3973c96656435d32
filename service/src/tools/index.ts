/** Built-in toolsets: the registry and the toolset contract. */
export { BUILTIN_TOOLSETS, DEFAULT_TOOLSETS, knownToolsets, resolveToolsets } from './registry.js';
export { builtinNames } from './builtin-names.js';
export type { DeploymentInfo, RequestStateMinter, Toolset, ToolsetContext } from './types.js';
