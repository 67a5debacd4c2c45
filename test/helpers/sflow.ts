/**
 * Builds sFlow v5 datagrams for tests: every header, sample and record field settable, with
 * sensible defaults, and overrides for every count and length so tests can forge datagrams
 * whose structure lies. Lengths are computed from the content unless overridden.
 */
import { addressBytes, concat } from './raw-packets.js';

class Xdr {
  private readonly parts: Uint8Array[] = [];

  u32(v: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v >>> 0);
    this.parts.push(b);
    return this;
  }

  u64(v: number): this {
    return this.u32(Math.floor(v / 0x1_0000_0000)).u32(v % 0x1_0000_0000);
  }

  /** Raw bytes, padded to a multiple of 4 unless `pad` is false. */
  bytes(b: Uint8Array, pad = true): this {
    this.parts.push(b);
    const extra = pad ? (4 - (b.length % 4)) % 4 : 0;
    if (extra > 0) this.parts.push(new Uint8Array(extra));
    return this;
  }

  done(): Uint8Array {
    return concat(...this.parts);
  }
}

/** data_format, length, body: how every sample and record is framed. */
function tlv(enterprise: number, format: number, body: Uint8Array, length?: number): Uint8Array {
  return new Xdr()
    .u32((enterprise << 12) | format)
    .u32(length ?? body.length)
    .bytes(body, false)
    .done();
}

export interface RawHeaderRecord {
  kind: 'raw-header';
  /** header_protocol; default 1 (Ethernet). */
  protocol?: number;
  /** Default: header length + 4 (an unsampled-whole Ethernet frame with its FCS). */
  frameLength?: number;
  /** Default 4 (the FCS). */
  stripped?: number;
  header: Uint8Array;
  /** Overrides the header length field. */
  headerLength?: number;
  /** Overrides the record length. */
  length?: number;
}

export interface SampledIpv4Record {
  kind: 'sampled-ipv4';
  length: number;
  protocol: number;
  src: string;
  dst: string;
  srcPort?: number;
  dstPort?: number;
  tcpFlags?: number;
  tos?: number;
  recordLength?: number;
}

export interface SampledIpv6Record {
  kind: 'sampled-ipv6';
  length: number;
  protocol: number;
  src: string;
  dst: string;
  srcPort?: number;
  dstPort?: number;
  tcpFlags?: number;
  priority?: number;
  recordLength?: number;
}

export interface ExtendedSwitchRecord {
  kind: 'extended-switch';
  srcVlan?: number;
  srcPriority?: number;
  dstVlan?: number;
  dstPriority?: number;
}

/** Any record as bytes: vendor formats, or a known format with forged content. */
export interface OpaqueRecord {
  kind: 'opaque';
  enterprise?: number;
  format: number;
  data: Uint8Array;
  length?: number;
}

export type FlowRecordSpec =
  | RawHeaderRecord
  | SampledIpv4Record
  | SampledIpv6Record
  | ExtendedSwitchRecord
  | OpaqueRecord;

export interface GenericInterfaceRecord {
  kind: 'generic-interface';
  ifIndex: number;
  ifType?: number;
  ifSpeed?: number;
  ifDirection?: number;
  ifStatus?: number;
  inOctets?: number;
  inUcastPkts?: number;
  inMulticastPkts?: number;
  inBroadcastPkts?: number;
  inDiscards?: number;
  inErrors?: number;
  inUnknownProtos?: number;
  outOctets?: number;
  outUcastPkts?: number;
  outMulticastPkts?: number;
  outBroadcastPkts?: number;
  outDiscards?: number;
  outErrors?: number;
  promiscuousMode?: number;
  length?: number;
}

export type CounterRecordSpec = GenericInterfaceRecord | OpaqueRecord;

export interface FlowSampleSpec {
  kind: 'flow';
  expanded?: boolean;
  sequence?: number;
  sourceIdType?: number;
  sourceIdIndex?: number;
  samplingRate?: number;
  samplePool?: number;
  drops?: number;
  /** Compact: the whole interface word (see `interfaceWord`). Expanded: the value. */
  input?: number;
  output?: number;
  /** Expanded only: the interface format words; default 0 (ifIndex). */
  inputFormat?: number;
  outputFormat?: number;
  records: FlowRecordSpec[];
  recordCount?: number;
  length?: number;
}

export interface CounterSampleSpec {
  kind: 'counters';
  expanded?: boolean;
  sequence?: number;
  sourceIdType?: number;
  sourceIdIndex?: number;
  records: CounterRecordSpec[];
  recordCount?: number;
  length?: number;
}

export interface OpaqueSampleSpec {
  kind: 'opaque';
  enterprise?: number;
  format: number;
  data: Uint8Array;
  length?: number;
}

export type SampleSpec = FlowSampleSpec | CounterSampleSpec | OpaqueSampleSpec;

export interface SflowDatagramSpec {
  version?: number;
  /** IPv4 or IPv6 text, or null for the unknown address type. Default 192.0.2.1. */
  agent?: string | null;
  /** Overrides the address type word (the address bytes still follow `agent`). */
  agentType?: number;
  subAgentId?: number;
  sequence?: number;
  uptimeMs?: number;
  samples: SampleSpec[];
  sampleCount?: number;
}

/** The compact interface word: 2 bits of format, 30 of value. */
export function interfaceWord(format: number, value: number): number {
  return ((format << 30) | (value & 0x3fffffff)) >>> 0;
}

function flowRecord(r: FlowRecordSpec): Uint8Array {
  switch (r.kind) {
    case 'raw-header': {
      const body = new Xdr()
        .u32(r.protocol ?? 1)
        .u32(r.frameLength ?? r.header.length + 4)
        .u32(r.stripped ?? 4)
        .u32(r.headerLength ?? r.header.length)
        .bytes(r.header)
        .done();
      return tlv(0, 1, body, r.length);
    }
    case 'sampled-ipv4': {
      const body = new Xdr()
        .u32(r.length)
        .u32(r.protocol)
        .bytes(addressBytes(r.src))
        .bytes(addressBytes(r.dst))
        .u32(r.srcPort ?? 0)
        .u32(r.dstPort ?? 0)
        .u32(r.tcpFlags ?? 0)
        .u32(r.tos ?? 0)
        .done();
      return tlv(0, 3, body, r.recordLength);
    }
    case 'sampled-ipv6': {
      const body = new Xdr()
        .u32(r.length)
        .u32(r.protocol)
        .bytes(addressBytes(r.src))
        .bytes(addressBytes(r.dst))
        .u32(r.srcPort ?? 0)
        .u32(r.dstPort ?? 0)
        .u32(r.tcpFlags ?? 0)
        .u32(r.priority ?? 0)
        .done();
      return tlv(0, 4, body, r.recordLength);
    }
    case 'extended-switch': {
      const body = new Xdr()
        .u32(r.srcVlan ?? 0)
        .u32(r.srcPriority ?? 0)
        .u32(r.dstVlan ?? 0)
        .u32(r.dstPriority ?? 0)
        .done();
      return tlv(0, 1001, body);
    }
    case 'opaque':
      return tlv(r.enterprise ?? 0, r.format, r.data, r.length);
  }
}

function counterRecord(r: CounterRecordSpec): Uint8Array {
  if (r.kind === 'opaque') return tlv(r.enterprise ?? 0, r.format, r.data, r.length);
  const body = new Xdr()
    .u32(r.ifIndex)
    .u32(r.ifType ?? 6)
    .u64(r.ifSpeed ?? 10_000_000_000)
    .u32(r.ifDirection ?? 1)
    .u32(r.ifStatus ?? 3)
    .u64(r.inOctets ?? 0)
    .u32(r.inUcastPkts ?? 0)
    .u32(r.inMulticastPkts ?? 0)
    .u32(r.inBroadcastPkts ?? 0)
    .u32(r.inDiscards ?? 0)
    .u32(r.inErrors ?? 0)
    .u32(r.inUnknownProtos ?? 0)
    .u64(r.outOctets ?? 0)
    .u32(r.outUcastPkts ?? 0)
    .u32(r.outMulticastPkts ?? 0)
    .u32(r.outBroadcastPkts ?? 0)
    .u32(r.outDiscards ?? 0)
    .u32(r.outErrors ?? 0)
    .u32(r.promiscuousMode ?? 2)
    .done();
  return tlv(0, 1, body, r.length);
}

function sample(s: SampleSpec): Uint8Array {
  if (s.kind === 'opaque') return tlv(s.enterprise ?? 0, s.format, s.data, s.length);
  const x = new Xdr().u32(s.sequence ?? 1);
  const sourceType = s.sourceIdType ?? 0;
  const sourceIndex = s.sourceIdIndex ?? 1;
  if (s.expanded) x.u32(sourceType).u32(sourceIndex);
  else x.u32(((sourceType << 24) | (sourceIndex & 0xffffff)) >>> 0);
  if (s.kind === 'flow') {
    x.u32(s.samplingRate ?? 1)
      .u32(s.samplePool ?? 0)
      .u32(s.drops ?? 0);
    if (s.expanded) {
      x.u32(s.inputFormat ?? 0)
        .u32(s.input ?? 0)
        .u32(s.outputFormat ?? 0)
        .u32(s.output ?? 0);
    } else {
      x.u32(s.input ?? 0).u32(s.output ?? 0);
    }
    x.u32(s.recordCount ?? s.records.length);
    const body = concat(x.done(), ...s.records.map(flowRecord));
    return tlv(0, s.expanded ? 3 : 1, body, s.length);
  }
  x.u32(s.recordCount ?? s.records.length);
  const body = concat(x.done(), ...s.records.map(counterRecord));
  return tlv(0, s.expanded ? 4 : 2, body, s.length);
}

export function encodeSflow(d: SflowDatagramSpec): Uint8Array {
  const agent = d.agent === undefined ? '192.0.2.1' : d.agent;
  const address = agent === null ? new Uint8Array(0) : addressBytes(agent);
  const agentType = d.agentType ?? (agent === null ? 0 : address.length === 4 ? 1 : 2);
  const head = new Xdr()
    .u32(d.version ?? 5)
    .u32(agentType)
    .bytes(address)
    .u32(d.subAgentId ?? 0)
    .u32(d.sequence ?? 1)
    .u32(d.uptimeMs ?? 3_600_000)
    .u32(d.sampleCount ?? d.samples.length)
    .done();
  return concat(head, ...d.samples.map(sample));
}
