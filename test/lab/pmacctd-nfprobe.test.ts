/**
 * Real pmacctd (two nfprobe plugins) exports generated captures, IPv4 and IPv6, as NetFlow v9
 * and IPFIX at once; Floodgate's decoder table must account for every packet and byte exactly
 * per destination and protocol, and agree with tshark record by record. pmacct's templates
 * differ from softflowd's (millisecond times 152/153 even in v9, no options data), which is
 * the point of a second exporter. Needs pmacct, python3-scapy and tshark (Debian packages).
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Decoded, decodeAll, expectedTotals, pick } from './decoded-totals.js';
import { makeIpv6Scenario, V6_ICMP_TARGET, V6_NTP_TARGET } from './ipv6-scenario.js';
import { runPmacctdNfprobe } from './pmacctd-nfprobe.js';
import { playedToEnd } from './pmacctd-sfprobe.js';
import { collectDatagrams, makeScenario, type ReceivedDatagram, requireTool } from './scenario.js';
import { tsharkFlowRecords } from './tshark-flows.js';

const NTP_TARGET = '203.0.113.10';
const SYN_TARGET = '203.0.113.20';
const ICMP_TARGET = '203.0.113.40';

interface Exported {
  v9: { datagrams: ReceivedDatagram[]; port: number };
  ipfix: { datagrams: ReceivedDatagram[]; port: number };
}

async function exportWithPmacctd(pcapPath: string, dir: string): Promise<Exported> {
  const v9 = await collectDatagrams(0);
  const ipfix = await collectDatagrams(0);
  try {
    const run = await runPmacctdNfprobe({ pcapPath, dir, v9Port: v9.port, ipfixPort: ipfix.port });
    // pmacctd 1.7.7 sometimes exits 1 after a complete export; the ground truth below proves completeness.
    expect(playedToEnd(run.exitCode, run.log), run.log).toBe(true);
    const settle = { atLeast: 1, quietMs: 1000, timeoutMs: 15_000 };
    const [v9Datagrams, ipfixDatagrams] = await Promise.all([v9.settle(settle), ipfix.settle(settle)]);
    expect(v9.errors).toEqual([]);
    expect(ipfix.errors).toEqual([]);
    return {
      v9: { datagrams: [...v9Datagrams], port: v9.port },
      ipfix: { datagrams: [...ipfixDatagrams], port: ipfix.port },
    };
  } finally {
    await v9.close();
    await ipfix.close();
  }
}

describe('pmacctd nfprobe NetFlow v9 and IPFIX from generated captures', () => {
  let dir = '';
  let v4Truth: Record<string, { packets: number; bytes: number }>;
  let v6Truth: Record<string, { packets: number; bytes: number }>;
  let v4: Exported;
  let v6: Exported;

  beforeAll(async () => {
    requireTool('pmacctd');
    requireTool('python3-scapy');
    requireTool('tshark');
    dir = mkdtempSync(join(tmpdir(), 'fg-lab-nfprobe-'));
    const startEpoch = Math.floor(Date.now() / 1000) - 30;
    const scenario = await makeScenario(
      {
        seed: 11,
        startEpoch,
        durationSeconds: 3,
        streams: [
          { kind: 'udp-reflection', dst: NTP_TARGET, srcPort: 123, sources: 2000, pps: 2000, size: 468 },
          { kind: 'syn-flood', dst: SYN_TARGET, dstPort: 80, sources: 3000, pps: 1500 },
          { kind: 'icmp-flood', dst: ICMP_TARGET, sources: 300, pps: 500 },
          { kind: 'tcp-session', client: '198.51.100.7', server: '203.0.113.30', port: 443, packets: 200 },
          { kind: 'dns', client: '198.51.100.8', resolver: '203.0.113.53', queries: 50 },
        ],
        filler: { packets: 3000, flows: 300 },
      },
      dir,
    );
    v4Truth = expectedTotals(scenario.truth.destinations);
    const ipv6 = makeIpv6Scenario(dir, startEpoch * 1000);
    v6Truth = ipv6.truth.totals;
    [v4, v6] = await Promise.all([
      exportWithPmacctd(scenario.pcapPath, dir),
      exportWithPmacctd(ipv6.pcapPath, dir),
    ]);
  }, 120_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const protocol of ['v9', 'ipfix'] as const) {
    describe(protocol === 'v9' ? 'NetFlow v9' : 'IPFIX', () => {
      let decodedV4: Decoded;
      let decodedV6: Decoded;

      beforeAll(() => {
        decodedV4 = decodeAll(v4[protocol].datagrams);
        decodedV6 = decodeAll(v6[protocol].datagrams);
      });

      it('decodes every datagram without error; pmacct states no sampling, so the default is counted', () => {
        for (const d of [decodedV4, decodedV6]) {
          expect(d.errors).toEqual({});
          expect(Object.keys(d.notices)).toEqual(['sampling-default-used']);
        }
      });

      it('counts exactly the packets and bytes of the IPv4 ground truth per destination and protocol', () => {
        expect(pick(decodedV4, Object.keys(v4Truth))).toEqual(v4Truth);
        expect([...decodedV4.udpSourcePorts.get(NTP_TARGET)!]).toEqual([[123, 6000]]);
        expect([...decodedV4.icmp.get(ICMP_TARGET)!]).toEqual(['8/0']);
      });

      it('counts exactly the packets and bytes of the IPv6 ground truth per destination and protocol', () => {
        expect(pick(decodedV6, Object.keys(v6Truth))).toEqual(v6Truth);
        expect([...decodedV6.udpSourcePorts.get(V6_NTP_TARGET)!]).toEqual([[123, 3000]]);
        expect([...decodedV6.icmp.get(V6_ICMP_TARGET)!]).toEqual(['128/0']);
      });

      it('uses a configured override instead of the default where pmacct states no rate', () => {
        const forced = decodeAll(v4[protocol].datagrams, {
          overrides: [{ exporter: '127.0.0.1', rate: 10 }],
        });
        const scaled = Object.fromEntries(
          Object.entries(v4Truth).map(([k, t]) => [k, { packets: t.packets * 10, bytes: t.bytes * 10 }]),
        );
        expect(pick(forced, Object.keys(v4Truth))).toEqual(scaled);
        expect(Object.keys(forced.notices)).toEqual(['sampling-override-used']);
      });

      it('agrees with tshark field by field on every record, IPv4 and IPv6', async () => {
        expect(await tsharkFlowRecords(v4[protocol].datagrams, v4[protocol].port)).toEqual(decodedV4.records);
        expect(await tsharkFlowRecords(v6[protocol].datagrams, v6[protocol].port)).toEqual(decodedV6.records);
      }, 60_000);
    });
  }
});
