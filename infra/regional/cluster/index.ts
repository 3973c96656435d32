export { Cluster, checkClusterArgs, type ClusterArgs } from './cluster.js';
export { ClusterAddons, ADDON_CHARTS, ALERTMANAGER_SERVICE_ACCOUNT, type ClusterAddonsArgs } from './addons.js';
export { defaultNodeGroups, checkNodeGroup, POOL_LABEL, SPOT_TAINT, type NodeGroupSpec, type NodeGroupsSpec } from './node-groups.js';
export { podIdentityRole, policy, assumeRolePolicy } from './iam.js';
