/**
 * The flow data path shared by NetFlow v9 and IPFIX: the records of one data set, laid out by
 * a compiled template, into FlowBatch rows. The set is measured first (countRecords, which
 * throws on bytes that do not frame), so that appending never stops half way through a set
 * and no field needs a bounds check of its own.
 */
import {
  ADDRESS_WORDS,
  type FlowBatch,
  FRAGMENT_NO,
  FRAGMENT_UNKNOWN,
  FRAGMENT_YES,
  setIPv4,
} from '../../core/flow/flow-batch.js';
import { type DecodeContext, reserveRecord, resolveSamplingRate } from '../decoder.js';
import { ntpToUnixMs, readUint } from './bytes.js';
import type { K } from './information-elements.js';
import { locateFields } from './record-layout.js';
import { readSamplingField, type SamplingValues } from './sampling.js';
import type { CompiledTemplate } from './template.js';
import type { DomainState } from './template-cache.js';

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

/** The 16-byte address at `at` into the four words at `a`, or zeros when `at` is -1. */
function setIPv6OrZero(column: Uint32Array, a: number, b: Uint8Array, at: number): void {
  if (at < 0) {
    column[a] = 0;
    column[a + 1] = 0;
    column[a + 2] = 0;
    column[a + 3] = 0;
    return;
  }
  column[a] = ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
  column[a + 1] = ((b[at + 4]! << 24) | (b[at + 5]! << 16) | (b[at + 6]! << 8) | b[at + 7]!) >>> 0;
  column[a + 2] = ((b[at + 8]! << 24) | (b[at + 9]! << 16) | (b[at + 10]! << 8) | b[at + 11]!) >>> 0;
  column[a + 3] = ((b[at + 12]! << 24) | (b[at + 13]! << 16) | (b[at + 14]! << 8) | b[at + 15]!) >>> 0;
}

/**
 * Appends `count` flow records starting at `o` (as measured by countRecords) to `out`.
 * Allocates nothing per record (one DataView per set): every value goes from the bytes through
 * a local into a column.
 *
 * This is the hot loop of NetFlow v9 and IPFIX ingest, and the way it is written is measured
 * (docs/BENCHMARKS.md, ingest): one packed plan entry per field; integers read at one place,
 * through a DataView; the kind switch with number literals as case labels, because V8 turns a
 * switch into a jump table only when every label is a literal (with `case K.SRC_V4:` it tests
 * the cases one after another); `satisfies` holds each literal to the kind it stands for.
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
  const plan = t.plan;
  const fixedLength = t.fixedLength;
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
  // One bounds check and one load per integer, where byte arithmetic takes one per byte.
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let setRate = -1;
  let timeMissing = false;
  let uptimeBaseMissing = false;

  for (let r = 0; r < count; r++) {
    const record = o;
    o = fixedLength > 0 ? o + fixedLength : locateFields(b, o, b.length, t);
    // Every column of the row is written below, once, from these locals: the row is not
    // zeroed first (FlowBatch.reserve).
    let srcPort = 0;
    let dstPort = 0;
    let protocol = 0;
    let tcpFlags = 0;
    let inputIf = 0;
    let outputIf = 0;
    /** Where the IPv6 addresses start, -1 when the record has none. */
    let src6 = -1;
    let dst6 = -1;
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

    for (let f = 0; f < plan.length; f++) {
      // planOffset, planWidth and planKind, written out: this is the hottest loop there is.
      const entry = plan[f]!;
      const at = record + (entry >>> 16);
      const len = (entry >>> 8) & 0xff;
      const kind = entry & 0xff;
      // Every integer field is read here, at one place, so that the reader is inlined once;
      // a reader called from each case would exhaust V8's inlining budget and cost a call
      // per field. Addresses (16 bytes) and NTP times are read by their own cases.
      let v: number;
      switch (len) {
        case 1:
          v = b[at]!;
          break;
        case 2:
          v = view.getUint16(at);
          break;
        case 4:
          v = view.getUint32(at);
          break;
        case 8:
          // Above 2^53 the low bits are lost, as in readUint; no counter gets there.
          v = view.getUint32(at) * 4294967296 + view.getUint32(at + 4);
          break;
        default:
          v = len < 8 ? readUint(b, at, len) : 0;
          break;
      }
      switch (kind) {
        case 1 satisfies typeof K.SRC_V4:
          src4 = v;
          saw4 = true;
          break;
        case 2 satisfies typeof K.DST_V4:
          dst4 = v;
          saw4 = true;
          break;
        case 3 satisfies typeof K.SRC_V6:
          src6 = at;
          saw6 = true;
          break;
        case 4 satisfies typeof K.DST_V6:
          dst6 = at;
          saw6 = true;
          break;
        case 5 satisfies typeof K.SRC_PORT:
          srcPort = v & 0xffff;
          break;
        case 6 satisfies typeof K.DST_PORT:
          dstPort = v & 0xffff;
          break;
        case 7 satisfies typeof K.PROTOCOL:
          protocol = v & 0xff;
          break;
        case 8 satisfies typeof K.TCP_FLAGS:
          // IPFIX tcpControlBits is 16 bits (NS and the header length nibble above); the
          // batch keeps the classic 8 flags.
          tcpFlags = v & 0xff;
          break;
        case 9 satisfies typeof K.ICMP_TYPE_CODE:
          icmpTypeCode = v & 0xffff;
          break;
        case 10 satisfies typeof K.ICMP_TYPE:
          icmpType = v & 0xff;
          break;
        case 11 satisfies typeof K.ICMP_CODE:
          icmpCode = v & 0xff;
          break;
        case 12 satisfies typeof K.IN_IF:
          inputIf = v;
          break;
        case 13 satisfies typeof K.OUT_IF:
          outputIf = v;
          break;
        case 14 satisfies typeof K.PACKETS_DELTA:
          if (packetsRank > 0) {
            packets = v;
            packetsRank = 0;
          }
          break;
        case 15 satisfies typeof K.BYTES_DELTA:
          if (bytesRank > 0) {
            bytes = v;
            bytesRank = 0;
          }
          break;
        case 16 satisfies typeof K.PACKETS_TOTAL:
          if (packetsRank > 1) {
            packets = v;
            packetsRank = 1;
          }
          break;
        case 17 satisfies typeof K.BYTES_TOTAL:
          if (bytesRank > 1) {
            bytes = v;
            bytesRank = 1;
          }
          break;
        case 18 satisfies typeof K.PACKETS_POST:
          if (packetsRank > 2) {
            packets = v;
            packetsRank = 2;
          }
          break;
        case 19 satisfies typeof K.BYTES_POST:
          if (bytesRank > 2) {
            bytes = v;
            bytesRank = 2;
          }
          break;
        case 20 satisfies typeof K.START_UPTIME:
          if (startRank > 2) {
            const stamp = v;
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
        case 21 satisfies typeof K.END_UPTIME:
          if (endRank > 2) {
            const stamp = v;
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
        case 22 satisfies typeof K.START_SECONDS:
          if (startRank > 1) {
            start = v * 1000;
            startRank = 1;
          }
          break;
        case 23 satisfies typeof K.END_SECONDS:
          if (endRank > 1) {
            end = v * 1000;
            endRank = 1;
          }
          break;
        case 24 satisfies typeof K.START_MILLIS:
          start = v;
          startRank = 0;
          break;
        case 25 satisfies typeof K.END_MILLIS:
          end = v;
          endRank = 0;
          break;
        case 26 satisfies typeof K.START_NTP:
          start = ntpToUnixMs(b, at);
          startRank = 0;
          break;
        case 27 satisfies typeof K.END_NTP:
          end = ntpToUnixMs(b, at);
          endRank = 0;
          break;
        case 28 satisfies typeof K.START_DELTA_MICROS:
          if (startRank > 3) {
            start = exportMs - Math.round(v / 1000);
            startRank = 3;
          }
          break;
        case 29 satisfies typeof K.END_DELTA_MICROS:
          if (endRank > 3) {
            end = exportMs - Math.round(v / 1000);
            endRank = 3;
          }
          break;
        case 30 satisfies typeof K.DURATION_MILLIS:
          duration = v;
          break;
        case 31 satisfies typeof K.DURATION_MICROS:
          duration = Math.round(v / 1000);
          break;
        case 32 satisfies typeof K.IP_VERSION:
          ipVersion = v;
          break;
        case 33 satisfies typeof K.FRAGMENT_FLAGS:
          fragFlags = v;
          break;
        case 34 satisfies typeof K.FRAGMENT_OFFSET:
          fragOffset = v;
          break;
        default:
          // Sampling parameters; SYSTEM_INIT_MILLIS and other options-only kinds mean nothing
          // in a flow record.
          readSamplingField(kind, b, at, len, sampling);
          break;
      }
    }

    // Family: the addresses present decide; ipVersion (60) only breaks a tie between a
    // template carrying both families.
    let version = 0;
    if (saw6 && (!saw4 || ipVersion === 6 || (ipVersion !== 4 && src4 === 0 && dst4 === 0))) {
      version = 6;
    } else if (saw4) {
      version = 4;
    } else if (ipVersion === 4 || ipVersion === 6) {
      version = ipVersion;
    }

    let icmpTypeOut = 0;
    let icmpCodeOut = 0;
    if (protocol === PROTO_ICMP || protocol === PROTO_ICMPV6) {
      if (icmpType >= 0 || icmpCode >= 0) {
        icmpTypeOut = icmpType < 0 ? 0 : icmpType;
        icmpCodeOut = icmpCode < 0 ? 0 : icmpCode;
      } else {
        // Without an ICMP element, exporters follow NetFlow v5: type × 256 + code in the
        // destination port.
        const typeCode = icmpTypeCode >= 0 ? icmpTypeCode : dstPort;
        icmpTypeOut = typeCode >>> 8;
        icmpCodeOut = typeCode & 0xff;
      }
      srcPort = 0;
      dstPort = 0;
    }

    let fragment = FRAGMENT_UNKNOWN;
    if (fragOffset >= 0) {
      fragment =
        fragOffset > 0 || (fragFlags > 0 && (fragFlags & MORE_FRAGMENTS) !== 0) ? FRAGMENT_YES : FRAGMENT_NO;
    } else if (fragFlags >= 0 && (fragFlags & MORE_FRAGMENTS) !== 0) {
      // Without the offset a clear MF bit may be a last fragment: only a set bit tells.
      fragment = FRAGMENT_YES;
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

    // The row: every column, in FlowBatch order.
    const row = reserveRecord(out, ctx);
    const a = row * ADDRESS_WORDS;
    out.ipVersion[row] = version;
    const exporterAddr = out.exporterAddr;
    exporterAddr[a] = ex[0]!;
    exporterAddr[a + 1] = ex[1]!;
    exporterAddr[a + 2] = ex[2]!;
    exporterAddr[a + 3] = ex[3]!;
    out.sourceId[row] = sourceId;
    if (version === 6 && saw6) {
      setIPv6OrZero(out.srcAddr, a, b, src6);
      setIPv6OrZero(out.dstAddr, a, b, dst6);
    } else if (saw4) {
      setIPv4(out.srcAddr, row, src4);
      setIPv4(out.dstAddr, row, dst4);
    } else {
      setIPv6OrZero(out.srcAddr, a, b, -1);
      setIPv6OrZero(out.dstAddr, a, b, -1);
    }
    out.srcPort[row] = srcPort;
    out.dstPort[row] = dstPort;
    out.protocol[row] = protocol;
    out.tcpFlags[row] = tcpFlags;
    out.icmpType[row] = icmpTypeOut;
    out.icmpCode[row] = icmpCodeOut;
    out.fragment[row] = fragment;
    out.inputIf[row] = inputIf;
    out.outputIf[row] = outputIf;
    out.packets[row] = packets * rate;
    out.bytes[row] = bytes * rate;
    out.sampledPackets[row] = packets;
    out.samplingRate[row] = rate;
    out.startMs[row] = start;
    out.endMs[row] = end;
    out.arrivalMs[row] = arrivalMs;
  }
  if (timeMissing) ctx.stats.countNotice('flow-time-missing');
  if (uptimeBaseMissing) ctx.stats.countNotice('system-init-time-unknown');
}
