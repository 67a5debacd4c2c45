/** The ExaBGP adapter as a registrable plugin: `type: exabgp` in floodgate.yaml. */
import { ADAPTER_CONTRACT_VERSION, type AdapterPlugin } from '../contract.js';
import { EXABGP_CAPABILITIES, type ExabgpConfig, exabgpConfigSchema } from './config.js';
import { createExabgpAdapter } from './exabgp-adapter.js';

export const EXABGP_TYPE = 'exabgp';

export const exabgpPlugin: AdapterPlugin<ExabgpConfig> = {
  name: EXABGP_TYPE,
  contractVersion: ADAPTER_CONTRACT_VERSION,
  capabilities: EXABGP_CAPABILITIES,
  configSchema: exabgpConfigSchema,
  create: createExabgpAdapter,
};
