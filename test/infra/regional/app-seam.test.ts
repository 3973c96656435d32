/**
 * The multi-cloud seam: App deploys onto any cluster given only a Kubernetes provider; it creates no
 * cloud resources of its own, and its objects still validate against the Kubernetes schema.
 */
import assert from 'node:assert/strict';
import * as k8s from '@pulumi/kubernetes';
import { App } from '../../../infra/regional/app/index.js';
import { runStackUnderMocks } from '../../../infra/tools/mock-run.js';
import { validateK8sObject } from '../support/k8s-validate.js';
import { runStack } from '../support/stacks.js';

describe('App on an arbitrary cluster', () => {
  it('needs nothing but a Kubernetes provider, images and connection strings', async () => {
    await runStack('dev'); // keep mock runs serialised behind the shared fixtures
    const r = await runStackUnderMocks('dev', {
      program: async () => {
        const provider = new k8s.Provider('other-cloud', { kubeconfig: 'apiVersion: v1\nkind: Config\n' });
        const app = new App('seam', {
          provider,
          gateway: { image: 'example/gateway:1', resources: { cpu: '2' } },
          worker: { image: 'example/worker:1' },
          secretEnv: { DATABASE_URL: 'postgres://u:p@db:5432/umcp', REDIS_URL: 'rediss://:t@redis:6379', REDIS_PASSWORD: 't' },
          queueRedisAddress: 'redis:6379',
          ingress: { hostname: 'mcp.other.example', ingressClassName: 'nginx' },
          dataCidrs: ['10.99.0.0/16'],
        });
        return { ingressHostname: app.ingressHostname };
      },
    });
    assert.equal(r.resources.filter((x) => x.type.startsWith('aws:')).length, 0, 'no AWS resources');
    const objects = r.resources.filter((x) => x.custom && x.type.startsWith('kubernetes:'));
    for (const o of objects) {
      assert.ok(o.provider?.includes('::other-cloud::'), `${o.name} uses the given provider`);
      await validateK8sObject(o);
    }
    const gw = objects.find((o) => o.type === 'kubernetes:apps/v1:Deployment' && o.name === 'seam-gateway')!;
    assert.deepEqual(gw.inputs.spec.template.spec.containers[0].resources.requests, { cpu: '2', memory: '512Mi', 'ephemeral-storage': '10Gi' });
    assert.deepEqual(gw.inputs.spec.template.spec.nodeSelector, {}, 'no EKS pool selector off EKS');
    assert.equal(objects.filter((o) => o.type === 'kubernetes:batch/v1:CronJob').length, 0, 'scale-down is opt-in');
  });
});
