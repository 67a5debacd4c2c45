/**
 * Real pmacctd (sfprobe plugin, sampling 1 in 1) exports the IPv6 attack capture the NetFlow
 * and IPFIX exporters get (ipv6-scenario.ts) as sFlow v5. Floodgate must account for every
 * packet and byte exactly per destination and protocol (bytes as IP packet lengths), agree
 * with tshark field by field on every sample, take a configured override over the agent's
 * rate, and survive the same datagrams damaged. The IPv4 scenario, and IPv6 with extension
 * headers, VLANs and MPLS, are in test/collectors/sflow/pmacctd-sfprobe.test.ts.
 *
 * Needs the Debian packages pmacct and tshark; fails naming them when missing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDecoderTable } from '../../collectors/registry.js';
import { FlowBatch } from '../../core/flow/flow-batch.js';
import { mutate, mutation } from '../helpers/datagram-mutations.js';
import { type DecodedPerDatagram, decodePerDatagram, sflowFields, totalsBy } from './decoded-totals.js';
import {
  makeIpv6Scenario,
  V6_ICMP_TARGET,
  V6_NTP_TARGET,
  V6_SYN_TARGET,
  type V6Truth,
} from './ipv6-scenario.js';
import { runPmacctdSfprobe } from './pmacctd-sfprobe.js';
import { collectDatagrams, type DatagramSink, type ReceivedDatagram, requireTool } from './scenario.js';
import { tsharkSflowSamples } from './tshark-sflow.js';

const SUB_AGENT = 3;
const IF_INDEX = 12;
/** Filler packets ipv6-scenario.ts adds after the scenario (left out of the truth). */
const FILLER_PACKETS = 3000;

/** sFlow datagram sequence numbers (IPv4 agent: at byte 16) must run 1..N: nothing lost. */
function sequences(datagrams: readonly ReceivedDatagram[]): number[] {
  return datagrams.map((d) => d.data.readUInt32BE(16)).sort((a, b) => a - b);
}

describe('pmacctd sfprobe sFlow v5 from the IPv6 attack capture', () => {
  let dir = '';
  let sink: DatagramSink | undefined;
  let truth: V6Truth;
  let datagrams: ReceivedDatagram[];
  let decoded: DecodedPerDatagram;

  beforeAll(async () => {
    requireTool('pmacctd');
    requireTool('tshark');
    dir = mkdtempSync(join(tmpdir(), 'fg-lab-sflow-v6-'));
    const scenario = makeIpv6Scenario(dir, (Math.floor(Date.now() / 1000) - 30) * 1000);
    truth = scenario.truth;
    sink = await collectDatagrams(0);
    const run = await runPmacctdSfprobe({
      pcapPath: scenario.pcapPath,
      dir,
      port: sink.port,
      subAgentId: SUB_AGENT,
      ifIndex: IF_INDEX,
    });
    expect(run.completed, `pmacctd exited with ${run.exitCode}:\n${run.stderr}`).toBe(true);
    datagrams = [...(await sink.settle({ atLeast: 1, quietMs: 500, timeoutMs: 10_000 }))];
    decoded = decodePerDatagram(datagrams);
  }, 120_000);

  afterAll(async () => {
    await sink?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('receives every datagram pmacctd sent and decodes all of them without error or notice', () => {
    expect(sink!.errors).toEqual([]);
    expect(sequences(datagrams)).toEqual(Array.from({ length: datagrams.length }, (_, i) => i + 1));
    expect(decoded.errors).toEqual({});
    expect(decoded.notices).toEqual({});
    // One row per sampled packet; pmacctd may lose some of the filler at end of file, never more.
    expect(decoded.rows.length).toBeLessThanOrEqual(truth.packets);
    expect(decoded.rows.length).toBeGreaterThan(truth.packets - FILLER_PACKETS);
  });

  it('counts exactly the packets and bytes of the ground truth per destination and protocol', () => {
    const got = totalsBy(decoded.rows, (r) => `${r.dstAddr}/${r.protocol}`);
    const scenarioOnly = Object.fromEntries(
      Object.keys(truth.totals).map((k) => [k, got[k] ?? { packets: 0, bytes: 0 }]),
    );
    expect(Object.keys(truth.totals)).toHaveLength(4);
    expect(scenarioOnly).toEqual(truth.totals);
    expect(Object.keys(got).filter((k) => !(k in truth.totals))).toEqual(['2001:db8:ffff::202/17']);
  });

  it('reads ports, flags and ICMPv6 types the way the attack was built, and stores IPv6 in full', () => {
    const ntp = decoded.rows.filter((r) => r.dstAddr === V6_NTP_TARGET);
    expect(totalsBy(ntp, (r) => String(r.srcPort))).toEqual({
      '123': truth.totals[`${V6_NTP_TARGET}/17`],
    });
    expect(ntp.length).toBe(truth.ntpSourcePorts['123']);
    const syn = decoded.rows.filter((r) => r.dstAddr === V6_SYN_TARGET);
    expect(new Set(syn.map((r) => `${r.dstPort}/${r.tcpFlags}`))).toEqual(new Set(['80/2']));
    const pings = decoded.rows.filter((r) => r.dstAddr === V6_ICMP_TARGET);
    expect(new Set(pings.map((r) => `${r.icmpType}/${r.icmpCode}/${r.srcPort}/${r.dstPort}`))).toEqual(
      new Set(['128/0/0/0']),
    );
    expect(new Set(decoded.rows.map((r) => r.ipVersion))).toEqual(new Set([6]));
    expect(new Set(decoded.rows.map((r) => `${r.sourceId}/${r.inputIf}/${r.samplingRate}`))).toEqual(
      new Set([`${SUB_AGENT}/${IF_INDEX}/1`]),
    );
  });

  it('agrees with tshark field by field on every sample; frame_length is the IP length + 18', async () => {
    const theirs = await tsharkSflowSamples(datagrams, sink!.port);
    expect(theirs).toHaveLength(datagrams.length);
    let samples = 0;
    theirs.forEach((samplesOfDatagram, i) => {
      const ours = decoded.perDatagram[i]!.map(sflowFields);
      const stated = samplesOfDatagram.map(({ frameLength: _f, stripped: _s, ...fields }) => fields);
      expect(ours, `datagram ${i + 1}`).toEqual(stated);
      for (const s of samplesOfDatagram) {
        // The documented adjustment: 14 bytes of Ethernet header and the 4-byte FCS.
        expect(s.frameLength - s.ipLength).toBe(18);
        expect(s.stripped).toBe(4);
      }
      samples += samplesOfDatagram.length;
    });
    expect(samples).toBe(decoded.rows.length);
  }, 120_000);

  it('takes a configured override for the sub-agent over the rate the agent states', () => {
    const forced = decodePerDatagram(datagrams, {
      overrides: [{ exporter: '127.0.0.1', sourceId: SUB_AGENT, rate: 64 }],
    });
    const got = totalsBy(forced.rows, (r) => `${r.dstAddr}/${r.protocol}`);
    for (const [key, t] of Object.entries(truth.totals)) {
      expect(got[key], key).toEqual({ packets: t.packets * 64, bytes: t.bytes * 64 });
    }
    expect(forced.notices).toEqual({ 'sampling-override-used': forced.rows.length });
  });

  it('survives the same datagrams damaged, without an exception escaping the decoder table', () => {
    const table = createDecoderTable({ defaultSamplingRate: 1, exporters: { allow: [] } });
    const real = datagrams.map((d) => new Uint8Array(d.data));
    const out = new FlowBatch(64);
    fc.assert(
      fc.property(fc.constantFrom(...real), fc.array(mutation, { minLength: 1, maxLength: 3 }), (d, ms) => {
        const n = table.decode(mutate(d, ms), '192.0.2.1', 1_700_000_000_000, out, (b) => b.clear());
        expect(n).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 2000 },
    );
    const totals = table.snapshot().totals;
    expect(totals.errors['decoder-exception']).toBeUndefined();
    expect(totals.records).toBeGreaterThan(0);
  });
});
