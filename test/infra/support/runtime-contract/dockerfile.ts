/**
 * A small Dockerfile reader for the runtime contract test: what the final stage of an image runs and as
 * whom (FROM, WORKDIR, USER, EXPOSE, ENV, ENTRYPOINT, CMD). Line continuations and comments are handled;
 * ENTRYPOINT/CMD must be in exec (JSON) form, since the shell form makes /bin/sh PID 1 and SIGTERM would
 * never reach node. Only what the test needs, not a full parser (no ARG substitution, no heredocs).
 */
import { readFileSync } from 'node:fs';

/** The final stage of a Dockerfile. */
export interface ImageSpec {
  readonly file: string;
  /** Base image of the final stage, e.g. `node:22.23-bookworm-slim`. */
  readonly from: string;
  /** Absolute WORKDIR of the final stage (`/` when unset). */
  readonly workdir: string;
  /** USER of the final stage, as written (`10001`, `10001:10001`, `node`); undefined = root. */
  readonly user: string | undefined;
  /** EXPOSEd TCP ports. */
  readonly expose: number[];
  /** ENV of the final stage (and of the stages it builds FROM by name). */
  readonly env: Record<string, string>;
  readonly entrypoint: string[] | undefined;
  readonly cmd: string[] | undefined;
  /** Every instruction of the final stage: `[keyword, rest]`. */
  readonly instructions: Array<[string, string]>;
}

/** Logical lines: comments dropped, `\` continuations joined. */
function logicalLines(text: string): string[] {
  const out: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    if (/^\s*#/.test(raw) && current === '') continue;
    if (/^\s*#/.test(raw)) continue; // a comment inside a continued instruction
    const line = raw.replace(/\s+$/, '');
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    current += line;
    if (current.trim()) out.push(current.trim());
    current = '';
  }
  if (current.trim()) out.push(current.trim());
  return out;
}

function execForm(file: string, keyword: string, rest: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(rest);
  } catch {
    throw new Error(`${file}: ${keyword} ${rest} is in shell form; use the exec form (a JSON array) so node is PID 1 and receives SIGTERM`);
  }
  if (!Array.isArray(parsed) || !parsed.every((x) => typeof x === 'string')) throw new Error(`${file}: ${keyword} must be a JSON array of strings`);
  return parsed;
}

/** `A=1 B="two words"` or the legacy `A 1`. */
function parseEnv(rest: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(rest)) {
    const [k, ...v] = rest.split(/\s+/);
    out[k!] = v.join(' ');
    return out;
  }
  for (const m of rest.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|\S*)/g)) {
    const v = m[2]!;
    out[m[1]!] = v.startsWith('"') ? (JSON.parse(v) as string) : v;
  }
  return out;
}

/** Reads `file` and returns its final stage. */
export function readDockerfile(file: string): ImageSpec {
  const stages: Array<{ name?: string; from: string; instructions: Array<[string, string]> }> = [];
  for (const line of logicalLines(readFileSync(file, 'utf8'))) {
    const m = /^(\w+)\s+([\s\S]*)$/.exec(line);
    if (!m) continue;
    const keyword = m[1]!.toUpperCase();
    const rest = m[2]!.trim();
    if (keyword === 'FROM') {
      const f = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      if (!f) throw new Error(`${file}: cannot read FROM ${rest}`);
      stages.push({ from: f[1]!, ...(f[2] ? { name: f[2] } : {}), instructions: [] });
      continue;
    }
    if (!stages.length) continue; // ARG before FROM
    stages.at(-1)!.instructions.push([keyword, rest]);
  }
  if (!stages.length) throw new Error(`${file}: no FROM`);
  // The final stage inherits from a named earlier stage when it builds FROM it.
  const chain: typeof stages = [];
  for (let s: (typeof stages)[number] | undefined = stages.at(-1); s; s = stages.find((x) => x.name === s!.from)) {
    chain.unshift(s);
    if (chain.length > stages.length) break;
  }
  let workdir = '/';
  let user: string | undefined;
  const expose: number[] = [];
  const env: Record<string, string> = {};
  let entrypoint: string[] | undefined;
  let cmd: string[] | undefined;
  for (const stage of chain) {
    for (const [keyword, rest] of stage.instructions) {
      if (keyword === 'WORKDIR') workdir = rest.startsWith('/') ? rest : `${workdir.replace(/\/$/, '')}/${rest}`;
      else if (keyword === 'USER') user = rest;
      else if (keyword === 'EXPOSE') for (const p of rest.split(/\s+/)) expose.push(Number(p.replace(/\/tcp$/i, '')));
      else if (keyword === 'ENV') Object.assign(env, parseEnv(rest));
      else if (keyword === 'ENTRYPOINT') {
        entrypoint = execForm(file, keyword, rest);
        cmd = undefined; // Docker: setting ENTRYPOINT resets a CMD inherited from the base
      } else if (keyword === 'CMD') cmd = execForm(file, keyword, rest);
    }
  }
  return { file, from: chain[0]!.from, workdir, user, expose, env, entrypoint, cmd, instructions: stages.at(-1)!.instructions };
}

/**
 * What a Kubernetes container runs: `command` replaces ENTRYPOINT (and drops CMD), `args` replaces CMD.
 */
export function effectiveArgv(image: ImageSpec, command?: string[], args?: string[]): string[] {
  const entry = command ?? image.entrypoint ?? [];
  const rest = args ?? (command ? [] : (image.cmd ?? []));
  return [...entry, ...rest];
}

/** The numeric uid/gid of a USER instruction, or undefined when it is a name (needs /etc/passwd of the image). */
export function numericUser(user: string | undefined): { uid: number; gid: number | undefined } | undefined {
  if (user === undefined) return { uid: 0, gid: 0 };
  const m = /^(\d+)(?::(\d+))?$/.exec(user);
  return m ? { uid: Number(m[1]), gid: m[2] === undefined ? undefined : Number(m[2]) } : undefined;
}
