/** The FRR adapter as a registrable plugin: `type: frr` in floodgate.yaml. */
import { ADAPTER_CONTRACT_VERSION, type AdapterPlugin } from '../contract.js';
import { FRR_CAPABILITIES, type FrrConfig, frrConfigSchema } from './config.js';
import { createFrrAdapter } from './frr-adapter.js';

export const FRR_TYPE = 'frr';

export const frrPlugin: AdapterPlugin<FrrConfig> = {
  name: FRR_TYPE,
  contractVersion: ADAPTER_CONTRACT_VERSION,
  capabilities: FRR_CAPABILITIES,
  configSchema: frrConfigSchema,
  create: (config, ctx) => createFrrAdapter(config, ctx),
};
