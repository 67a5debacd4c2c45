/**
 * The normalised flow record, stored column by column so that decoders fill it without
 * allocating an object per record and the counters read it as tight loops over typed arrays.
 *
 * Addresses are 128-bit values held as four 32-bit words (most significant first). IPv4 is
 * stored IPv4-mapped (::ffff:a.b.c.d), so one table can key both families and `ipVersion`
 * is a convenience, never the only way to tell them apart.
 */
export const ADDRESS_WORDS = 4;

/** Fragment state as far as the exporter told us. */
export const FRAGMENT_UNKNOWN = 0;
export const FRAGMENT_NO = 1;
export const FRAGMENT_YES = 2;

export class FlowBatch {
  readonly capacity: number;
  /** Number of valid records; rows at or above it hold stale data. */
  length = 0;

  readonly ipVersion: Uint8Array;
  readonly exporterAddr: Uint32Array;
  /** NetFlow v9 source id / IPFIX observation domain / sFlow sub-agent; 0 for v5 (engine type<<8 | id). */
  readonly sourceId: Uint32Array;
  readonly srcAddr: Uint32Array;
  readonly dstAddr: Uint32Array;
  readonly srcPort: Uint16Array;
  readonly dstPort: Uint16Array;
  readonly protocol: Uint8Array;
  /** TCP flags OR-ed over the flow (NetFlow semantics). */
  readonly tcpFlags: Uint8Array;
  readonly icmpType: Uint8Array;
  readonly icmpCode: Uint8Array;
  readonly fragment: Uint8Array;
  readonly inputIf: Uint32Array;
  readonly outputIf: Uint32Array;
  /** Packets and bytes after scaling by the sampling rate. */
  readonly packets: Float64Array;
  readonly bytes: Float64Array;
  /** Packets as reported by the exporter before scaling: how much evidence the record carries. */
  readonly sampledPackets: Float64Array;
  readonly samplingRate: Uint32Array;
  /** Flow start/end in Unix milliseconds on the exporter's clock. */
  readonly startMs: Float64Array;
  readonly endMs: Float64Array;
  /** When the datagram carrying the record reached Floodgate, Unix milliseconds. */
  readonly arrivalMs: Float64Array;

  constructor(capacity = 8192) {
    if (!Number.isInteger(capacity) || capacity <= 0) {
      throw new RangeError(`FlowBatch capacity must be a positive integer, got ${capacity}`);
    }
    this.capacity = capacity;
    this.ipVersion = new Uint8Array(capacity);
    this.exporterAddr = new Uint32Array(capacity * ADDRESS_WORDS);
    this.sourceId = new Uint32Array(capacity);
    this.srcAddr = new Uint32Array(capacity * ADDRESS_WORDS);
    this.dstAddr = new Uint32Array(capacity * ADDRESS_WORDS);
    this.srcPort = new Uint16Array(capacity);
    this.dstPort = new Uint16Array(capacity);
    this.protocol = new Uint8Array(capacity);
    this.tcpFlags = new Uint8Array(capacity);
    this.icmpType = new Uint8Array(capacity);
    this.icmpCode = new Uint8Array(capacity);
    this.fragment = new Uint8Array(capacity);
    this.inputIf = new Uint32Array(capacity);
    this.outputIf = new Uint32Array(capacity);
    this.packets = new Float64Array(capacity);
    this.bytes = new Float64Array(capacity);
    this.sampledPackets = new Float64Array(capacity);
    this.samplingRate = new Uint32Array(capacity);
    this.startMs = new Float64Array(capacity);
    this.endMs = new Float64Array(capacity);
    this.arrivalMs = new Float64Array(capacity);
  }

  get full(): boolean {
    return this.length >= this.capacity;
  }

  clear(): void {
    this.length = 0;
  }

  /**
   * Reserves the next row, zeroes it and returns its index, or -1 when the batch is full.
   * Decoders write every column they know; the zeroing makes the ones they do not know 0.
   */
  append(): number {
    const row = this.reserve();
    if (row >= 0) this.zeroRow(row);
    return row;
  }

  /**
   * Reserves the next row without zeroing it and returns its index, or -1 when the batch is
   * full. Only for a decoder that writes every column of every row itself (the NetFlow v9 /
   * IPFIX data path): any column it skips keeps a previous record's value.
   */
  reserve(): number {
    const row = this.length;
    if (row >= this.capacity) return -1;
    this.length = row + 1;
    return row;
  }

  private zeroRow(row: number): void {
    const a = row * ADDRESS_WORDS;
    this.ipVersion[row] = 0;
    // Plain stores: TypedArray.fill is a call into the runtime, several times dearer for 4 words.
    const exporter = this.exporterAddr;
    exporter[a] = 0;
    exporter[a + 1] = 0;
    exporter[a + 2] = 0;
    exporter[a + 3] = 0;
    const src = this.srcAddr;
    src[a] = 0;
    src[a + 1] = 0;
    src[a + 2] = 0;
    src[a + 3] = 0;
    const dst = this.dstAddr;
    dst[a] = 0;
    dst[a + 1] = 0;
    dst[a + 2] = 0;
    dst[a + 3] = 0;
    this.sourceId[row] = 0;
    this.srcPort[row] = 0;
    this.dstPort[row] = 0;
    this.protocol[row] = 0;
    this.tcpFlags[row] = 0;
    this.icmpType[row] = 0;
    this.icmpCode[row] = 0;
    this.fragment[row] = FRAGMENT_UNKNOWN;
    this.inputIf[row] = 0;
    this.outputIf[row] = 0;
    this.packets[row] = 0;
    this.bytes[row] = 0;
    this.sampledPackets[row] = 0;
    this.samplingRate[row] = 1;
    this.startMs[row] = 0;
    this.endMs[row] = 0;
    this.arrivalMs[row] = 0;
  }

  /** Drops the last appended row (a decoder that found the record malformed half way). */
  unappend(): void {
    if (this.length > 0) this.length -= 1;
  }
}

/** Writes an IPv4 address (as a uint32) into a 4-word address column, IPv4-mapped. */
export function setIPv4(column: Uint32Array, row: number, addr: number): void {
  const a = row * ADDRESS_WORDS;
  column[a] = 0;
  column[a + 1] = 0;
  column[a + 2] = 0xffff;
  column[a + 3] = addr >>> 0;
}

/** Writes an IPv6 address from 16 bytes of `buf` at `offset` into a 4-word address column. */
export function setIPv6(column: Uint32Array, row: number, buf: Uint8Array, offset: number): void {
  const a = row * ADDRESS_WORDS;
  for (let w = 0; w < ADDRESS_WORDS; w++) {
    const o = offset + w * 4;
    column[a + w] = ((buf[o]! << 24) | (buf[o + 1]! << 16) | (buf[o + 2]! << 8) | buf[o + 3]!) >>> 0;
  }
}
