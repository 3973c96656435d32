/**
 * `npm run admin -- tenants move <tenant> --to <shard>`, `tenants shard <tenant>` and `shards list`: the
 * data layer's CLI verbs, a thin client of /admin/v1/shards and /admin/v1/tenants/:tenant/{shard,move}.
 */
import { printer, type CommandRunner } from './admin-client.js';

/** Options parseArgs must know for these verbs (merged into the CLI's option table). */
export const SHARD_CLI_OPTIONS = {
  to: { type: 'string' },
} as const;

/** Usage lines of these verbs (appended to the CLI's usage). */
export const SHARD_USAGE = `  tenants move <tenant> --to <shard>      move a tenant's data to another shard (copy, catch up, brief write freeze, switch, verify)
  tenants shard <tenant>                  show the tenant's shard placement
  shards list                             list shards with region and tenant count`;

interface ShardJson {
  id: string;
  region: string;
  writerUrl: string;
  readerUrls: string[];
  accepting: boolean;
  tenants: number;
}
interface MoveJson {
  tenantId: string;
  from: string;
  to: string;
  rows: Record<string, number>;
  catchUpPasses: number;
  freezeMs: number;
  totalMs: number;
  purged: number;
}

/** Runs a shard verb; false when `positionals` is not one of them. */
export const runShardCommand: CommandRunner = async (api, positionals, values, out, usage) => {
  const [group, verb, ...args] = positionals;
  const print = printer(values.json, out);
  if (group === 'shards' && verb === 'list') {
    if (args.length) throw usage('shards list takes no arguments');
    const r = (await api.call('GET', '/shards')) as { shards: ShardJson[] };
    print(r, () =>
      r.shards.forEach((s) => out(`${s.id}\t${s.region}\t${s.tenants} tenant(s)\t${s.readerUrls.length} reader(s)${s.accepting ? '' : '\tnot accepting'}`)),
    );
    return true;
  }
  if (group === 'tenants' && verb === 'shard') {
    if (args.length !== 1) throw usage('expected tenants shard <tenant>');
    const r = (await api.call('GET', `/tenants/${encodeURIComponent(args[0]!)}/shard`)) as { placement: { shardId: string; state: string; epoch: number } };
    print(r, () => out(`${r.placement.shardId}\t${r.placement.state}\tepoch ${r.placement.epoch}`));
    return true;
  }
  if (group === 'tenants' && verb === 'move') {
    const to = values.to;
    if (args.length !== 1 || typeof to !== 'string' || !to) throw usage('expected tenants move <tenant> --to <shard>');
    const r = (await api.call('POST', `/tenants/${encodeURIComponent(args[0]!)}/move`, { toShard: to })) as { move: MoveJson };
    const m = r.move;
    print(r, () =>
      out(
        `moved ${args[0]} from ${m.from} to ${m.to} in ${m.totalMs} ms (writes frozen ${m.freezeMs} ms, ${m.catchUpPasses} pass(es), rows ${JSON.stringify(m.rows)})`,
      ),
    );
    return true;
  }
  return false;
};
