/** The node adapter as a registrable plugin: `type: node` in floodgate.yaml. */
import { ADAPTER_CONTRACT_VERSION, type AdapterPlugin } from '../contract.js';
import { nodeCatalogue } from './builtin-catalogue.js';
import { NODE_CAPABILITIES, type NodeAdapterConfig, nodeConfigSchema } from './config.js';
import { createNodeAdapter } from './node-adapter.js';

export const NODE_TYPE = 'node';

export const nodePlugin: AdapterPlugin<NodeAdapterConfig> = {
  name: NODE_TYPE,
  contractVersion: ADAPTER_CONTRACT_VERSION,
  capabilities: NODE_CAPABILITIES,
  configSchema: nodeConfigSchema,
  create: (config, ctx) => createNodeAdapter(config, ctx, { catalogue: nodeCatalogue(config.cloud) }),
};
