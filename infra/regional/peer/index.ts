export { PEER_OUTPUTS, PeerStack, peerStackName, type PeerOutputName, type PeerStackNaming } from './peer-stack.js';
export { VpcPeering, checkVpcPeeringArgs, type VpcPeeringArgs } from './vpc-peering.js';
