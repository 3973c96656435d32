/**
 * Small builders for Cloudflare Rules-language expressions, so the rule modules read as policy and the
 * quoting is done in one place. Header names in `http.request.headers[...]` are lower-case (Cloudflare
 * lower-cases the map keys); presence is tested on `http.request.headers.names`, lower-cased first, as
 * Cloudflare documents for "header is missing".
 */

/** A Rules-language string literal (double-quoted; `\` and `"` escaped). */
export function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

const PATH = 'http.request.uri.path';

/** The path itself or anything below it: `/mcp` matches `/mcp` and `/mcp/x`, not `/mcpx`. */
export function pathUnder(path: string): string {
  const base = path.replace(/\/+$/, '');
  return `(${PATH} eq ${quote(base)} or starts_with(${PATH}, ${quote(`${base}/`)}))`;
}

/** Any of several path prefixes (see {@link pathUnder}). */
export function pathUnderAny(paths: readonly string[]): string {
  if (paths.length === 0) throw new Error('pathUnderAny: at least one path is required');
  return `(${paths.map(pathUnder).join(' or ')})`;
}

/** The request carries header `name` (any value, any case of the name). */
export function hasHeader(name: string): string {
  return `any(lower(http.request.headers.names[*])[*] eq ${quote(name.toLowerCase())})`;
}

/** One of the values of header `name` is in `values` (case-sensitive values, as the MCP spec defines). */
export function headerIn(name: string, values: readonly string[]): string {
  if (values.length === 0) throw new Error(`headerIn(${name}): at least one value is required`);
  return `any(http.request.headers[${quote(name.toLowerCase())}][*] in {${values.map(quote).join(' ')}})`;
}

/** The HTTP method is one of `methods`. */
export function methodIn(methods: readonly string[]): string {
  return `http.request.method in {${methods.map(quote).join(' ')}}`;
}

/** True when `expr` is one parenthesised group: its first `(` closes at its last character. */
function isGrouped(expr: string): boolean {
  if (!expr.startsWith('(')) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i === expr.length - 1;
  }
  return false;
}

/** `a and b and ...`; a part with an `or` outside a group is parenthesised. */
export function and(...parts: readonly string[]): string {
  return parts.map((p) => (/\sor\s/.test(p) && !isGrouped(p) ? `(${p})` : p)).join(' and ');
}

/** `not (expr)`. */
export function not(expr: string): string {
  return `not (${expr})`;
}

/**
 * A regular expression matching decimal integers strictly greater than `limit` (leading zeros allowed).
 * Used to compare Content-Length where no numeric conversion is available: longer numbers always match,
 * numbers of the same length match when, at the first differing digit, the digit is larger.
 */
export function integerAbovePattern(limit: number): string {
  if (!Number.isSafeInteger(limit) || limit < 0) throw new RangeError(`integerAbovePattern: ${limit} is not a non-negative integer`);
  const digits = String(limit);
  const n = digits.length;
  const alternatives = [`[1-9][0-9]{${n},}`];
  for (let i = 0; i < n; i++) {
    const d = Number(digits[i]);
    if (d === 9) continue;
    const rest = n - i - 1;
    // the first digit of a same-length number cannot be 0
    const low = d + 1;
    const cls = low === 9 ? '9' : `[${low}-9]`;
    alternatives.push(`${digits.slice(0, i)}${cls}${rest > 0 ? `[0-9]{${rest}}` : ''}`);
  }
  return `^0*(${alternatives.join('|')})$`;
}
