/**
 * The secondary reads its primary through a StackReference: the stack name it derives, and the mocks'
 * canned answer for that reference agreeing with what the primary really exports under mocks (so a mocked
 * secondary sees the same values a deployed one would).
 */
import assert from 'node:assert/strict';
import { PEER_OUTPUTS, peerStackName } from '../../../infra/regional/peer/index.js';
import { checkVpcPeeringArgs } from '../../../infra/regional/peer/index.js';
import { peerOutputsForMocks } from '../../../infra/tools/mock-peer-outputs.js';
import { runStack } from '../support/stacks.js';

describe('peer stack (secondary reads primary)', () => {
  it('names the primary <org>/<project>/<environment>-<peerRegion>, or the peerStack override', () => {
    assert.equal(peerStackName({ environment: 'prod', peerRegion: 'us-east-1' }, 'acme', 'unified-mcp'), 'acme/unified-mcp/prod-us-east-1');
    assert.equal(peerStackName({ environment: 'prod', peerRegion: 'us-east-1', peerStack: 'o/p/s' }, 'acme', 'unified-mcp'), 'o/p/s');
    assert.throws(() => peerStackName({ environment: 'prod' }, 'acme', 'unified-mcp'), /no peerRegion/);
  });

  it('the mocked StackReference answers exactly what the primary exports under mocks', async () => {
    const primary = await runStack('prod-us-east-1');
    const canned = peerOutputsForMocks('organization/unified-mcp/prod-us-east-1');
    for (const output of Object.values(PEER_OUTPUTS)) {
      if (output === 'region') continue; // from the global stack's canned outputs, same value
      assert.deepEqual(canned[output], primary.outputs[output], `output ${output}`);
    }
    assert.deepEqual(peerOutputsForMocks('organization/unified-mcp/dev'), {}, 'no peer outputs without a peer');
  });

  it('rejects peering of overlapping VPCs', () => {
    const base = {
      vpcId: 'v',
      cidr: '10.1.0.0/16',
      routeTableIds: [],
      peerRegion: 'us-east-1',
      peerVpcId: 'p',
      peerRouteTableIds: [],
      peerRouteTableCount: 3,
      peerProvider: undefined as never,
    };
    assert.match(checkVpcPeeringArgs({ ...base, peerCidr: '10.1.0.0/16' })!, /disjoint/);
    assert.match(checkVpcPeeringArgs({ ...base, peerCidr: '10.1.128.0/17' })!, /10\.1\.128\.0\/17 overlaps this VPC's CIDR 10\.1\.0\.0\/16/);
    assert.equal(checkVpcPeeringArgs({ ...base, peerCidr: '10.2.0.0/16' }), undefined);
  });
});
