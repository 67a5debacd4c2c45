/**
 * The preview of a real adapter: same name, same capabilities, the real adapter's own exact
 * rendering, and nothing sent. Detect-only mode and `floodgate simulate` put every configured
 * adapter behind one, so runbooks that name real adapters can be watched at work before they are
 * trusted. The real adapter is created (which does no I/O) but never started.
 */
import type { Logger } from '../core/logger.js';
import type { MitigationAdapter } from './contract.js';
import { createRecordingAdapter } from './recording-adapter.js';

export function previewAdapter(
  real: MitigationAdapter,
  deps: { logger: Logger; now: () => number },
): MitigationAdapter {
  return createRecordingAdapter({
    name: real.name,
    capabilities: real.capabilities,
    logger: deps.logger,
    now: deps.now,
    render: (intent) => real.render(intent),
    renderWithdraw: (intent) => real.renderWithdraw?.(intent) ?? `undo: ${real.render(intent)}`,
    receiptDetails: { preview: true },
    label: 'preview',
    healthDetail: `preview of "${real.name}": records what it would send, sends nothing`,
  });
}
