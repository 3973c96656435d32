/**
 * The MCP tool-name rule (SEP-986, "Tool Names" in the 2025-11-25 and 2026-07-28 specifications): 1 to
 * 128 characters, case-sensitive, only ASCII letters, digits, `_`, `-` and `.`. The SDK checks the same
 * pattern when a server registers a tool (and only warns); the gateway enforces it on every name it
 * exposes, since a federated name is built from two parts the tenant and the upstream chose.
 *
 * Pure: no I/O, no imports.
 */

/** Longest tool name, in characters. */
export const MAX_TOOL_NAME_LENGTH = 128;

/** A conforming tool name. */
export const TOOL_NAME_PATTERN = /^[A-Za-z0-9._-]{1,128}$/;

/** Why `name` breaks the rule (`length` or `characters`), or undefined when it conforms. */
export function toolNameProblem(name: string): 'length' | 'characters' | undefined {
  if (name.length === 0 || name.length > MAX_TOOL_NAME_LENGTH) return 'length';
  return TOOL_NAME_PATTERN.test(name) ? undefined : 'characters';
}
