/**
 * The sFlow decoder reserves rows without zeroing them (FlowBatch.reserve) and writes every
 * column itself: samples of every shape decode into a batch of stale rows exactly as into a
 * fresh one.
 */
import { describe, expect, it } from 'vitest';
import { SflowV5Decoder } from '../../../collectors/sflow/v5.js';
import { FlowBatch } from '../../../core/flow/flow-batch.js';
import { testDecodeContext } from '../../helpers/decode-context.js';
import { ethernet, icmp, ipv4, ipv6, payload, TCP_SYN, tcp, udp } from '../../helpers/raw-packets.js';
import { encodeSflow, type FlowSampleSpec } from '../../helpers/sflow.js';
import { dumpRows, staleBatch } from '../stale-batch.js';

const V4 = { src: '198.51.100.7', dst: '203.0.113.10' };
const V6 = { src: '2001:db8::7', dst: '2001:db8:1::10' };

function sample(header: Uint8Array, more: Partial<FlowSampleSpec> = {}): FlowSampleSpec {
  return {
    kind: 'flow',
    samplingRate: 100,
    input: 7,
    output: 9,
    records: [{ kind: 'raw-header', header }],
    ...more,
  };
}

const datagram = encodeSflow({
  subAgentId: 4,
  samples: [
    sample(ethernet(ipv4({ ...V4, protocol: 6, body: tcp(40_000, 80, TCP_SYN) }))),
    sample(
      ethernet(ipv4({ ...V4, protocol: 17, body: udp(123, 40_000, payload(200)), moreFragments: true })),
    ),
    sample(ethernet(ipv4({ ...V4, protocol: 1, body: icmp(8, 0, payload(56)) })), { samplingRate: 0 }),
    sample(ethernet(ipv6({ ...V6, protocol: 58, body: icmp(128, 0, payload(56)) })), {
      expanded: true,
      input: 70_000,
    }),
    {
      kind: 'flow',
      samplingRate: 10,
      records: [{ kind: 'sampled-ipv4', length: 1500, protocol: 6, ...V4, srcPort: 443, dstPort: 51_000 }],
    },
  ],
});

describe('sFlow v5 decoder rows', () => {
  it('a batch of stale rows ends up as a fresh one', () => {
    const decode = (batch: FlowBatch) => {
      new SflowV5Decoder().decode(datagram, testDecodeContext({ defaultRate: 3 }), batch);
      return dumpRows(batch);
    };
    const fresh = decode(new FlowBatch(16));
    expect(fresh.ipVersion).toEqual([4, 4, 4, 6, 4]);
    expect(decode(staleBatch(16))).toEqual(fresh);
  });
});
