/** Previews stand in for real adapters in detect-only mode and simulations: same bytes, nothing sent. */
import { describe, expect, it } from 'vitest';
import type { MitigationAdapter } from '../../adapters/contract.js';
import { dryRunConfigSchema } from '../../adapters/dry-run/config.js';
import { createDryRunAdapter } from '../../adapters/dry-run/dry-run-adapter.js';
import { previewAdapter } from '../../adapters/preview.js';
import { nullLogger } from '../../core/logger.js';
import { runAdapterConformance, sampleIntents } from '../conformance/adapter.js';

const now = () => 1_763_734_800_000;

/** A "real" adapter that must never be started or sent to. */
function untouchable(): MitigationAdapter {
  const real = createDryRunAdapter(dryRunConfigSchema.parse({ neighbors: ['127.0.0.2'] }), {
    name: 'edge',
    logger: nullLogger,
    now,
  });
  const refuse = async () => {
    throw new Error('a preview must never reach the real adapter');
  };
  return { ...real, start: refuse, apply: refuse, withdraw: refuse, list: refuse };
}

runAdapterConformance('preview of an adapter', () =>
  previewAdapter(untouchable(), { logger: nullLogger, now }),
);

describe('preview adapter', () => {
  it('renders exactly what the real adapter would send, and its paired undo', async () => {
    const preview = previewAdapter(untouchable(), { logger: nullLogger, now });
    await preview.start();
    const [, , bh4] = sampleIntents();
    const receipt = await preview.apply(bh4!);
    expect(receipt.command).toBe(
      'neighbor 127.0.0.2 announce route 203.0.113.66/32 next-hop 192.0.2.1 community [ 65535:666 ]',
    );
    expect(await preview.withdraw(receipt)).toEqual({
      command: 'neighbor 127.0.0.2 withdraw route 203.0.113.66/32 next-hop 192.0.2.1',
      wasPresent: true,
    });
    expect(preview.name).toBe('edge');
    expect((await preview.health()).detail).toBe(
      'preview of "edge": records what it would send, sends nothing',
    );
  });
});
