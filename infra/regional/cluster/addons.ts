import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { METRICS } from '../../../contract/index.js';
import { ALERTMANAGER_CONFIG_LABELS } from '../app/index.js';
import { podIdentityRole, policy } from './iam.js';
import { lbcPolicyJson } from './lbc-iam-policy.js';
import { POOL_LABEL } from './node-groups.js';

/** Arguments of {@link ClusterAddons}. */
export interface ClusterAddonsArgs {
  readonly clusterName: pulumi.Input<string>;
  readonly region: string;
  readonly vpcId: pulumi.Input<string>;
  /** Kubernetes provider of the cluster. */
  readonly k8sProvider: k8s.Provider;
  /** The AWS provider of the region (for the IAM roles). */
  readonly awsProvider: pulumi.ProviderResource;
  /**
   * IAM policy (JSON) of the Alertmanager's own AWS access, e.g. publishing to the alert SNS topic; given,
   * its service account gets a Pod Identity role with exactly this policy. @defaultValue none
   */
  readonly alertmanagerPolicy?: pulumi.Input<string>;
}

/** Service account of the chart's Alertmanager (namespace `monitoring`), named so a Pod Identity role can bind it. */
export const ALERTMANAGER_SERVICE_ACCOUNT = 'kube-prometheus-stack-alertmanager';

/** Helm charts installed on EKS; an existing cluster must provide equivalents (docs/infra.md). */
export const ADDON_CHARTS = {
  loadBalancerController: { chart: 'aws-load-balancer-controller', repo: 'https://aws.github.io/eks-charts', version: '1.13.4' },
  clusterAutoscaler: { chart: 'cluster-autoscaler', repo: 'https://kubernetes.github.io/autoscaler', version: '9.50.1' },
  metricsServer: { chart: 'metrics-server', repo: 'https://kubernetes-sigs.github.io/metrics-server', version: '3.13.0' },
  keda: { chart: 'keda', repo: 'https://kedacore.github.io/charts', version: '2.17.2' },
  prometheusStack: { chart: 'kube-prometheus-stack', repo: 'https://prometheus-community.github.io/helm-charts', version: '77.5.0' },
  prometheusAdapter: { chart: 'prometheus-adapter', repo: 'https://prometheus-community.github.io/helm-charts', version: '5.1.0' },
} as const;

const onSystemPool = { nodeSelector: { [POOL_LABEL]: 'system' } };

/**
 * Cluster add-ons the workloads rely on: AWS Load Balancer Controller (Ingress → ALB), cluster autoscaler
 * (node groups), metrics-server (CPU HPA), KEDA (queue scaling), Prometheus operator (PrometheusRule,
 * scraping) and prometheus-adapter (requests-per-second HPA metric). AWS access through Pod Identity.
 */
export class ClusterAddons extends pulumi.ComponentResource {
  /** Releases that install CRDs and webhooks the workloads need; make the app depend on them. */
  readonly ready: pulumi.Resource[];

  constructor(name: string, args: ClusterAddonsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('unified-mcp:cluster:ClusterAddons', name, {}, opts);
    const aws = { parent: this, provider: args.awsProvider };
    const k = { parent: this, provider: args.k8sProvider };
    const release = (id: keyof typeof ADDON_CHARTS, namespace: string, values: Record<string, unknown>, extra: pulumi.CustomResourceOptions = {}) => {
      const c = ADDON_CHARTS[id];
      return new k8s.helm.v3.Release(
        `${name}-${c.chart}`,
        {
          name: c.chart,
          chart: c.chart,
          version: c.version,
          repositoryOpts: { repo: c.repo },
          namespace,
          createNamespace: true,
          atomic: true,
          timeout: 600,
          values,
        },
        { ...k, ...extra },
      );
    };

    const lbcRole = podIdentityRole(
      `${name}-lbc`,
      {
        clusterName: args.clusterName,
        namespace: 'kube-system',
        serviceAccount: 'aws-load-balancer-controller',
        // The controller's official policy for the chart's controller version (lbc-iam-policy.ts), verbatim.
        policy: lbcPolicyJson(aws),
      },
      aws,
    );
    const lbc = release(
      'loadBalancerController',
      'kube-system',
      {
        clusterName: args.clusterName,
        region: args.region,
        vpcId: args.vpcId,
        replicaCount: 2,
        serviceAccount: { create: true, name: 'aws-load-balancer-controller' },
        ...onSystemPool,
      },
      { dependsOn: [lbcRole] },
    );

    const caRole = podIdentityRole(
      `${name}-autoscaler`,
      {
        clusterName: args.clusterName,
        namespace: 'kube-system',
        serviceAccount: 'cluster-autoscaler',
        policy: pulumi.output(args.clusterName).apply((cluster) =>
          policy([
            {
              Action: [
                'autoscaling:DescribeAutoScalingGroups',
                'autoscaling:DescribeAutoScalingInstances',
                'autoscaling:DescribeLaunchConfigurations',
                'autoscaling:DescribeScalingActivities',
                'autoscaling:DescribeTags',
                'ec2:DescribeImages',
                'ec2:DescribeInstanceTypes',
                'ec2:DescribeLaunchTemplateVersions',
                'ec2:GetInstanceTypesFromInstanceRequirements',
                'eks:DescribeNodegroup',
              ],
              Resource: '*',
            },
            {
              Action: ['autoscaling:SetDesiredCapacity', 'autoscaling:TerminateInstanceInAutoScalingGroup'],
              Resource: '*',
              Condition: { StringEquals: { [`aws:ResourceTag/k8s.io/cluster-autoscaler/${cluster}`]: 'owned' } },
            },
          ]),
        ),
      },
      aws,
    );
    release(
      'clusterAutoscaler',
      'kube-system',
      {
        autoDiscovery: { clusterName: args.clusterName },
        awsRegion: args.region,
        rbac: { serviceAccount: { create: true, name: 'cluster-autoscaler' } },
        extraArgs: { 'balance-similar-node-groups': true, 'skip-nodes-with-local-storage': false, expander: 'least-waste' },
        ...onSystemPool,
      },
      { dependsOn: [caRole] },
    );

    const metricsServer = release('metricsServer', 'kube-system', { ...onSystemPool });
    const keda = release('keda', 'keda', { ...onSystemPool });
    // The association must exist before the Alertmanager pods start: Pod Identity credentials are injected at pod creation.
    const amRole =
      args.alertmanagerPolicy === undefined
        ? undefined
        : podIdentityRole(
            `${name}-alertmanager`,
            {
              clusterName: args.clusterName,
              namespace: 'monitoring',
              serviceAccount: ALERTMANAGER_SERVICE_ACCOUNT,
              policy: args.alertmanagerPolicy,
            },
            aws,
          );
    const prometheus = release(
      'prometheusStack',
      'monitoring',
      {
        // Pick up every PrometheusRule/ServiceMonitor, not only the chart's own.
        prometheus: {
          prometheusSpec: {
            ruleSelectorNilUsesHelmValues: false,
            serviceMonitorSelectorNilUsesHelmValues: false,
            podMonitorSelectorNilUsesHelmValues: false,
            retention: '15d',
            ...onSystemPool,
          },
        },
        // Receivers come from AlertmanagerConfig objects (the app's, infra/regional/app/alert-routing.ts) in any
        // namespace, selected by label; OnNamespace: each one routes only the alerts of its own namespace.
        alertmanager: {
          serviceAccount: { create: true, name: ALERTMANAGER_SERVICE_ACCOUNT },
          alertmanagerSpec: {
            alertmanagerConfigSelector: { matchLabels: { ...ALERTMANAGER_CONFIG_LABELS } },
            alertmanagerConfigNamespaceSelector: {},
            alertmanagerConfigMatcherStrategy: { type: 'OnNamespace' },
            ...onSystemPool,
          },
        },
        grafana: { enabled: false },
      },
      amRole ? { dependsOn: [amRole] } : {},
    );
    const adapter = release(
      'prometheusAdapter',
      'monitoring',
      {
        prometheus: { url: 'http://kube-prometheus-stack-prometheus.monitoring.svc', port: 9090 },
        rules: {
          default: false,
          custom: [
            {
              seriesQuery: `${METRICS.httpRequests}{namespace!="",pod!=""}`,
              resources: { overrides: { namespace: { resource: 'namespace' }, pod: { resource: 'pod' } } },
              name: { matches: '^(.*)_total$', as: '${1}_per_second' },
              metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>)',
            },
          ],
        },
        ...onSystemPool,
      },
      { dependsOn: [prometheus] },
    );

    this.ready = [lbc, metricsServer, keda, prometheus, adapter];
    this.registerOutputs({});
  }
}
