/**
 * Origin access, edge half: the global stack reads each region's `originAuth` output and sets its header
 * on every proxied request (late request transform rule) and in that region's health monitor.
 */
import assert from 'node:assert/strict';
import { originAuthHeader } from '../../../infra/global/origin-access.js';
import { originAuthRules } from '../../../infra/global/origin-auth.js';
import { configFor, regionalOutputs, runUnderMocks, stackOf, T } from './harness.js';

/** The harness records raw inputs: a secret arrives wrapped as `{<sig>, value}`. */
const plain = (v: any) => (v && typeof v === 'object' && !Array.isArray(v) && 'value' in v ? v.value : v);
const auth = (region: string) => ({ header: originAuthHeader(region), value: `secret-${region}` });

describe('global origin auth', () => {
  it("sets every region's header on the MCP and pinned hostnames, and each monitor sends its own", async () => {
    const regions = ['us-east-1', 'eu-west-1'] as const;
    const run = await runUnderMocks(configFor(regions), Object.fromEntries(regions.map((r) => [stackOf(r), regionalOutputs(r, { originAuth: auth(r) })])));
    const transform = run.ofType(T.ruleset).find((r) => r.inputs.phase === 'http_request_late_transform');
    assert.ok(transform, 'a late request transform ruleset');
    const [rule] = plain(transform.inputs.rules);
    assert.equal(rule.action, 'rewrite');
    assert.deepEqual(rule.actionParameters.headers, {
      'x-umcp-origin-auth-us-east-1': { operation: 'set', value: 'secret-us-east-1' },
      'x-umcp-origin-auth-eu-west-1': { operation: 'set', value: 'secret-eu-west-1' },
    });
    assert.equal(rule.expression, 'http.host in {"eu.mcp.example.com" "mcp.example.com" "us.mcp.example.com"}');
    for (const r of regions) {
      const monitor = run.one(T.monitor, `region-${r}-monitor`);
      assert.deepEqual(monitor.inputs.header[originAuthHeader(r)], [`secret-${r}`], `${r} monitor passes its origin's check`);
    }
    assert.ok(run.outputs.originAuthRulesetId);
  });

  it('leaves regions without the output out (an origin not requiring the header)', async () => {
    const run = await runUnderMocks(configFor(['us-east-1']));
    const transform = run.ofType(T.ruleset).find((r) => r.inputs.phase === 'http_request_late_transform')!;
    assert.deepEqual(plain(transform.inputs.rules), []);
    assert.deepEqual(Object.keys(run.one(T.monitor, 'region-us-east-1-monitor').inputs.header), ['Host']);
    assert.deepEqual(originAuthRules(['a.example.com'], [undefined]), []);
  });

  it("the prod-global stack file under mocks sets both regions' headers", async () => {
    const { runStackUnderMocks } = await import('../../../infra/tools/mock-run.js');
    const r = await runStackUnderMocks('prod-global');
    const transform = r.resources.find((x) => x.type === T.ruleset && x.inputs.phase === 'http_request_late_transform')!;
    assert.deepEqual(Object.keys(transform.inputs.rules[0].actionParameters.headers).sort(), [originAuthHeader('eu-west-1'), originAuthHeader('us-east-1')]);
    assert.ok(
      transform.secretPaths?.some((p) => p.startsWith('rules')),
      'the rules carrying secrets are secret',
    );
  });
});
