/**
 * The NetFlow v9 / IPFIX data path reserves rows without zeroing them (FlowBatch.reserve) and
 * writes every column itself. These tests decode the same datagrams into a fresh batch and into
 * one full of stale values: any column the data path forgot (including one added to FlowBatch
 * later) shows up as a difference.
 */
import { describe, expect, it } from 'vitest';
import type { FlowDecoder } from '../../../collectors/decoder.js';
import { IpfixDecoder } from '../../../collectors/ipfix/ipfix.js';
import { NetflowV9Decoder } from '../../../collectors/netflow/v9.js';
import { IE } from '../../../collectors/template/information-elements.js';
import { FlowBatch } from '../../../core/flow/flow-batch.js';
import { testDecodeContext } from '../../helpers/decode-context.js';
import {
  encodeIpfix,
  encodeNetflowV9,
  type RecordValues,
  type TemplateSpec,
} from '../../helpers/template-flows.js';
import { dumpRows, staleBatch } from '../stale-batch.js';
import { ipfixCorpus, v9Corpus } from './template-corpus.js';

function decodeAll(make: () => FlowDecoder, datagrams: readonly Uint8Array[], batch: FlowBatch) {
  const decoder = make();
  const ctx = testDecodeContext({ defaultRate: 4 });
  for (const d of datagrams) decoder.decode(d, ctx, batch);
  return dumpRows(batch);
}

/** Kinds the corpora leave out: ICMP elements, fragments, interfaces, other time encodings. */
const odd: TemplateSpec = {
  id: 1100,
  fields: [
    { id: IE.sourceIPv6Address, length: 16 }, // source only: the destination must be zeros
    { id: IE.ipVersion, length: 1 },
    { id: IE.protocolIdentifier, length: 1 },
    { id: IE.icmpTypeIPv6, length: 1 },
    { id: IE.tcpControlBits, length: 2 },
    { id: IE.ingressInterface, length: 2 },
    { id: IE.egressInterface, length: 4 },
    { id: IE.fragmentOffset, length: 2 },
    { id: IE.fragmentFlags, length: 1 },
    { id: IE.flowStartSeconds, length: 4 },
    { id: IE.flowDurationMilliseconds, length: 4 },
    { id: IE.packetTotalCount, length: 3 },
    { id: IE.octetTotalCount, length: 5 },
    { id: IE.samplingInterval, length: 2 },
  ],
};
const oddRecord = (i: number): RecordValues => ({
  [IE.sourceIPv6Address]: `2001:db8::${i + 1}`,
  [IE.ipVersion]: 6,
  [IE.protocolIdentifier]: i % 2 === 0 ? 58 : 6,
  [IE.icmpTypeIPv6]: 135,
  [IE.tcpControlBits]: 0x1012,
  [IE.ingressInterface]: 7,
  [IE.egressInterface]: 4_000_000_000,
  [IE.fragmentOffset]: i,
  [IE.fragmentFlags]: 0x20,
  [IE.flowStartSeconds]: 1_699_999_000,
  [IE.flowDurationMilliseconds]: 1500,
  [IE.packetTotalCount]: 3 + i,
  [IE.octetTotalCount]: 3000,
  [IE.samplingInterval]: i === 0 ? 0 : 100,
});
/** No address at all: only the version says which family. */
const bare: TemplateSpec = {
  id: 1101,
  fields: [
    { id: IE.ipVersion, length: 1 },
    { id: IE.packetDeltaCount, length: 4 },
  ],
};

const oddV9 = [
  encodeNetflowV9({ sourceId: 3 }, [
    { templates: [odd, bare] },
    { template: odd, records: [0, 1, 2].map(oddRecord) },
    { template: bare, records: [{ [IE.ipVersion]: 4, [IE.packetDeltaCount]: 9 }] },
  ]),
];
const oddIpfix = [
  encodeIpfix({ domain: 3 }, [
    { templates: [odd, bare] },
    { template: odd, records: [0, 1, 2].map(oddRecord) },
    { template: bare, records: [{ [IE.ipVersion]: 6, [IE.packetDeltaCount]: 9 }] },
  ]),
];

describe('the template data path writes every column of every row', () => {
  const cases: [string, () => FlowDecoder, Uint8Array[]][] = [
    ['NetFlow v9', () => new NetflowV9Decoder(), [...v9Corpus, ...oddV9]],
    ['IPFIX', () => new IpfixDecoder(), [...ipfixCorpus, ...oddIpfix]],
  ];
  for (const [name, make, datagrams] of cases) {
    it(`${name}: a batch of stale rows ends up as a fresh one`, () => {
      const fresh = decodeAll(make, datagrams, new FlowBatch(256));
      const reused = decodeAll(make, datagrams, staleBatch(256));
      expect(fresh.ipVersion!.length).toBeGreaterThanOrEqual(12);
      expect(reused).toEqual(fresh);
    });
  }

  it('writes zeros for the address a record lacks and for ICMP fields of other protocols', () => {
    const batch = staleBatch(16);
    const decoder = new NetflowV9Decoder();
    decoder.decode(oddV9[0]!, testDecodeContext(), batch);
    const rows = dumpRows(batch);
    expect(batch.length).toBe(4);
    // Row 0: IPv6, source only.
    expect(rows.ipVersion![0]).toBe(6);
    expect(rows.srcAddr!.slice(0, 4)).toEqual([0x20010db8, 0, 0, 1]);
    expect(rows.dstAddr!.slice(0, 4)).toEqual([0, 0, 0, 0]);
    expect([rows.icmpType![0], rows.icmpCode![0]]).toEqual([135, 0]);
    // Row 1: TCP, so no ICMP type although the record carries one.
    expect([rows.icmpType![1], rows.icmpCode![1], rows.tcpFlags![1]]).toEqual([0, 0, 0x12]);
    // Row 3: no address, version 4 from ipVersion.
    expect(rows.ipVersion![3]).toBe(4);
    expect(rows.srcAddr!.slice(12, 16)).toEqual([0, 0, 0, 0]);
    expect([rows.srcPort![3], rows.protocol![3], rows.inputIf![3], rows.fragment![3]]).toEqual([0, 0, 0, 0]);
  });
});
