/**
 * NetFlow v5: a 24-byte header and 1 to 30 fixed 48-byte IPv4 records. The format has no
 * padding and no options, so the datagram length must equal 24 + 48 × count exactly; anything
 * else means the count or the bytes are wrong and neither can be trusted, so the datagram is
 * refused whole, before a single record is appended.
 */
import { WireError } from '../../core/errors.js';
import { ADDRESS_WORDS, type FlowBatch, setIPv4 } from '../../core/flow/flow-batch.js';
import {
  appendRecord,
  beginDatagram,
  type DecodeContext,
  type FlowDecoder,
  resolveSamplingRate,
} from '../decoder.js';

export const V5_HEADER_BYTES = 24;
export const V5_RECORD_BYTES = 48;
export const V5_MAX_RECORDS = 30;

const PROTO_ICMP = 1;
const NS_PER_MS = 1_000_000;

function u16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/** Validates everything structural up front; returns the record count. */
function checkDatagram(b: Uint8Array, exporter: string): number {
  if (b.length < V5_HEADER_BYTES) {
    throw new WireError(
      'FG_ERR_WIRE_TRUNCATED',
      `NetFlow v5 datagram from ${exporter} is ${b.length} bytes, shorter than the 24-byte header`,
      b.length,
      { exporter, length: b.length },
    );
  }
  const version = u16(b, 0);
  if (version !== 5) {
    throw new WireError(
      'FG_ERR_WIRE_VERSION',
      `datagram from ${exporter} is version ${version}, not NetFlow v5`,
      0,
      {
        exporter,
        version,
      },
    );
  }
  const count = u16(b, 2);
  if (count < 1 || count > V5_MAX_RECORDS) {
    throw new WireError(
      'FG_ERR_WIRE_VALUE',
      `NetFlow v5 datagram from ${exporter} claims ${count} records; the format allows 1 to ${V5_MAX_RECORDS}`,
      2,
      { exporter, count },
    );
  }
  const expected = V5_HEADER_BYTES + V5_RECORD_BYTES * count;
  if (b.length < expected) {
    throw new WireError(
      'FG_ERR_WIRE_TRUNCATED',
      `NetFlow v5 datagram from ${exporter} claims ${count} records (${expected} bytes) but has ${b.length}`,
      b.length,
      { exporter, count, expected, length: b.length },
    );
  }
  if (b.length > expected) {
    throw new WireError(
      'FG_ERR_WIRE_LENGTH',
      `NetFlow v5 datagram from ${exporter} claims ${count} records (${expected} bytes) but has ${b.length}; trailing bytes`,
      expected,
      { exporter, count, expected, length: b.length },
    );
  }
  return count;
}

/**
 * Milliseconds between an uptime stamp and the export's uptime. Uptime is a uint32 of ms that
 * wraps every 49.7 days; the signed 32-bit difference is right across the wrap and also for a
 * stamp slightly after the export (some exporters round), which comes out negative.
 */
function uptimeAge(sysUptime: number, stamp: number): number {
  return (sysUptime - stamp) | 0;
}

export class NetflowV5Decoder implements FlowDecoder {
  readonly name = 'netflow-v5';

  decode(b: Uint8Array, ctx: DecodeContext, out: FlowBatch): number {
    const count = checkDatagram(b, ctx.exporterText);
    beginDatagram(out, ctx);

    const sysUptime = u32(b, 4);
    const unixSecs = u32(b, 8);
    let unixNsecs = u32(b, 12);
    if (unixNsecs >= 1_000_000_000) {
      // Seen from exporters that put microseconds or garbage here: keep the second, drop the rest.
      ctx.stats.countNotice('invalid-unix-nsecs');
      unixNsecs = 0;
    }
    const exportMs = unixSecs * 1000 + Math.floor(unixNsecs / NS_PER_MS);
    const sourceId = u16(b, 20); // engine_type << 8 | engine_id
    // Top 2 bits are the sampling mode, low 14 the interval. The interval is used whatever the
    // mode says: exporters disagree on mode values, but a non-zero interval is always 1-in-N.
    const rate = resolveSamplingRate(u16(b, 22) & 0x3fff, sourceId, ctx);

    const ex = ctx.exporterWords;
    const arrivalMs = ctx.arrivalMs;
    for (let i = 0, o = V5_HEADER_BYTES; i < count; i++, o += V5_RECORD_BYTES) {
      const row = appendRecord(out, ctx);
      const a = row * ADDRESS_WORDS;
      out.ipVersion[row] = 4;
      out.exporterAddr[a] = ex[0]!;
      out.exporterAddr[a + 1] = ex[1]!;
      out.exporterAddr[a + 2] = ex[2]!;
      out.exporterAddr[a + 3] = ex[3]!;
      out.sourceId[row] = sourceId;
      setIPv4(out.srcAddr, row, u32(b, o));
      setIPv4(out.dstAddr, row, u32(b, o + 4));
      // o + 8: next hop, no column for it.
      out.inputIf[row] = u16(b, o + 12);
      out.outputIf[row] = u16(b, o + 14);
      const packets = u32(b, o + 16);
      const bytes = u32(b, o + 20);
      out.sampledPackets[row] = packets;
      out.packets[row] = packets * rate;
      out.bytes[row] = bytes * rate;
      out.samplingRate[row] = rate;
      out.startMs[row] = exportMs - uptimeAge(sysUptime, u32(b, o + 24));
      out.endMs[row] = exportMs - uptimeAge(sysUptime, u32(b, o + 28));
      const protocol = b[o + 38]!;
      out.protocol[row] = protocol;
      out.tcpFlags[row] = b[o + 37]!;
      if (protocol === PROTO_ICMP) {
        // v5 carries ICMP type*256+code in the destination port. The normalised record keeps
        // them in their own columns and ports at 0, as for every protocol without ports.
        const typeCode = u16(b, o + 34);
        out.icmpType[row] = typeCode >>> 8;
        out.icmpCode[row] = typeCode & 0xff;
      } else {
        out.srcPort[row] = u16(b, o + 32);
        out.dstPort[row] = u16(b, o + 34);
      }
      // o + 39 ToS, o + 40.. AS numbers and masks: no columns for them yet.
      out.arrivalMs[row] = arrivalMs;
    }
    return count;
  }
}
