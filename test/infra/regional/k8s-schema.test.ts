/**
 * Every Kubernetes object the program creates validates against the Kubernetes OpenAPI schema
 * (kubernetes-models); custom resources against their required fields (see support/k8s-validate.ts).
 */
import assert from 'node:assert/strict';
import { validateK8sObject } from '../support/k8s-validate.js';
import { REGIONAL_STACKS, runStack } from '../support/stacks.js';

describe('Kubernetes objects validate against the schema', () => {
  for (const stack of REGIONAL_STACKS) {
    it(`stack ${stack}`, async () => {
      const r = await runStack(stack);
      const objects = r.resources.filter((x) => x.custom && x.type.startsWith('kubernetes:') && x.type !== 'kubernetes:helm.sh/v3:Release');
      assert.ok(objects.length >= 20, `found ${objects.length} objects`);
      const kinds = { openapi: 0, crd: 0 };
      for (const o of objects) kinds[await validateK8sObject(o)]++;
      assert.ok(kinds.openapi >= 16 && kinds.crd >= 4, JSON.stringify(kinds));
    });
  }

  it('catches an invalid object', async () => {
    const bad = {
      type: 'kubernetes:apps/v1:Deployment',
      name: 'bad',
      inputs: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: { replicas: 'three' } },
    };
    await assert.rejects(validateK8sObject(bad), /fails the OpenAPI schema/);
    const badCr = {
      type: 'kubernetes:keda.sh/v1alpha1:ScaledObject',
      name: 'bad',
      inputs: { apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject', metadata: { name: 'x', namespace: 'n' }, spec: { triggers: [] } },
    };
    await assert.rejects(validateK8sObject(badCr), /scaleTargetRef/);
  });
});
