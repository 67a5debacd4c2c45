/** The BIRD 2 adapter as a registrable plugin: `type: bird` in floodgate.yaml. */
import { ADAPTER_CONTRACT_VERSION, type AdapterPlugin } from '../contract.js';
import { createBirdAdapter } from './bird-adapter.js';
import { BIRD_CAPABILITIES, type BirdConfig, birdConfigSchema } from './config.js';

export const BIRD_TYPE = 'bird';

export const birdPlugin: AdapterPlugin<BirdConfig> = {
  name: BIRD_TYPE,
  contractVersion: ADAPTER_CONTRACT_VERSION,
  capabilities: BIRD_CAPABILITIES,
  configSchema: birdConfigSchema,
  create: (config, ctx) => createBirdAdapter(config, ctx),
};
