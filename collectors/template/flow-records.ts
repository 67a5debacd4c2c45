/**
 * The data path shared by NetFlow v9 and IPFIX: the records of one data set, laid out by a
 * compiled template, into FlowBatch rows (flow data) or into the domain's sampling state
 * (options data). A set is measured first (`countRecords`, which throws on bytes that do not
 * frame), so that appending never stops half way through a set.
 */
import { WireError } from '../../core/errors.js';
import {
  ADDRESS_WORDS,
  type FlowBatch,
  FRAGMENT_NO,
  FRAGMENT_YES,
  setIPv4,
  setIPv6,
} from '../../core/flow/flow-batch.js';
import { appendRecord, type DecodeContext, resolveSamplingRate } from '../decoder.js';
import { ntpToUnixMs, readFloat, readUint, u16, u32 } from './bytes.js';
import { K, VARIABLE_LENGTH } from './information-elements.js';
import type { SamplingValues } from './sampling.js';
import type { CompiledTemplate } from './template.js';
import type { DomainState, TemplateCache } from './template-cache.js';

/** The message a set came in: what its records' relative times are relative to. */
export class ExportFrame {
  /** Message export time, Unix ms (NetFlow v9 unix_secs, IPFIX Export Time: whole seconds). */
  exportMs = 0;
  /** NetFlow v9 header sysUptime (ms); -1 for IPFIX, whose uptimes count from systemInitTime. */
  sysUptime = -1;
  arrivalMs = 0;
  /** Source id (v9) or observation domain (IPFIX). */
  sourceId = 0;
}

const PROTO_ICMP = 1;
const PROTO_ICMPV6 = 58;
/** fragmentFlags (IE 197) bit 2 "More Fragments", numbered from the most significant bit. */
const MORE_FRAGMENTS = 0x20;

/**
 * How many records the set body [start, end) holds; what follows the last is padding.
 * Throws WireError, with the offset in `b`, when a variable-length field runs past the set.
 */
export function countRecords(
  b: Uint8Array,
  start: number,
  end: number,
  t: CompiledTemplate,
  exporter: string,
): number {
  if (t.fixedLength > 0) return Math.floor((end - start) / t.fixedLength);
  const lengths = t.lengths;
  let o = start;
  let n = 0;
  while (end - o >= t.minLength) {
    for (let s = 0; s < t.stepCount; s++) {
      let len = lengths[s]!;
      if (len === VARIABLE_LENGTH) {
        if (o >= end) throw recordOverrun(t, exporter, o, n);
        len = b[o]!;
        o += 1;
        if (len === 255) {
          if (o + 2 > end) throw recordOverrun(t, exporter, o, n);
          len = u16(b, o);
          o += 2;
        }
      }
      if (o + len > end) throw recordOverrun(t, exporter, o, n);
      o += len;
    }
    n += 1;
  }
  return n;
}

function recordOverrun(t: CompiledTemplate, exporter: string, offset: number, record: number): WireError {
  return new WireError(
    'FG_ERR_WIRE_TRUNCATED',
    `record ${record} of template ${t.definition.id} from ${exporter} has a variable-length field running past the end of its set`,
    offset,
    { exporter, templateId: t.definition.id, record },
  );
}

/**
 * Appends `count` flow records starting at `o` (as measured by countRecords) to `out`.
 * Allocates nothing: every value goes from the bytes through a local into a column.
 */
export function decodeFlowRecords(
  b: Uint8Array,
  o: number,
  count: number,
  t: CompiledTemplate,
  domain: DomainState,
  frame: ExportFrame,
  sampling: SamplingValues,
  ctx: DecodeContext,
  out: FlowBatch,
): void {
  const kinds = t.kinds;
  const lengths = t.lengths;
  const steps = t.stepCount;
  const hasSampling = t.hasSampling;
  const ex = ctx.exporterWords;
  const sourceId = frame.sourceId;
  const arrivalMs = frame.arrivalMs;
  const exportMs = frame.exportMs;
  const sysUptime = frame.sysUptime;
  const systemInitMs = domain.systemInitMs;
  // An override from configuration beats every rate the exporter states; resolved once per set.
  const forcedRate = ctx.sampling.forcedRate(sourceId);
  if (forcedRate > 0) {
    ctx.stats.countNotice('sampling-override-used');
    ctx.stats.lastSamplingRate = forcedRate;
  }
  let setRate = -1;
  let timeMissing = false;
  let uptimeBaseMissing = false;

  for (let r = 0; r < count; r++) {
    const row = appendRecord(out, ctx);
    // Several elements can give one value (delta, total, post counters; several time
    // encodings): the lowest rank wins whatever the field order.
    let packets = 0;
    let packetsRank = 9;
    let bytes = 0;
    let bytesRank = 9;
    let src4 = 0;
    let dst4 = 0;
    let saw4 = false;
    let saw6 = false;
    let ipVersion = 0;
    let icmpTypeCode = -1;
    let icmpType = -1;
    let icmpCode = -1;
    let start = 0;
    let startRank = 9;
    let end = 0;
    let endRank = 9;
    let duration = -1;
    let fragFlags = -1;
    let fragOffset = -1;
    if (hasSampling) sampling.reset();

    for (let s = 0; s < steps; s++) {
      let len = lengths[s]!;
      if (len === VARIABLE_LENGTH) {
        len = b[o]!;
        o += 1;
        if (len === 255) {
          len = u16(b, o);
          o += 2;
        }
      }
      switch (kinds[s]) {
        case K.SKIP:
          break;
        case K.SRC_V4:
          src4 = u32(b, o);
          saw4 = true;
          break;
        case K.DST_V4:
          dst4 = u32(b, o);
          saw4 = true;
          break;
        case K.SRC_V6:
          setIPv6(out.srcAddr, row, b, o);
          saw6 = true;
          break;
        case K.DST_V6:
          setIPv6(out.dstAddr, row, b, o);
          saw6 = true;
          break;
        case K.SRC_PORT:
          out.srcPort[row] = readUint(b, o, len);
          break;
        case K.DST_PORT:
          out.dstPort[row] = readUint(b, o, len);
          break;
        case K.PROTOCOL:
          out.protocol[row] = readUint(b, o, len);
          break;
        case K.TCP_FLAGS:
          // IPFIX tcpControlBits is 16 bits (NS and the header length nibble above); the
          // batch keeps the classic 8 flags.
          out.tcpFlags[row] = readUint(b, o, len) & 0xff;
          break;
        case K.ICMP_TYPE_CODE:
          icmpTypeCode = readUint(b, o, len) & 0xffff;
          break;
        case K.ICMP_TYPE:
          icmpType = readUint(b, o, len) & 0xff;
          break;
        case K.ICMP_CODE:
          icmpCode = readUint(b, o, len) & 0xff;
          break;
        case K.IN_IF:
          out.inputIf[row] = readUint(b, o, len);
          break;
        case K.OUT_IF:
          out.outputIf[row] = readUint(b, o, len);
          break;
        case K.PACKETS_DELTA:
          if (packetsRank > 0) {
            packets = readUint(b, o, len);
            packetsRank = 0;
          }
          break;
        case K.PACKETS_TOTAL:
          if (packetsRank > 1) {
            packets = readUint(b, o, len);
            packetsRank = 1;
          }
          break;
        case K.PACKETS_POST:
          if (packetsRank > 2) {
            packets = readUint(b, o, len);
            packetsRank = 2;
          }
          break;
        case K.BYTES_DELTA:
          if (bytesRank > 0) {
            bytes = readUint(b, o, len);
            bytesRank = 0;
          }
          break;
        case K.BYTES_TOTAL:
          if (bytesRank > 1) {
            bytes = readUint(b, o, len);
            bytesRank = 1;
          }
          break;
        case K.BYTES_POST:
          if (bytesRank > 2) {
            bytes = readUint(b, o, len);
            bytesRank = 2;
          }
          break;
        case K.START_MILLIS:
          start = readUint(b, o, len);
          startRank = 0;
          break;
        case K.END_MILLIS:
          end = readUint(b, o, len);
          endRank = 0;
          break;
        case K.START_NTP:
          start = ntpToUnixMs(b, o);
          startRank = 0;
          break;
        case K.END_NTP:
          end = ntpToUnixMs(b, o);
          endRank = 0;
          break;
        case K.START_SECONDS:
          if (startRank > 1) {
            start = readUint(b, o, len) * 1000;
            startRank = 1;
          }
          break;
        case K.END_SECONDS:
          if (endRank > 1) {
            end = readUint(b, o, len) * 1000;
            endRank = 1;
          }
          break;
        case K.START_UPTIME:
          if (startRank > 2) {
            const stamp = readUint(b, o, len);
            if (sysUptime >= 0) {
              // Signed 32-bit age: right across the uint32 uptime wrap, as in NetFlow v5.
              start = exportMs - ((sysUptime - stamp) | 0);
              startRank = 2;
            } else if (systemInitMs > 0) {
              start = systemInitMs + stamp;
              startRank = 2;
            } else {
              uptimeBaseMissing = true;
            }
          }
          break;
        case K.END_UPTIME:
          if (endRank > 2) {
            const stamp = readUint(b, o, len);
            if (sysUptime >= 0) {
              end = exportMs - ((sysUptime - stamp) | 0);
              endRank = 2;
            } else if (systemInitMs > 0) {
              end = systemInitMs + stamp;
              endRank = 2;
            } else {
              uptimeBaseMissing = true;
            }
          }
          break;
        case K.START_DELTA_MICROS:
          if (startRank > 3) {
            start = exportMs - Math.round(readUint(b, o, len) / 1000);
            startRank = 3;
          }
          break;
        case K.END_DELTA_MICROS:
          if (endRank > 3) {
            end = exportMs - Math.round(readUint(b, o, len) / 1000);
            endRank = 3;
          }
          break;
        case K.DURATION_MILLIS:
          duration = readUint(b, o, len);
          break;
        case K.DURATION_MICROS:
          duration = Math.round(readUint(b, o, len) / 1000);
          break;
        case K.IP_VERSION:
          ipVersion = readUint(b, o, len);
          break;
        case K.FRAGMENT_FLAGS:
          fragFlags = readUint(b, o, len);
          break;
        case K.FRAGMENT_OFFSET:
          fragOffset = readUint(b, o, len);
          break;
        case K.SAMPLING_INTERVAL:
          sampling.interval = readUint(b, o, len);
          break;
        case K.SAMPLER_ID:
          sampling.samplerId = readUint(b, o, len);
          break;
        case K.PACKET_INTERVAL:
          sampling.packetInterval = readUint(b, o, len);
          break;
        case K.PACKET_SPACE:
          sampling.packetSpace = readUint(b, o, len);
          break;
        case K.SAMPLING_SIZE:
          sampling.size = readUint(b, o, len);
          break;
        case K.SAMPLING_POPULATION:
          sampling.population = readUint(b, o, len);
          break;
        case K.SAMPLING_PROBABILITY:
          sampling.probability = readFloat(b, o, len);
          break;
        default:
          // SYSTEM_INIT_MILLIS and other options-only kinds mean nothing in a flow record.
          break;
      }
      o += len;
    }

    // Family: the addresses present decide; ipVersion (60) only breaks a tie between a
    // template carrying both families.
    const a = row * ADDRESS_WORDS;
    let version = 0;
    if (saw6 && (!saw4 || ipVersion === 6 || (ipVersion !== 4 && src4 === 0 && dst4 === 0))) {
      version = 6;
    } else if (saw4) {
      setIPv4(out.srcAddr, row, src4);
      setIPv4(out.dstAddr, row, dst4);
      version = 4;
    } else if (ipVersion === 4 || ipVersion === 6) {
      version = ipVersion;
    }
    out.ipVersion[row] = version;
    out.exporterAddr[a] = ex[0]!;
    out.exporterAddr[a + 1] = ex[1]!;
    out.exporterAddr[a + 2] = ex[2]!;
    out.exporterAddr[a + 3] = ex[3]!;
    out.sourceId[row] = sourceId;

    const protocol = out.protocol[row]!;
    if (protocol === PROTO_ICMP || protocol === PROTO_ICMPV6) {
      let type: number;
      let code: number;
      if (icmpType >= 0 || icmpCode >= 0) {
        type = icmpType < 0 ? 0 : icmpType;
        code = icmpCode < 0 ? 0 : icmpCode;
      } else {
        // Without an ICMP element, exporters follow NetFlow v5: type × 256 + code in the
        // destination port.
        const typeCode = icmpTypeCode >= 0 ? icmpTypeCode : out.dstPort[row]!;
        type = typeCode >>> 8;
        code = typeCode & 0xff;
      }
      out.icmpType[row] = type;
      out.icmpCode[row] = code;
      out.srcPort[row] = 0;
      out.dstPort[row] = 0;
    }

    if (fragOffset >= 0) {
      out.fragment[row] =
        fragOffset > 0 || (fragFlags > 0 && (fragFlags & MORE_FRAGMENTS) !== 0) ? FRAGMENT_YES : FRAGMENT_NO;
    } else if (fragFlags >= 0 && (fragFlags & MORE_FRAGMENTS) !== 0) {
      // Without the offset a clear MF bit may be a last fragment: only a set bit tells.
      out.fragment[row] = FRAGMENT_YES;
    }

    if (startRank === 9 && endRank < 9) {
      start = duration >= 0 ? end - duration : end;
    } else if (endRank === 9 && startRank < 9) {
      end = duration >= 0 ? start + duration : start;
    } else if (startRank === 9) {
      start = exportMs;
      end = exportMs;
      timeMissing = true;
    }
    out.startMs[row] = start;
    out.endMs[row] = end;
    out.arrivalMs[row] = arrivalMs;

    let rate = forcedRate;
    if (rate === 0) {
      if (hasSampling) {
        rate = sampling.rate();
        if (rate === 0 && sampling.samplerId >= 0) rate = domain.samplerRates.get(sampling.samplerId) ?? 0;
      }
      if (rate > 0) {
        ctx.stats.lastSamplingRate = rate;
      } else {
        // Resolved once per set: the default is counted once per set, as once per v5 datagram.
        if (setRate < 0) setRate = resolveSamplingRate(domain.samplingRate, sourceId, ctx);
        rate = setRate;
      }
    }
    out.samplingRate[row] = rate;
    out.sampledPackets[row] = packets;
    out.packets[row] = packets * rate;
    out.bytes[row] = bytes * rate;
  }
  if (timeMissing) ctx.stats.countNotice('flow-time-missing');
  if (uptimeBaseMissing) ctx.stats.countNotice('system-init-time-unknown');
}

/**
 * Reads `count` options records for what Floodgate keeps from options data: sampling rates
 * (per domain, and per sampler/selector id) and IPFIX systemInitTimeMilliseconds. The most
 * recent rate any record of the domain states also applies to flow records naming no sampler.
 * Returns false when a sampler could not be remembered (cap reached).
 */
export function applyOptionsRecords(
  b: Uint8Array,
  o: number,
  count: number,
  t: CompiledTemplate,
  domain: DomainState,
  cache: TemplateCache,
  sampling: SamplingValues,
): boolean {
  const kinds = t.kinds;
  const lengths = t.lengths;
  let allKept = true;
  for (let r = 0; r < count; r++) {
    sampling.reset();
    let systemInitMs = 0;
    for (let s = 0; s < t.stepCount; s++) {
      let len = lengths[s]!;
      if (len === VARIABLE_LENGTH) {
        len = b[o]!;
        o += 1;
        if (len === 255) {
          len = u16(b, o);
          o += 2;
        }
      }
      switch (kinds[s]) {
        case K.SAMPLING_INTERVAL:
          sampling.interval = readUint(b, o, len);
          break;
        case K.SAMPLER_ID:
          sampling.samplerId = readUint(b, o, len);
          break;
        case K.PACKET_INTERVAL:
          sampling.packetInterval = readUint(b, o, len);
          break;
        case K.PACKET_SPACE:
          sampling.packetSpace = readUint(b, o, len);
          break;
        case K.SAMPLING_SIZE:
          sampling.size = readUint(b, o, len);
          break;
        case K.SAMPLING_POPULATION:
          sampling.population = readUint(b, o, len);
          break;
        case K.SAMPLING_PROBABILITY:
          sampling.probability = readFloat(b, o, len);
          break;
        case K.SYSTEM_INIT_MILLIS:
          systemInitMs = readUint(b, o, len);
          break;
        default:
          break;
      }
      o += len;
    }
    const rate = sampling.rate();
    if (rate > 0) {
      domain.samplingRate = rate;
      if (sampling.samplerId >= 0 && !cache.setSamplerRate(domain, sampling.samplerId, rate)) allKept = false;
    }
    if (systemInitMs > 0) domain.systemInitMs = systemInitMs;
  }
  return allKept;
}
