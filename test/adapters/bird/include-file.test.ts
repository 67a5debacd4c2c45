/** The BIRD adapter's include file: protocols per capability, receipts read back, one route per network. */
import { describe, expect, it } from 'vitest';
import {
  INCLUDE_MARKER,
  type IncludeLayout,
  parseIncludeFile,
  renderIncludeFile,
  writtenRoutes,
} from '../../../adapters/bird/include-file.js';
import type { AdapterReceipt } from '../../../adapters/contract.js';

const layout: IncludeLayout = {
  adapterName: 'edge',
  protocolPrefix: 'fg',
  tables: { flow4: 'ft4', flow6: 'ft6', ipv4: 'master4', ipv6: 'master6' },
  capabilities: new Set(['flowspec4', 'rtbh4']),
};

function receipt(
  intentId: string,
  protocol: string,
  network: string,
  statement: string,
  appliedAtMs = 1,
): AdapterReceipt {
  return {
    adapter: 'edge',
    intentId,
    kind: 'rtbh',
    command: statement,
    appliedAtMs,
    details: { protocol, network, statement, includeFile: '/x.conf' },
  };
}

describe('include file', () => {
  it('declares one static protocol per capability and records each receipt', () => {
    const a = receipt(
      'bh4-a',
      'fg_rtbh4',
      '203.0.113.66/32',
      'route 203.0.113.66/32 blackhole { bgp_next_hop = 192.0.2.1; };',
    );
    const text = renderIncludeFile(layout, [a]);
    expect(text.split('\n')[0]).toBe(INCLUDE_MARKER);
    expect(text).toContain('protocol static fg_flow4 {\n  flow4 { table ft4; };\n}\n');
    expect(text).toContain(`protocol static fg_rtbh4 {\n  ipv4 { table master4; };\n  ${a.command}\n}\n`);
    expect(text).not.toContain('fg_flow6');
    expect(parseIncludeFile(text, '/x.conf')).toEqual([a]);
  });

  it('writes one route per network, the one applied last', () => {
    const a = receipt('bh4-a', 'fg_rtbh4', '203.0.113.66/32', 'A');
    const b = receipt('bh4-b', 'fg_rtbh4', '203.0.113.66/32', 'B');
    const c = receipt('bh4-c', 'fg_rtbh4', '203.0.113.67/32', 'C');
    const routes = (rs: AdapterReceipt[]) =>
      [...(writtenRoutes(rs).get('fg_rtbh4')?.values() ?? [])].map((r) => r.command);
    expect(routes([a, c, b])).toEqual(['C', 'B']);
    expect(routes([a, c])).toEqual(['A', 'C']);
  });

  it('refuses a file it did not write and a receipt line edited by hand', () => {
    expect(() => parseIncludeFile('protocol static x { ipv4; }\n', '/etc/bird/x.conf')).toThrow(
      /was not written by Floodgate/,
    );
    expect(() => parseIncludeFile(`${INCLUDE_MARKER}\n# receipt {"intentId": 3}\n`, '/x.conf')).toThrow(
      /\/x\.conf:2: a receipt line/,
    );
  });
});
