import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { HTTP } from '../../contract/index.js';
import type { RegionalConfig } from '../config.js';
import { Network } from './network/index.js';

/**
 * Everything one environment-region runs: network, cluster, data services, workloads. The AWS-specific
 * parts stay in here; the App component only sees a Kubernetes provider and connection strings.
 */
export class RegionalPlatform extends pulumi.ComponentResource {
  readonly region: string;
  readonly network: Network;
  private readonly cfg: RegionalConfig;

  constructor(name: string, cfg: RegionalConfig, opts?: pulumi.ComponentResourceOptions) {
    super('unified-mcp:regional:RegionalPlatform', name, {}, opts);
    this.cfg = cfg;
    this.region = cfg.region;
    const prod = cfg.environment === 'prod';
    const tags = { project: 'unified-mcp', environment: cfg.environment, stack: cfg.stack };
    const provider = new aws.Provider(`${name}-aws-${cfg.region}`, { region: cfg.region as aws.Region, defaultTags: { tags } }, { parent: this });
    const inRegion = { parent: this, provider };

    const azs = aws.getAvailabilityZonesOutput({ state: 'available' }, inRegion).names;
    this.network = new Network(`${name}-net`, {
      cidr: cfg.network.cidr, availabilityZones: azs,
      natGateways: cfg.network.natGateways ?? (prod ? 'per-az' : 'single'),
      flowLogRetentionDays: cfg.network.flowLogRetentionDays, clusterName: name,
    }, inRegion);

    this.registerOutputs({ vpcId: this.network.vpcId });
  }

  /** Stack outputs the global stack reads by StackReference (names are a contract). */
  stackOutputs(): Record<string, unknown> {
    const cfg = this.cfg;
    return {
      region: cfg.region,
      environment: cfg.environment,
      healthPath: HTTP.readinessPath,
      healthUrl: `https://${cfg.app.hostname}${HTTP.readinessPath}`,
      steeringWeight: cfg.steeringWeight,
      isPrimary: cfg.isPrimary,
      vpcId: this.network.vpcId,
    };
  }
}
