/**
 * The baseline file: a BaselineSnapshot as compact bytes, so the appliance can keep a week of
 * learning across restarts. Big-endian throughout; version 2:
 *
 *   0   4  magic "FGBL"
 *   4   2  version (2)
 *   6   2  reserved, 0
 *   8   4  slice length in seconds
 *   12  1  buckets per doubling (4)      13  1  buckets (40)
 *   14  2  slice count S
 *   16  1  series count N (the rules of rules.ts: 27)
 *   17  1  series kept K (a low bound on hosts or networks)
 *   18  K x (uint8 series, float64 host low bound, float64 network low bound); others are 0
 *   then S x (float64 slice number, uint16 observed minutes)
 *   then uint32 host count, each host: 16-byte address, uint16 cell count C, C cells
 *   then uint32 network count, each: uint8 prefix text length, the text (ASCII), uint16 C, C cells
 *   a cell: uint8 series, uint8 slice index, uint8 bucket, uint16 minutes (5 bytes)
 *
 * Version 1 (written before per-class baselines) is still read: bytes 6-7 were reserved, the
 * low bounds were 3 per side (pps, bps, flows) at 16 and 40, the slices began at 64.
 *
 * A host with a typical week of history takes 18 bytes plus 5 per non-empty (metric, slice,
 * bucket): a few hundred bytes. Decoding refuses anything malformed with a WireError naming the
 * byte where it stopped making sense; nothing in the file is trusted to size an allocation.
 */
import { WireError } from '../errors.js';
import { formatAddressWords, parseAddress } from '../net/address.js';
import type { BaselineCell, BaselineSnapshot } from './baseline.js';
import { BASELINE_BUCKETS, BASELINE_METRICS, BUCKETS_PER_DOUBLING } from './baseline-histograms.js';
import { RULE_COUNT } from './rules.js';

const MAGIC = 0x4647424c; // "FGBL"
const VERSION = 2;
const FIXED_BYTES = 18;
const LOW_ENTRY_BYTES = 17;
const V1_HEADER_BYTES = 64;
const CELL_BYTES = 5;
/** A cell's series is one byte. */
const MAX_SERIES = 255;

export function encodeBaseline(snapshot: BaselineSnapshot): Uint8Array {
  const series = Math.min(
    MAX_SERIES,
    Math.max(RULE_COUNT, snapshot.hostLows.length, snapshot.networkLows.length),
  );
  const kept: number[] = [];
  for (let m = 0; m < series; m++) {
    if ((snapshot.hostLows[m] ?? 0) > 0 || (snapshot.networkLows[m] ?? 0) > 0) kept.push(m);
  }
  const headerBytes = FIXED_BYTES + kept.length * LOW_ENTRY_BYTES;
  let size = headerBytes + snapshot.slices.length * 10 + 4 + 4;
  for (const h of snapshot.hosts) size += 16 + 2 + h.cells.length * CELL_BYTES;
  for (const n of snapshot.networks) size += 1 + n.prefix.length + 2 + n.cells.length * CELL_BYTES;
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, MAGIC);
  view.setUint16(4, VERSION);
  view.setUint16(6, 0);
  view.setUint32(8, snapshot.sliceSeconds);
  view.setUint8(12, BUCKETS_PER_DOUBLING);
  view.setUint8(13, BASELINE_BUCKETS);
  view.setUint16(14, snapshot.slices.length);
  view.setUint8(16, series);
  view.setUint8(17, kept.length);
  kept.forEach((m, i) => {
    const at = FIXED_BYTES + i * LOW_ENTRY_BYTES;
    view.setUint8(at, m);
    view.setFloat64(at + 1, snapshot.hostLows[m] ?? 0);
    view.setFloat64(at + 9, snapshot.networkLows[m] ?? 0);
  });
  let o = headerBytes;
  for (const s of snapshot.slices) {
    view.setFloat64(o, s.number);
    view.setUint16(o + 8, s.minutes);
    o += 10;
  }
  const writeCells = (cells: readonly BaselineCell[]) => {
    view.setUint16(o, cells.length);
    o += 2;
    for (const c of cells) {
      view.setUint8(o, c.metric);
      view.setUint8(o + 1, c.slice);
      view.setUint8(o + 2, c.bucket);
      view.setUint16(o + 3, c.minutes);
      o += CELL_BYTES;
    }
  };
  view.setUint32(o, snapshot.hosts.length);
  o += 4;
  for (const h of snapshot.hosts) {
    const address = parseAddress(h.address);
    if (!address) throw new RangeError(`baseline host ${h.address} is not an address`);
    address.words.forEach((w, i) => {
      view.setUint32(o + i * 4, w);
    });
    o += 16;
    writeCells(h.cells);
  }
  view.setUint32(o, snapshot.networks.length);
  o += 4;
  for (const n of snapshot.networks) {
    view.setUint8(o, n.prefix.length);
    for (let i = 0; i < n.prefix.length; i++) view.setUint8(o + 1 + i, n.prefix.charCodeAt(i) & 0x7f);
    o += 1 + n.prefix.length;
    writeCells(n.cells);
  }
  return bytes;
}

export function decodeBaseline(bytes: Uint8Array): BaselineSnapshot {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const need = (offset: number, length: number, what: string) => {
    if (offset + length > bytes.byteLength) {
      throw new WireError('FG_ERR_WIRE_TRUNCATED', `baseline file ends inside ${what}`, offset, {
        need: length,
        have: bytes.byteLength - offset,
      });
    }
  };
  need(0, FIXED_BYTES, 'the header');
  if (view.getUint32(0) !== MAGIC) {
    throw new WireError('FG_ERR_WIRE_VALUE', 'not a Floodgate baseline file (magic is not "FGBL")', 0);
  }
  const version = view.getUint16(4);
  if (version !== VERSION && version !== 1) {
    throw new WireError(
      'FG_ERR_WIRE_VERSION',
      `baseline file version ${version}; this build reads 1 and ${VERSION}`,
      4,
      {
        version,
      },
    );
  }
  if (view.getUint8(12) !== BUCKETS_PER_DOUBLING || view.getUint8(13) !== BASELINE_BUCKETS) {
    throw new WireError(
      'FG_ERR_WIRE_VALUE',
      `baseline buckets are ${view.getUint8(13)} at ${view.getUint8(12)} per doubling; this build uses ${BASELINE_BUCKETS} at ${BUCKETS_PER_DOUBLING}`,
      12,
    );
  }
  const hostLows: number[] = [];
  const networkLows: number[] = [];
  let headerBytes = V1_HEADER_BYTES;
  let series = BASELINE_METRICS;
  if (version === 1) {
    need(0, V1_HEADER_BYTES, 'the header');
    for (let m = 0; m < BASELINE_METRICS; m++) {
      hostLows.push(finiteNonNegative(view.getFloat64(16 + m * 8), 16 + m * 8));
      networkLows.push(finiteNonNegative(view.getFloat64(40 + m * 8), 40 + m * 8));
    }
  } else {
    series = view.getUint8(16);
    const kept = view.getUint8(17);
    if (series === 0) throw new WireError('FG_ERR_WIRE_VALUE', 'series count is 0', 16);
    headerBytes = FIXED_BYTES + kept * LOW_ENTRY_BYTES;
    need(0, headerBytes, 'the low bounds');
    for (let m = 0; m < series; m++) {
      hostLows.push(0);
      networkLows.push(0);
    }
    for (let i = 0; i < kept; i++) {
      const at = FIXED_BYTES + i * LOW_ENTRY_BYTES;
      const m = view.getUint8(at);
      if (m >= series) {
        throw new WireError('FG_ERR_WIRE_VALUE', `low bound of series ${m}, beyond the ${series} series`, at);
      }
      hostLows[m] = finiteNonNegative(view.getFloat64(at + 1), at + 1);
      networkLows[m] = finiteNonNegative(view.getFloat64(at + 9), at + 9);
    }
  }
  const sliceSeconds = view.getUint32(8);
  const sliceCount = view.getUint16(14);
  let o = headerBytes;
  need(o, sliceCount * 10, 'the slice table');
  const slices: BaselineSnapshot['slices'] = [];
  for (let i = 0; i < sliceCount; i++) {
    const number = view.getFloat64(o);
    if (!Number.isInteger(number))
      throw new WireError('FG_ERR_WIRE_VALUE', `slice number ${number} is not an integer`, o);
    slices.push({ number, minutes: view.getUint16(o + 8) });
    o += 10;
  }
  const readCells = (): BaselineCell[] => {
    need(o, 2, 'a cell count');
    const count = view.getUint16(o);
    o += 2;
    need(o, count * CELL_BYTES, 'the cells');
    const cells: BaselineCell[] = [];
    for (let i = 0; i < count; i++) {
      const metric = view.getUint8(o);
      const slice = view.getUint8(o + 1);
      const bucket = view.getUint8(o + 2);
      if (metric >= series || slice >= sliceCount || bucket === 0 || bucket >= BASELINE_BUCKETS) {
        throw new WireError(
          'FG_ERR_WIRE_VALUE',
          `cell (series ${metric}, slice ${slice}, bucket ${bucket}) is outside ${series} series, ${sliceCount} slices, buckets 1..${BASELINE_BUCKETS - 1}`,
          o,
        );
      }
      cells.push({ metric, slice, bucket, minutes: view.getUint16(o + 3) });
      o += CELL_BYTES;
    }
    return cells;
  };
  need(o, 4, 'the host count');
  const hostCount = view.getUint32(o);
  o += 4;
  const hosts: BaselineSnapshot['hosts'] = [];
  const words = new Uint32Array(4);
  for (let i = 0; i < hostCount; i++) {
    need(o, 16, 'a host address');
    for (let w = 0; w < 4; w++) words[w] = view.getUint32(o + w * 4);
    o += 16;
    hosts.push({ address: formatAddressWords(words), cells: readCells() });
  }
  need(o, 4, 'the network count');
  const networkCount = view.getUint32(o);
  o += 4;
  const networks: BaselineSnapshot['networks'] = [];
  for (let i = 0; i < networkCount; i++) {
    need(o, 1, 'a network prefix length');
    const length = view.getUint8(o);
    need(o + 1, length, 'a network prefix');
    let prefix = '';
    for (let c = 0; c < length; c++) prefix += String.fromCharCode(view.getUint8(o + 1 + c));
    o += 1 + length;
    networks.push({ prefix, cells: readCells() });
  }
  if (o !== bytes.byteLength) {
    throw new WireError(
      'FG_ERR_WIRE_LENGTH',
      `baseline file has ${bytes.byteLength - o} bytes after its end`,
      o,
    );
  }
  return { sliceSeconds, hostLows, networkLows, slices, hosts, networks };
}

function finiteNonNegative(value: number, offset: number): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new WireError(
      'FG_ERR_WIRE_VALUE',
      `low bound ${value} is not a finite non-negative number`,
      offset,
    );
  }
  return value;
}
