/** Every rule of the unified-mcp policy pack, in report order. */
import type { Rule } from '../types.js';
import { encryptionAtRest, encryptionInTransit, s3Encryption } from './encryption.js';
import { noPublicDataStores, s3PublicAccessBlock } from './public-access.js';
import { requiredTags } from './tags.js';
import { containerResources, pdbForReplicatedDeployments } from './kubernetes.js';
import { deletionProtectionInProd } from './protection.js';
import { spotOnlyForWorkers, spotWorkerHygiene } from './capacity.js';
import { networkPolicyEnforced, networkPolicyOnUnmanagedCluster } from './network-policy.js';
import { eksEndpointNotOpen } from './cluster-endpoint.js';
import { containerImageProvenance } from './images.js';
import { albOriginRestricted } from './origin-access.js';
import { globalWriterEndpoint } from './global-writer.js';
import { replicationOrdering } from './replication-ordering.js';
import { mqBrokerControls, sqsQueueControls } from './queues.js';

export { encryptionAtRest, encryptionInTransit, s3Encryption } from './encryption.js';
export { noPublicDataStores, s3PublicAccessBlock } from './public-access.js';
export { requiredTags, REQUIRED_TAGS } from './tags.js';
export { containerResources, pdbForReplicatedDeployments } from './kubernetes.js';
export { deletionProtectionInProd } from './protection.js';
export { spotOnlyForWorkers, spotWorkerHygiene } from './capacity.js';
export { networkPolicyEnforced, networkPolicyOnUnmanagedCluster } from './network-policy.js';
export { eksEndpointNotOpen } from './cluster-endpoint.js';
export { containerImageProvenance, imageProblem } from './images.js';
export { albOriginRestricted } from './origin-access.js';
export { globalWriterEndpoint, regionalEndpointKind, writerUrls } from './global-writer.js';
export { replicationOrdering } from './replication-ordering.js';
export { mqBrokerControls, sqsQueueControls } from './queues.js';

/** The pack's rules. */
export const ALL_RULES: readonly Rule[] = [
  encryptionAtRest,
  encryptionInTransit,
  s3Encryption,
  noPublicDataStores,
  s3PublicAccessBlock,
  requiredTags,
  containerResources,
  pdbForReplicatedDeployments,
  deletionProtectionInProd,
  spotOnlyForWorkers,
  spotWorkerHygiene,
  networkPolicyEnforced,
  networkPolicyOnUnmanagedCluster,
  eksEndpointNotOpen,
  containerImageProvenance,
  albOriginRestricted,
  globalWriterEndpoint,
  replicationOrdering,
  sqsQueueControls,
  mqBrokerControls,
];
