/** The dry-run adapter as a registrable plugin: `type: dry-run` in floodgate.yaml. */
import { ADAPTER_CONTRACT_VERSION, type AdapterPlugin } from '../contract.js';
import { DRY_RUN_CAPABILITIES, type DryRunConfig, dryRunConfigSchema } from './config.js';
import { createDryRunAdapter } from './dry-run-adapter.js';

export const DRY_RUN_TYPE = 'dry-run';

export const dryRunPlugin: AdapterPlugin<DryRunConfig> = {
  name: DRY_RUN_TYPE,
  contractVersion: ADAPTER_CONTRACT_VERSION,
  capabilities: DRY_RUN_CAPABILITIES,
  configSchema: dryRunConfigSchema,
  create: createDryRunAdapter,
};
