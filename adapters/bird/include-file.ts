/**
 * The include file a BIRD adapter owns: one static protocol per declared capability (flow4,
 * flow6, RTBH IPv4, RTBH IPv6), holding one route per network, and each receipt as a comment
 * line so that the file alone says what Floodgate put there (read back after a restart).
 *
 * Two intents with the same network (one host blackholed for two upstreams with different
 * communities) cannot both be static routes: the one applied last is written, and the other is
 * written again when the last is withdrawn.
 */
import { FloodgateError } from '../../core/errors.js';
import type { AdapterReceipt, Capability } from '../contract.js';

/** The first line of every include file this adapter writes; a file without it is not ours. */
export const INCLUDE_MARKER = '# floodgate bird include v1';
const RECEIPT_PREFIX = '# receipt ';

export type BirdProtocolKey = 'flow4' | 'flow6' | 'rtbh4' | 'rtbh6';

export interface IncludeLayout {
  adapterName: string;
  protocolPrefix: string;
  tables: { flow4: string; flow6: string; ipv4: string; ipv6: string };
  capabilities: ReadonlySet<Capability>;
}

/** What a BIRD receipt's `details` hold. */
export interface BirdReceiptDetails {
  protocol: string;
  network: string;
  statement: string;
  includeFile: string;
}

const CAPABILITY_OF: Readonly<Record<BirdProtocolKey, Capability>> = {
  flow4: 'flowspec4',
  flow6: 'flowspec6',
  rtbh4: 'rtbh4',
  rtbh6: 'rtbh6',
};

export function protocolName(prefix: string, key: BirdProtocolKey): string {
  return `${prefix}_${key}`;
}

/** The protocols a layout declares, in file order. */
export function declaredProtocols(layout: IncludeLayout): { key: BirdProtocolKey; name: string }[] {
  return (Object.keys(CAPABILITY_OF) as BirdProtocolKey[])
    .filter((key) => layout.capabilities.has(CAPABILITY_OF[key]))
    .map((key) => ({ key, name: protocolName(layout.protocolPrefix, key) }));
}

function channel(layout: IncludeLayout, key: BirdProtocolKey): string {
  switch (key) {
    case 'flow4':
      return `flow4 { table ${layout.tables.flow4}; };`;
    case 'flow6':
      return `flow6 { table ${layout.tables.flow6}; };`;
    case 'rtbh4':
      return `ipv4 { table ${layout.tables.ipv4}; };`;
    case 'rtbh6':
      return `ipv6 { table ${layout.tables.ipv6}; };`;
  }
}

export function detailsOf(receipt: AdapterReceipt): BirdReceiptDetails | undefined {
  const d = receipt.details;
  if (
    d === undefined ||
    typeof d['protocol'] !== 'string' ||
    typeof d['network'] !== 'string' ||
    typeof d['statement'] !== 'string' ||
    typeof d['includeFile'] !== 'string'
  ) {
    return undefined;
  }
  return d as unknown as BirdReceiptDetails;
}

/** The routes written per protocol: one per network, the receipt applied last winning. */
export function writtenRoutes(receipts: readonly AdapterReceipt[]): Map<string, Map<string, AdapterReceipt>> {
  const byProtocol = new Map<string, Map<string, AdapterReceipt>>();
  for (const receipt of receipts) {
    const d = detailsOf(receipt);
    if (d === undefined) continue;
    const routes = byProtocol.get(d.protocol) ?? new Map<string, AdapterReceipt>();
    // Deleting first moves a re-applied network to the end, keeping "last applied wins".
    routes.delete(d.network);
    routes.set(d.network, receipt);
    byProtocol.set(d.protocol, routes);
  }
  return byProtocol;
}

/** The whole file for these receipts, in the order they were applied. */
export function renderIncludeFile(layout: IncludeLayout, receipts: readonly AdapterReceipt[]): string {
  const lines = [
    INCLUDE_MARKER,
    `# BIRD routes of Floodgate adapter "${layout.adapterName}". Floodgate rewrites this file at every`,
    '# change: do not edit it. Include it from bird.conf (docs/adapters.md).',
    ...receipts.map((r) => `${RECEIPT_PREFIX}${JSON.stringify(r)}`),
    '',
  ];
  const written = writtenRoutes(receipts);
  for (const { key, name } of declaredProtocols(layout)) {
    lines.push(`protocol static ${name} {`, `  ${channel(layout, key)}`);
    for (const receipt of written.get(name)?.values() ?? []) lines.push(`  ${detailsOf(receipt)!.statement}`);
    lines.push('}', '');
  }
  return lines.join('\n');
}

/** The receipts recorded in an include file; throws when the file was not written by this adapter. */
export function parseIncludeFile(text: string, path: string): AdapterReceipt[] {
  const lines = text.split('\n');
  if (lines[0] !== INCLUDE_MARKER) {
    throw new FloodgateError(
      'FG_ERR_CONFIG_INVALID',
      `${path} exists but was not written by Floodgate's BIRD adapter (its first line is not "${INCLUDE_MARKER}"); move it away or choose another config.includeFile`,
      { path },
    );
  }
  const receipts: AdapterReceipt[] = [];
  lines.forEach((line, i) => {
    if (!line.startsWith(RECEIPT_PREFIX)) return;
    try {
      const receipt = JSON.parse(line.slice(RECEIPT_PREFIX.length)) as AdapterReceipt;
      if (typeof receipt.intentId !== 'string' || detailsOf(receipt) === undefined)
        throw new Error('not a BIRD receipt');
      receipts.push(receipt);
    } catch (e) {
      throw new FloodgateError(
        'FG_ERR_CONFIG_INVALID',
        `${path}:${i + 1}: a receipt line that does not parse (${(e as Error).message}); the file was edited by hand`,
        { path, line: i + 1 },
      );
    }
  });
  return receipts;
}
