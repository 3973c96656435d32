/**
 * Input request keys across a 2025-era hop.
 *
 * A 2026-07-28 `input_required` result names each question (`inputRequests: { user_name: … }`) and the
 * client answers under those names. A 2025-era session has no such names: the same question travels as
 * a bare `elicitation/create` (or `sampling/createMessage`, `roots/list`) request. When a gateway
 * federates an MRTR-native server over a 2025-era session and then offers that question to a
 * 2026-07-28 caller, it would have to invent a name, and the caller would see `upstream_input_1` where a
 * direct call shows `user_name`.
 *
 * So the platform's 2025-era sessions carry the name along: every question the SDK's legacy shim sends
 * for a handler's `input_required` result gets `_meta["umcp.dev/input-key"]` = the handler's key
 * (service/src/mcp/input-keys.ts stamps it). A gateway that reads it (service/src/gateway/pending-inputs.ts)
 * offers the question under that key; peers that do not know the key ignore it, as `_meta` allows.
 *
 * Pure functions on request params: no I/O.
 */
import { INPUT_KEY_META } from './meta-keys.js';

/** What a key may look like to be used as given (anything else gets a generated one). */
const KEY = /^[A-Za-z0-9_.:-]{1,64}$/;

/** The key a question names for itself, if it names a usable one. */
export function inputKeyHint(params: Record<string, unknown>): string | undefined {
  const hint = (params['_meta'] as Record<string, unknown> | undefined)?.[INPUT_KEY_META];
  return typeof hint === 'string' && KEY.test(hint) ? hint : undefined;
}

/** The question (request params) named `key`. */
export function withInputKeyHint(params: Record<string, unknown> | undefined, key: string): Record<string, unknown> {
  return { ...params, _meta: { ...((params?.['_meta'] as object | undefined) ?? {}), [INPUT_KEY_META]: key } };
}

/** The question without the key hint (it has been turned into the `inputRequests` key). */
export function withoutInputKeyHint(params: Record<string, unknown>): Record<string, unknown> {
  const meta = params['_meta'] as Record<string, unknown> | undefined;
  if (!meta || !(INPUT_KEY_META in meta)) return params;
  const { [INPUT_KEY_META]: _hint, ...rest } = meta;
  const { _meta: _old, ...others } = params;
  return Object.keys(rest).length ? { ...others, _meta: rest } : others;
}
