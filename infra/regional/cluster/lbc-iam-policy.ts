/**
 * IAM policy of the AWS Load Balancer Controller, vendored byte for byte from
 * kubernetes-sigs/aws-load-balancer-controller at tag v2.13.4 (commit aefed36aa30528e35a73281a5dc131ed26caa0f4),
 * file docs/install/iam_policy.json, as `lbc-iam-policy.v2.13.4.json` next to this module.
 *
 * v2.13.4 is the controller (appVersion) of the Helm chart aws-load-balancer-controller 1.13.4
 * (`ADDON_CHARTS.loadBalancerController`). A chart upgrade replaces the JSON file with the one of the new
 * controller tag and updates the three constants below; test/infra/regional/lbc-iam-policy.test.ts pins
 * file, hash and chart version together. Never edit the JSON by hand: a "condensed" copy loses the
 * tag conditions (AddTags only on creation, Modify/Delete only on resources the controller tagged) and
 * actions the controller calls (ec2:GetSecurityGroupsForVpc, shield, wafv2...), so ALBs fail to reconcile.
 */
import { readFileSync } from 'node:fs';
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';

/** Controller version the vendored document belongs to. */
export const LBC_POLICY_VERSION = 'v2.13.4';

/** Chart version whose appVersion is {@link LBC_POLICY_VERSION}. */
export const LBC_POLICY_CHART_VERSION = '1.13.4';

/** SHA-256 of the upstream file at that tag (the vendored file must hash to it). */
export const LBC_POLICY_UPSTREAM_SHA256 = '16f232c9d9f79366fe949c4550ad517a202380058a9e48d45a4e215044a20a6a';

/** Path of the vendored JSON file. */
export const LBC_POLICY_FILE = new URL(`./lbc-iam-policy.${LBC_POLICY_VERSION}.json`, import.meta.url);

/** One statement of an IAM policy document. */
export interface IamStatement {
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: string | readonly string[];
  readonly Resource: string | readonly string[];
  readonly Condition?: Record<string, Record<string, unknown>>;
}

/** The controller's policy document, parsed from the vendored file. */
export function lbcIamPolicy(): { Version: string; Statement: IamStatement[] } {
  return JSON.parse(readFileSync(LBC_POLICY_FILE, 'utf8')) as { Version: string; Statement: IamStatement[] };
}

/**
 * The document as the role's inline policy: the upstream text with its `arn:aws:` ARNs moved to the
 * partition the stack runs in (aws-cn, aws-us-gov), which is the only change the upstream docs ask for.
 */
export function lbcPolicyJson(opts: pulumi.InvokeOutputOptions): pulumi.Output<string> {
  const doc = JSON.stringify(lbcIamPolicy());
  return aws.getPartitionOutput({}, opts).partition.apply((partition) => doc.replaceAll('"arn:aws:', `"arn:${partition}:`));
}
