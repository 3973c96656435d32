export { Network, subnetCidrs, type NetworkArgs } from './network.js';
