/**
 * sFlow v5 (sflow.org/sflow_version_5.txt): a datagram header, then samples, each a
 * data_format and a length. Flow samples (compact 0:1 and expanded 0:3) become one FlowBatch
 * row each; generic interface counters inside counter samples (0:2, 0:4) are kept per agent
 * and ifIndex for `interfaceCounters()`; every other sample or record format is skipped by its
 * length.
 *
 * A datagram is walked twice: once to check its whole structure (every length against the
 * bytes that contain it, every count against the bytes left), then to decode. A malformed
 * datagram is therefore refused whole, before a row is appended or a counter stored. Both
 * walks are linear in the datagram's length: every sample and record consumes at least its
 * 8-byte header, and counts are checked against the bytes left before any loop starts.
 *
 * Row semantics (docs/collectors-sflow.md): one sampled packet is one row, packets = the
 * sampling rate, sampledPackets = 1, bytes = IP packet length × rate, start = end = arrival.
 */
import { type ErrorCode, WireError } from '../../core/errors.js';
import { ADDRESS_WORDS, type FlowBatch, setIPv4, setIPv6 } from '../../core/flow/flow-batch.js';
import { formatAddressWords } from '../../core/net/address.js';
import {
  beginDatagram,
  type DecodeContext,
  type FlowDecoder,
  reserveRecord,
  resolveSamplingRate,
} from '../decoder.js';
import {
  AGENT_ADDRESS_IPV4,
  AGENT_ADDRESS_IPV6,
  AGENT_ADDRESS_UNKNOWN,
  COUNTER_RECORD_GENERIC_INTERFACE,
  COUNTERS_SAMPLE_EXPANDED_FIXED,
  COUNTERS_SAMPLE_FIXED,
  FLOW_RECORD_RAW_HEADER,
  FLOW_RECORD_SAMPLED_IPV4,
  FLOW_RECORD_SAMPLED_IPV6,
  FLOW_SAMPLE_EXPANDED_FIXED,
  FLOW_SAMPLE_FIXED,
  GENERIC_INTERFACE_BYTES,
  INTERFACE_FORMAT_SHIFT,
  INTERFACE_INTERNAL,
  INTERFACE_VALUE_MASK,
  padded,
  RAW_HEADER_FIXED,
  SAMPLE_COUNTERS,
  SAMPLE_COUNTERS_EXPANDED,
  SAMPLE_FLOW,
  SAMPLE_FLOW_EXPANDED,
  SAMPLED_IPV4_BYTES,
  SAMPLED_IPV6_BYTES,
  SFLOW_VERSION,
  TLV_HEADER,
  u32,
} from './format.js';
import {
  type CounterSource,
  DEFAULT_MAX_INTERFACES,
  InterfaceCounterTable,
  type SflowInterfaceCounters,
} from './interface-counters.js';
import {
  HEADER_CUT_SHORT,
  HEADER_IP,
  HEADER_NOT_IP,
  HEADER_PROTOCOL_ETHERNET,
  ParsedPacket,
  parseSampledHeader,
} from './packet-header.js';

/** Ethernet frame_length includes the 4-byte FCS (sFlow v5, raw packet header). */
const ETHERNET_FCS = 4;
const PROTO_ICMP = 1;
const PROTO_TCP = 6;
const PROTO_ICMPV6 = 58;

export interface SflowV5Options {
  /** Bound on the interfaces whose counters are kept, all agents together. */
  maxInterfaces?: number;
}

function wireError(
  code: ErrorCode,
  ctx: DecodeContext,
  message: string,
  offset: number,
  details: Record<string, unknown> = {},
): WireError {
  return new WireError(code, `sFlow datagram from ${ctx.exporterText}: ${message}`, offset, {
    exporter: ctx.exporterText,
    ...details,
  });
}

/** The ifIndex a compact interface word names, or 0 when it names none. */
function compactInterface(word: number): number {
  if (word >>> INTERFACE_FORMAT_SHIFT !== 0) return 0;
  const value = word & INTERFACE_VALUE_MASK;
  return value === INTERFACE_INTERNAL ? 0 : value;
}

export class SflowV5Decoder implements FlowDecoder {
  readonly name = 'sflow-v5';
  private readonly counters: InterfaceCounterTable;
  private readonly packet = new ParsedPacket();
  private readonly agentScratch = new Uint32Array(ADDRESS_WORDS);
  private readonly counterSource: CounterSource = {
    agent: '',
    subAgentId: 0,
    exporter: '',
    sampleSequence: 0,
    agentUptimeMs: 0,
    receivedMs: 0,
  };

  // The current datagram's header, set by the decoding walk.
  private agentType = 0;
  private subAgentId = 0;
  private uptimeMs = 0;
  private agentText: string | undefined;

  // The current flow sample's records of interest; -1 when absent.
  private rawOffset = -1;
  private rawEnd = 0;
  private rawProtocol = 0;
  private rawFrameLength = 0;
  private rawStripped = 0;
  private sampledOffset = -1;
  private sampledFormat = 0;

  constructor(options: SflowV5Options = {}) {
    this.counters = new InterfaceCounterTable(options.maxInterfaces ?? DEFAULT_MAX_INTERFACES);
  }

  decode(b: Uint8Array, ctx: DecodeContext, out: FlowBatch): number {
    this.walk(b, ctx, out, false);
    beginDatagram(out, ctx);
    return this.walk(b, ctx, out, true);
  }

  /** The latest generic interface counters per agent and ifIndex, as JSON. */
  interfaceCounters(): SflowInterfaceCounters[] {
    return this.counters.snapshot();
  }

  /**
   * Walks the datagram. With `emit` false it only checks the structure and throws WireError on
   * the first inconsistency; with `emit` true (structure known good) it appends rows, stores
   * counters and counts notices. Returns the rows appended.
   */
  private walk(b: Uint8Array, ctx: DecodeContext, out: FlowBatch, emit: boolean): number {
    const length = b.length;
    if (length < 8) {
      throw wireError(
        'FG_ERR_WIRE_TRUNCATED',
        ctx,
        `${length} bytes, shorter than the version and agent address type`,
        length,
        { length },
      );
    }
    const version = u32(b, 0);
    if (version !== SFLOW_VERSION) {
      throw wireError('FG_ERR_WIRE_VERSION', ctx, `version ${version}, not sFlow v5`, 0, { version });
    }
    const agentType = u32(b, 4);
    const agentLength =
      agentType === AGENT_ADDRESS_IPV4
        ? 4
        : agentType === AGENT_ADDRESS_IPV6
          ? 16
          : agentType === AGENT_ADDRESS_UNKNOWN
            ? 0
            : -1;
    if (agentLength < 0) {
      throw wireError(
        'FG_ERR_WIRE_VALUE',
        ctx,
        `agent address type ${agentType}; sFlow v5 allows 0 (unknown), 1 (IPv4) and 2 (IPv6)`,
        4,
        { agentType },
      );
    }
    // Sub-agent id, sequence number, uptime and sample count follow the address.
    const headerEnd = 8 + agentLength + 16;
    if (length < headerEnd) {
      throw wireError(
        'FG_ERR_WIRE_TRUNCATED',
        ctx,
        `${length} bytes, shorter than its ${headerEnd}-byte header`,
        length,
        { length, headerBytes: headerEnd },
      );
    }
    const countAt = headerEnd - 4;
    const count = u32(b, countAt);
    if (count > (length - headerEnd) / TLV_HEADER) {
      throw wireError(
        'FG_ERR_WIRE_VALUE',
        ctx,
        `claims ${count} samples, but the ${length - headerEnd} bytes after the header hold at most ${Math.floor((length - headerEnd) / TLV_HEADER)}`,
        countAt,
        { samples: count, bytesLeft: length - headerEnd },
      );
    }
    if (emit) {
      this.agentType = agentType;
      this.subAgentId = u32(b, 8 + agentLength);
      this.uptimeMs = u32(b, 8 + agentLength + 8);
      this.agentText = undefined;
    }

    let appended = 0;
    let o = headerEnd;
    for (let i = 0; i < count; i++) {
      if (o + TLV_HEADER > length) {
        throw wireError(
          'FG_ERR_WIRE_TRUNCATED',
          ctx,
          `sample ${i + 1} of ${count} would start at byte ${o}, but the datagram ends at ${length}`,
          length,
          { sample: i, samples: count, length },
        );
      }
      const format = u32(b, o);
      const sampleLength = u32(b, o + 4);
      const body = o + TLV_HEADER;
      if (sampleLength > length - body) {
        throw wireError(
          'FG_ERR_WIRE_LENGTH',
          ctx,
          `sample ${i + 1} of ${count} (format ${format >>> 12}:${format & 0xfff}) claims ${sampleLength} bytes, but ${length - body} remain`,
          o + 4,
          { sample: i, format, declared: sampleLength, available: length - body },
        );
      }
      const end = body + sampleLength;
      switch (format) {
        case SAMPLE_FLOW:
          appended += this.flowSample(b, body, end, false, ctx, out, emit);
          break;
        case SAMPLE_FLOW_EXPANDED:
          appended += this.flowSample(b, body, end, true, ctx, out, emit);
          break;
        case SAMPLE_COUNTERS:
          this.countersSample(b, body, end, false, ctx, emit);
          break;
        case SAMPLE_COUNTERS_EXPANDED:
          this.countersSample(b, body, end, true, ctx, emit);
          break;
        default:
          // Vendor (enterprise != 0) or future sample formats: skipped by their length.
          if (emit) ctx.stats.countNotice('sflow-sample-format-skipped');
      }
      o = end;
    }
    if (o !== length) {
      throw wireError(
        'FG_ERR_WIRE_LENGTH',
        ctx,
        `${length - o} bytes follow the last of its ${count} samples`,
        o,
        { samples: count, trailing: length - o },
      );
    }
    return appended;
  }

  /** A flow sample's body `b[o, end)`; returns the rows appended (0 or 1). */
  private flowSample(
    b: Uint8Array,
    o: number,
    end: number,
    expanded: boolean,
    ctx: DecodeContext,
    out: FlowBatch,
    emit: boolean,
  ): number {
    const fixed = expanded ? FLOW_SAMPLE_EXPANDED_FIXED : FLOW_SAMPLE_FIXED;
    const count = sampleRecordCount(b, o, end, fixed, expanded, 'flow', ctx);
    let p = o + fixed;
    this.rawOffset = -1;
    this.sampledOffset = -1;
    for (let i = 0; i < count; i++) {
      p = this.flowRecord(b, p, end, i, count, ctx, emit);
    }
    this.checkRecordsFill(p, end, count, 'flow', ctx);
    if (!emit) return 0;

    let rate: number;
    let inputIf: number;
    let outputIf: number;
    if (expanded) {
      rate = u32(b, o + 12);
      // interface_expanded: a format word and a full 32-bit value; format 0 is an ifIndex.
      inputIf = u32(b, o + 24) === 0 ? u32(b, o + 28) : 0;
      outputIf = u32(b, o + 32) === 0 ? u32(b, o + 36) : 0;
    } else {
      rate = u32(b, o + 8);
      inputIf = compactInterface(u32(b, o + 20));
      outputIf = compactInterface(u32(b, o + 24));
    }
    return this.emitFlow(b, rate, inputIf, outputIf, ctx, out);
  }

  /** Checks (and, emitting, notes) one flow record at `p`; returns where the next starts. */
  private flowRecord(
    b: Uint8Array,
    p: number,
    end: number,
    index: number,
    count: number,
    ctx: DecodeContext,
    emit: boolean,
  ): number {
    const body = this.recordBounds(b, p, end, index, count, 'flow', ctx);
    const recordLength = u32(b, p + 4);
    switch (u32(b, p)) {
      case FLOW_RECORD_RAW_HEADER: {
        if (recordLength < RAW_HEADER_FIXED) {
          throw wireError(
            'FG_ERR_WIRE_LENGTH',
            ctx,
            `raw packet header record of ${recordLength} bytes is shorter than its ${RAW_HEADER_FIXED}-byte fixed part`,
            p + 4,
            { declared: recordLength, required: RAW_HEADER_FIXED },
          );
        }
        const headerLength = u32(b, body + 12);
        // The header bytes are XDR opaque: present in full, padded to 4, inside the record.
        if (headerLength > recordLength - RAW_HEADER_FIXED) {
          throw wireError(
            'FG_ERR_WIRE_LENGTH',
            ctx,
            `raw packet header claims ${headerLength} header bytes, but its record holds ${recordLength - RAW_HEADER_FIXED}`,
            body + 12,
            { headerLength, available: recordLength - RAW_HEADER_FIXED },
          );
        }
        if (recordLength > RAW_HEADER_FIXED + padded(headerLength)) {
          throw wireError(
            'FG_ERR_WIRE_LENGTH',
            ctx,
            `raw packet header record of ${recordLength} bytes is longer than its ${headerLength} header bytes padded`,
            p + 4,
            { declared: recordLength, headerLength },
          );
        }
        if (emit && this.rawOffset < 0) {
          this.rawProtocol = u32(b, body);
          this.rawFrameLength = u32(b, body + 4);
          this.rawStripped = u32(b, body + 8);
          this.rawOffset = body + RAW_HEADER_FIXED;
          this.rawEnd = this.rawOffset + headerLength;
        }
        break;
      }
      case FLOW_RECORD_SAMPLED_IPV4:
      case FLOW_RECORD_SAMPLED_IPV6: {
        const format = u32(b, p);
        const required = format === FLOW_RECORD_SAMPLED_IPV4 ? SAMPLED_IPV4_BYTES : SAMPLED_IPV6_BYTES;
        if (recordLength !== required) {
          throw wireError(
            'FG_ERR_WIRE_LENGTH',
            ctx,
            `sampled IPv${format === FLOW_RECORD_SAMPLED_IPV4 ? 4 : 6} record of ${recordLength} bytes; the format is ${required}`,
            p + 4,
            { declared: recordLength, required },
          );
        }
        if (emit && this.sampledOffset < 0) {
          this.sampledOffset = body;
          this.sampledFormat = format;
        }
        break;
      }
      default:
        // Extended records (switch, router, gateway, user, ...) and vendor records carry nothing
        // the flow row holds: skipped by their length.
        break;
    }
    return body + recordLength;
  }

  /** Checks the record header at `p` and its length against the sample; returns its body offset. */
  private recordBounds(
    b: Uint8Array,
    p: number,
    end: number,
    index: number,
    count: number,
    kind: 'flow' | 'counter',
    ctx: DecodeContext,
  ): number {
    if (p + TLV_HEADER > end) {
      throw wireError(
        'FG_ERR_WIRE_LENGTH',
        ctx,
        `${kind} record ${index + 1} of ${count} would start at byte ${p}, past the end of its sample at ${end}`,
        p,
        { record: index, records: count, sampleEnd: end },
      );
    }
    const recordLength = u32(b, p + 4);
    const body = p + TLV_HEADER;
    if (recordLength > end - body) {
      const format = u32(b, p);
      throw wireError(
        'FG_ERR_WIRE_LENGTH',
        ctx,
        `${kind} record ${index + 1} of ${count} (format ${format >>> 12}:${format & 0xfff}) claims ${recordLength} bytes, but its sample has ${end - body} left`,
        p + 4,
        { record: index, records: count, format, declared: recordLength, available: end - body },
      );
    }
    return body;
  }

  private checkRecordsFill(p: number, end: number, count: number, kind: string, ctx: DecodeContext): void {
    if (p !== end) {
      throw wireError(
        'FG_ERR_WIRE_LENGTH',
        ctx,
        `${kind} sample's ${count} records end at byte ${p}, but the sample's length says ${end}`,
        p,
        { records: count, recordsEnd: p, sampleEnd: end },
      );
    }
  }

  /** Appends the row for the flow sample whose records were noted; returns 0 or 1. */
  private emitFlow(
    b: Uint8Array,
    reportedRate: number,
    inputIf: number,
    outputIf: number,
    ctx: DecodeContext,
    out: FlowBatch,
  ): number {
    const pkt = this.packet;
    let ipLength = -1;
    if (this.rawOffset >= 0) {
      const result = parseSampledHeader(this.rawProtocol, b, this.rawOffset, this.rawEnd, pkt);
      if (result === HEADER_IP) {
        ipLength = pkt.ipLength;
        if (ipLength === 0) {
          ipLength = this.ipLengthFromFrame(pkt.l2Length);
          ctx.stats.countNotice('sflow-ip-length-from-frame');
        } else if (this.rawFrameLength !== 0 && ipLength > this.rawFrameLength) {
          // No packet is longer than the frame that carried it: the IP header lies (a forged
          // packet, sampled on ingress before the router dropped it). The agent's measure of
          // the frame wins, so a lie cannot inflate byte counts by the sampling rate.
          ipLength = this.ipLengthFromFrame(pkt.l2Length);
          ctx.stats.countNotice('sflow-ip-length-exceeds-frame');
        }
      } else {
        ctx.stats.countNotice(
          result === HEADER_NOT_IP
            ? 'sflow-sample-not-ip'
            : result === HEADER_CUT_SHORT
              ? 'sflow-header-cut-short'
              : 'sflow-header-protocol-unsupported',
        );
      }
    }
    if (ipLength < 0 && this.sampledOffset >= 0) ipLength = this.readSampledIp(b, pkt);
    if (ipLength < 0) {
      if (this.rawOffset < 0) ctx.stats.countNotice('sflow-sample-without-packet');
      return 0;
    }

    const rate = resolveSamplingRate(reportedRate, this.subAgentId, ctx);
    // Every column is written below: the row need not be zeroed first.
    const row = reserveRecord(out, ctx);
    const a = row * ADDRESS_WORDS;
    const ex = ctx.exporterWords;
    out.exporterAddr[a] = ex[0]!;
    out.exporterAddr[a + 1] = ex[1]!;
    out.exporterAddr[a + 2] = ex[2]!;
    out.exporterAddr[a + 3] = ex[3]!;
    out.sourceId[row] = this.subAgentId;
    out.ipVersion[row] = pkt.ipVersion;
    if (pkt.ipVersion === 4) {
      setIPv4(out.srcAddr, row, u32(b, pkt.srcOffset));
      setIPv4(out.dstAddr, row, u32(b, pkt.dstOffset));
    } else {
      setIPv6(out.srcAddr, row, b, pkt.srcOffset);
      setIPv6(out.dstAddr, row, b, pkt.dstOffset);
    }
    out.protocol[row] = pkt.protocol;
    out.srcPort[row] = pkt.srcPort;
    out.dstPort[row] = pkt.dstPort;
    out.tcpFlags[row] = pkt.tcpFlags;
    out.icmpType[row] = pkt.icmpType;
    out.icmpCode[row] = pkt.icmpCode;
    out.fragment[row] = pkt.fragment;
    out.inputIf[row] = inputIf;
    out.outputIf[row] = outputIf;
    out.sampledPackets[row] = 1;
    out.packets[row] = rate;
    out.bytes[row] = ipLength * rate;
    out.samplingRate[row] = rate;
    // sFlow samples packets, not flows: the packet was seen about when its datagram arrived.
    const arrivalMs = ctx.arrivalMs;
    out.startMs[row] = arrivalMs;
    out.endMs[row] = arrivalMs;
    out.arrivalMs[row] = arrivalMs;
    return 1;
  }

  /**
   * The IP packet length from the frame when the IP header does not state it: frame_length
   * less the octets stripped, less the link-layer header. frame_length of an Ethernet frame
   * includes the FCS, which `stripped` must then account for (>= 4); an agent reporting less is
   * taken to have left the FCS uncounted in `stripped`, not out of frame_length.
   */
  private ipLengthFromFrame(l2Length: number): number {
    const trailer =
      this.rawProtocol === HEADER_PROTOCOL_ETHERNET
        ? Math.max(this.rawStripped, ETHERNET_FCS)
        : this.rawStripped;
    const n = this.rawFrameLength - trailer - l2Length;
    return n > 0 ? n : 0;
  }

  /** Fills `pkt` from the sampled IPv4/IPv6 record; returns the IP length it states. */
  private readSampledIp(b: Uint8Array, pkt: ParsedPacket): number {
    const o = this.sampledOffset;
    pkt.reset();
    const v4 = this.sampledFormat === FLOW_RECORD_SAMPLED_IPV4;
    pkt.ipVersion = v4 ? 4 : 6;
    const protocol = u32(b, o + 4) & 0xff;
    pkt.protocol = protocol;
    pkt.srcOffset = o + 8;
    pkt.dstOffset = v4 ? o + 12 : o + 24;
    const l4 = v4 ? o + 16 : o + 40;
    // The format has ports and TCP flags only; for ICMP, type and code are not carried.
    if (protocol !== PROTO_ICMP && protocol !== PROTO_ICMPV6) {
      pkt.srcPort = u32(b, l4) & 0xffff;
      pkt.dstPort = u32(b, l4 + 4) & 0xffff;
    }
    if (protocol === PROTO_TCP) pkt.tcpFlags = u32(b, l4 + 8) & 0xff;
    return u32(b, o);
  }

  /** A counter sample's body `b[o, end)`: generic interface counters are kept, the rest skipped. */
  private countersSample(
    b: Uint8Array,
    o: number,
    end: number,
    expanded: boolean,
    ctx: DecodeContext,
    emit: boolean,
  ): void {
    const fixed = expanded ? COUNTERS_SAMPLE_EXPANDED_FIXED : COUNTERS_SAMPLE_FIXED;
    const count = sampleRecordCount(b, o, end, fixed, expanded, 'counter', ctx);
    let p = o + fixed;
    for (let i = 0; i < count; i++) {
      const body = this.recordBounds(b, p, end, i, count, 'counter', ctx);
      const recordLength = u32(b, p + 4);
      if (u32(b, p) === COUNTER_RECORD_GENERIC_INTERFACE) {
        if (recordLength !== GENERIC_INTERFACE_BYTES) {
          throw wireError(
            'FG_ERR_WIRE_LENGTH',
            ctx,
            `generic interface counters record of ${recordLength} bytes; the format is ${GENERIC_INTERFACE_BYTES}`,
            p + 4,
            { declared: recordLength, required: GENERIC_INTERFACE_BYTES },
          );
        }
        if (emit) this.storeCounters(b, body, u32(b, o), ctx);
      }
      p = body + recordLength;
    }
    this.checkRecordsFill(p, end, count, 'counter', ctx);
  }

  private storeCounters(b: Uint8Array, o: number, sampleSequence: number, ctx: DecodeContext): void {
    const source = this.counterSource;
    source.agent = this.agentAddressText(b);
    source.subAgentId = this.subAgentId;
    source.exporter = ctx.exporterText;
    source.sampleSequence = sampleSequence;
    source.agentUptimeMs = this.uptimeMs;
    source.receivedMs = ctx.arrivalMs;
    if (this.counters.update(source, b, o)) ctx.stats.countNotice('sflow-interface-counters-evicted');
  }

  /** The datagram's agent address as text, formatted once per datagram and only when needed. */
  private agentAddressText(b: Uint8Array): string {
    if (this.agentText !== undefined) return this.agentText;
    const w = this.agentScratch;
    if (this.agentType === AGENT_ADDRESS_IPV4) {
      w[0] = 0;
      w[1] = 0;
      w[2] = 0xffff;
      w[3] = u32(b, 8);
      this.agentText = formatAddressWords(w);
    } else if (this.agentType === AGENT_ADDRESS_IPV6) {
      for (let i = 0; i < ADDRESS_WORDS; i++) w[i] = u32(b, 8 + i * 4);
      this.agentText = formatAddressWords(w);
    } else {
      this.agentText = '';
    }
    return this.agentText;
  }
}

/**
 * Checks a sample's fixed part and its record count against the bytes present, so a lying count
 * can never make the record loop run past the sample. Returns the count; records start at
 * `o + fixed`.
 */
function sampleRecordCount(
  b: Uint8Array,
  o: number,
  end: number,
  fixed: number,
  expanded: boolean,
  kind: 'flow' | 'counter',
  ctx: DecodeContext,
): number {
  if (end - o < fixed) {
    throw wireError(
      'FG_ERR_WIRE_LENGTH',
      ctx,
      `${expanded ? 'expanded ' : ''}${kind} sample of ${end - o} bytes is shorter than its ${fixed}-byte fixed part`,
      o - 4,
      { declared: end - o, required: fixed },
    );
  }
  const countAt = o + fixed - 4;
  const count = u32(b, countAt);
  const p = countAt + 4;
  if (count > (end - p) / TLV_HEADER) {
    throw wireError(
      'FG_ERR_WIRE_VALUE',
      ctx,
      `${kind} sample claims ${count} records, but its ${end - p} remaining bytes hold at most ${Math.floor((end - p) / TLV_HEADER)}`,
      countAt,
      { records: count, bytesLeft: end - p },
    );
  }
  return count;
}
