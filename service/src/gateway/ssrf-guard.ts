/**
 * SSRF guard for upstream URLs. Only http(s); the host name is resolved once, every address it resolves
 * to must be public (or allowlisted), and the connection is then pinned to the checked address (see
 * pinnedAgent), so a DNS answer that changes after the check (rebinding) is never used.
 *
 * Refused ranges, each with the rule name that the error carries: cloud-metadata (169.254.169.254,
 * 169.254.170.2, 100.100.100.200, fd00:ec2::254), loopback, private (RFC 1918, CGNAT, ULA), link-local,
 * unspecified, multicast, reserved. UPSTREAM_ALLOWLIST entries are host names (`api.internal`,
 * `*.corp.example`) or IPs/CIDRs (`127.0.0.0/8`, `::1`); an allowlisted host or address passes.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { Agent } from 'undici';

/** A refused upstream URL; `rule` names what refused it. */
export class SsrfError extends Error {
  constructor(
    readonly rule: string,
    message: string,
  ) {
    super(message);
    this.name = 'SsrfError';
  }
}

/** Resolves a host name to its addresses (injectable for tests). */
export type Resolver = (host: string) => Promise<{ address: string; family: 4 | 6 }[]>;

/** A checked URL and the address its connections are pinned to. */
export interface PinnedTarget {
  readonly url: URL;
  readonly address: string;
  readonly family: 4 | 6;
}

const defaultResolver: Resolver = async (host) =>
  (await dnsLookup(host, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));

function blocks(entries: [string, number, 'ipv4' | 'ipv6'][], addresses: [string, 'ipv4' | 'ipv6'][] = []): BlockList {
  const list = new BlockList();
  for (const [net, prefix, type] of entries) list.addSubnet(net, prefix, type);
  for (const [addr, type] of addresses) list.addAddress(addr, type);
  return list;
}

/** Ordered: the first matching rule names the refusal (metadata before link-local/private). */
const RULES: { rule: string; list: BlockList; what: string }[] = [
  {
    rule: 'cloud-metadata',
    what: 'a cloud metadata endpoint',
    list: blocks(
      [],
      [
        ['169.254.169.254', 'ipv4'],
        ['169.254.170.2', 'ipv4'],
        ['100.100.100.200', 'ipv4'],
        ['fd00:ec2::254', 'ipv6'],
      ],
    ),
  },
  {
    rule: 'loopback',
    what: 'a loopback address',
    list: blocks([
      ['127.0.0.0', 8, 'ipv4'],
      ['::1', 128, 'ipv6'],
    ]),
  },
  {
    rule: 'unspecified',
    what: 'an unspecified address',
    list: blocks([
      ['0.0.0.0', 8, 'ipv4'],
      ['::', 128, 'ipv6'],
    ]),
  },
  {
    rule: 'private',
    what: 'a private-network address',
    list: blocks([
      ['10.0.0.0', 8, 'ipv4'],
      ['172.16.0.0', 12, 'ipv4'],
      ['192.168.0.0', 16, 'ipv4'],
      ['100.64.0.0', 10, 'ipv4'],
      ['fc00::', 7, 'ipv6'],
    ]),
  },
  {
    rule: 'link-local',
    what: 'a link-local address',
    list: blocks([
      ['169.254.0.0', 16, 'ipv4'],
      ['fe80::', 10, 'ipv6'],
    ]),
  },
  {
    rule: 'multicast',
    what: 'a multicast address',
    list: blocks([
      ['224.0.0.0', 4, 'ipv4'],
      ['ff00::', 8, 'ipv6'],
    ]),
  },
  {
    rule: 'reserved',
    what: 'a reserved address',
    list: blocks([
      ['240.0.0.0', 4, 'ipv4'],
      ['192.0.0.0', 24, 'ipv4'],
      ['198.18.0.0', 15, 'ipv4'],
      ['192.0.2.0', 24, 'ipv4'],
      ['2001:db8::', 32, 'ipv6'],
    ]),
  },
];

/** `::ffff:a.b.c.d` -> `a.b.c.d` (a mapped IPv4 address is judged as IPv4). */
function normalise(address: string, family: 4 | 6): { address: string; family: 4 | 6 } {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m ? { address: m[1]!, family: 4 } : { address, family };
}

/** The refusing rule of an address, or undefined when it is public. */
export function classifyAddress(address: string, family: 4 | 6): { rule: string; what: string } | undefined {
  const n = normalise(address, family);
  const type = n.family === 6 ? 'ipv6' : 'ipv4';
  return RULES.find((r) => r.list.check(n.address, type));
}

/** Checks upstream URLs against the rules and the allowlist. */
export class SsrfGuard {
  private readonly hosts: string[] = [];
  private readonly wildcards: string[] = [];
  private readonly cidrs = new BlockList();

  /** @param allowlist host names, `*.suffix` patterns, IPs or CIDRs (UPSTREAM_ALLOWLIST) */
  constructor(
    allowlist: readonly string[] = [],
    private readonly resolve: Resolver = defaultResolver,
  ) {
    for (const raw of allowlist) {
      const entry = raw
        .trim()
        .toLowerCase()
        .replace(/^\[|\]$/g, '');
      if (!entry) continue;
      const [net, bits] = entry.split('/');
      const fam = isIP(net!);
      if (fam) {
        const prefix = bits === undefined ? (fam === 4 ? 32 : 128) : Number(bits);
        if (!Number.isInteger(prefix) || prefix < 0 || prefix > (fam === 4 ? 32 : 128)) throw new Error(`UPSTREAM_ALLOWLIST: bad CIDR "${raw}"`);
        this.cidrs.addSubnet(net!, prefix, fam === 4 ? 'ipv4' : 'ipv6');
      } else if (entry.startsWith('*.')) this.wildcards.push(entry.slice(1));
      else this.hosts.push(entry);
    }
  }

  /** Validates `raw`, resolves it once and returns the address to pin; throws SsrfError naming the rule. */
  async check(raw: string): Promise<PinnedTarget> {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new SsrfError('invalid-url', `"${raw}" is not a valid URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new SsrfError('scheme', `upstream URL scheme "${url.protocol.replace(/:$/, '')}" refused: only http and https are allowed`);
    }
    if (url.username || url.password) throw new SsrfError('userinfo', 'upstream URL must not carry credentials; use --header or --bearer');
    const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, '');
    const hostAllowed = this.hosts.includes(host) || this.wildcards.some((w) => host.endsWith(w));
    const fam = isIP(host);
    let answers: { address: string; family: 4 | 6 }[];
    if (fam) answers = [{ address: host, family: fam === 6 ? 6 : 4 }];
    else {
      try {
        answers = await this.resolve(host);
      } catch (err) {
        throw new SsrfError('dns', `upstream host "${host}" does not resolve (${(err as { code?: string }).code ?? 'lookup failed'})`);
      }
      if (answers.length === 0) throw new SsrfError('dns', `upstream host "${host}" does not resolve`);
    }
    for (const a of answers) {
      const n = normalise(a.address, a.family);
      if (hostAllowed || this.cidrs.check(n.address, n.family === 6 ? 'ipv6' : 'ipv4')) continue;
      const refused = classifyAddress(a.address, a.family);
      if (refused) {
        const via = fam ? '' : ` (${host} resolves to ${a.address})`;
        throw new SsrfError(
          refused.rule,
          `upstream URL refused by SSRF rule "${refused.rule}": ${a.address} is ${refused.what}${via}; add the host or a CIDR to UPSTREAM_ALLOWLIST to allow it`,
        );
      }
    }
    return { url, address: answers[0]!.address, family: answers[0]!.family };
  }
}

/** Options of pinnedAgent. */
export interface PinnedAgentOptions {
  /** Close idle keep-alive sockets after this long, ms. @defaultValue 30000 */
  readonly keepAliveMs?: number;
  /** TCP/TLS connect timeout, ms. @defaultValue 10000 */
  readonly connectTimeoutMs?: number;
  /** Sockets per origin. @defaultValue 32 */
  readonly connections?: number;
}

/**
 * An undici Agent whose every connection goes to the checked address: DNS is never consulted again
 * (no rebinding), while TLS still verifies the certificate against the URL's host name (SNI unchanged).
 */
export function pinnedAgent(target: PinnedTarget, opts: PinnedAgentOptions = {}): Agent {
  const lookup: LookupFunction = (_host, options, callback) => {
    const cb = callback as unknown as (err: Error | null, address: string | { address: string; family: number }[], family?: number) => void;
    if ((options as { all?: boolean }).all) cb(null, [{ address: target.address, family: target.family }]);
    else cb(null, target.address, target.family);
  };
  return new Agent({
    keepAliveTimeout: opts.keepAliveMs ?? 30_000,
    keepAliveMaxTimeout: Math.max(opts.keepAliveMs ?? 30_000, 60_000),
    connections: opts.connections ?? 32,
    connect: { lookup, timeout: opts.connectTimeoutMs ?? 10_000 },
  });
}
