/** The GoBGP adapter as a registrable plugin: `type: gobgp` in floodgate.yaml. */
import { ADAPTER_CONTRACT_VERSION, type AdapterPlugin } from '../contract.js';
import { GOBGP_CAPABILITIES, type GobgpConfig, gobgpConfigSchema } from './config.js';
import { createGobgpAdapter } from './gobgp-adapter.js';

export const GOBGP_TYPE = 'gobgp';

export const gobgpPlugin: AdapterPlugin<GobgpConfig> = {
  name: GOBGP_TYPE,
  contractVersion: ADAPTER_CONTRACT_VERSION,
  capabilities: GOBGP_CAPABILITIES,
  configSchema: gobgpConfigSchema,
  create: createGobgpAdapter,
};
