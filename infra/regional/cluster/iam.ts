import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';

/** Trust policy for a service principal. */
export function assumeRolePolicy(service: string, actions: string[] = ['sts:AssumeRole']): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: actions }] });
}

/**
 * An IAM role for a Kubernetes service account through EKS Pod Identity (no OIDC provider or annotation
 * needed): the role trusts pods.eks.amazonaws.com and an association binds it to namespace/serviceAccount.
 */
export function podIdentityRole(
  name: string,
  args: {
    clusterName: pulumi.Input<string>;
    namespace: string;
    serviceAccount: string;
    policy: pulumi.Input<string>;
  },
  opts: pulumi.CustomResourceOptions,
): aws.iam.Role {
  const role = new aws.iam.Role(
    name,
    {
      assumeRolePolicy: assumeRolePolicy('pods.eks.amazonaws.com', ['sts:AssumeRole', 'sts:TagSession']),
      inlinePolicies: [{ name: 'access', policy: args.policy }],
    },
    opts,
  );
  new aws.eks.PodIdentityAssociation(
    name,
    {
      clusterName: args.clusterName,
      namespace: args.namespace,
      serviceAccount: args.serviceAccount,
      roleArn: role.arn,
    },
    opts,
  );
  return role;
}

/** Policy document helper. */
export function policy(
  statements: Array<{ Effect?: 'Allow' | 'Deny'; Action: string | string[]; Resource: unknown; Condition?: unknown }>,
): pulumi.Output<string> {
  return pulumi.jsonStringify({ Version: '2012-10-17', Statement: statements.map((s) => ({ Effect: 'Allow', ...s })) });
}
