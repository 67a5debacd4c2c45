/**
 * The dry-run adapter: does everything an adapter does except send. It renders each BGP intent
 * as the ExaBGP command a real speaker would receive (a firewall rule, which has no BGP form, as
 * Floodgate's plain description of it), records it as in place and logs it, so detect-only mode
 * shows operators exactly what would have been announced and withdrawn.
 *
 * State is in memory unless `persist` is set: a new process then starts with nothing in place,
 * as ExaBGP does after a restart, and the dispatcher replays from its store. With `persist` the
 * table is kept in the state directory, like a router that keeps its routes while Floodgate
 * restarts.
 */
import { join } from 'node:path';
import { FloodgateError } from '../../core/errors.js';
import type { MitigationIntent } from '../../core/mitigation/intent.js';
import { describeIntent } from '../../core/mitigation/intent-text.js';
import type { AdapterContext, Capability, MitigationAdapter } from '../contract.js';
import { renderAnnounce, renderWithdraw } from '../exabgp/text-api.js';
import { createRecordingAdapter } from '../recording-adapter.js';
import type { DryRunConfig } from './config.js';

/** Where a persisting dry-run instance keeps its table. */
export function dryRunStateFile(stateDir: string, name: string): string {
  return join(stateDir, `dry-run-${name}.json`);
}

export function createDryRunAdapter(config: DryRunConfig, ctx: AdapterContext): MitigationAdapter {
  const { name, logger } = ctx;
  const capabilities: ReadonlySet<Capability> = new Set(config.capabilities);
  const renderOptions = { neighbors: config.neighbors };
  if (config.persist && ctx.stateDir === undefined) {
    throw new FloodgateError(
      'FG_ERR_CONFIG_INVALID',
      `dry-run adapter "${name}": persist needs the appliance's state directory, and none was given`,
      { adapter: name },
    );
  }
  const stateFile =
    config.persist && ctx.stateDir !== undefined ? dryRunStateFile(ctx.stateDir, name) : undefined;
  const adapter = createRecordingAdapter({
    name,
    capabilities,
    logger,
    now: ctx.now,
    render: (intent: MitigationIntent) =>
      intent.kind === 'firewall' ? describeIntent(intent) : renderAnnounce(intent, renderOptions),
    renderWithdraw: (intent: MitigationIntent) =>
      intent.kind === 'firewall' ? `undo ${describeIntent(intent)}` : renderWithdraw(intent, renderOptions),
    receiptDetails: { render: config.render },
    label: 'dry run',
    healthDetail: 'dry run: records what it would announce, sends nothing',
    ...(stateFile === undefined ? {} : { stateFile }),
  });
  const start = adapter.start.bind(adapter);
  return {
    ...adapter,
    async start() {
      await start();
      logger.info(
        { render: config.render, capabilities: config.capabilities, persist: config.persist },
        'dry-run adapter started: nothing is sent',
      );
    },
  };
}
