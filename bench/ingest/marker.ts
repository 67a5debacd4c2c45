/**
 * Marker datagrams: NetFlow v5 records of IP protocol 253 (reserved for experiments, RFC 3692),
 * which no replayed capture contains. nfacctd hands records from its core process to its
 * plugin in buffers of plugin_buffer_size bytes, so the last records of a step can sit in a
 * half-full buffer indefinitely. Markers sent after the step push that buffer through; once a
 * marker shows up in the plugin's output, every record sent before it has been stored.
 */

export const MARKER_PROTOCOL = 253;
export const MARKER_RECORDS_PER_DATAGRAM = 30;

const V5_HEADER = 24;
const V5_RECORD = 48;

export function markerDatagram(sequence: number, nowMs: number): Buffer {
  const n = MARKER_RECORDS_PER_DATAGRAM;
  const d = Buffer.alloc(V5_HEADER + n * V5_RECORD);
  d.writeUInt16BE(5, 0);
  d.writeUInt16BE(n, 2);
  d.writeUInt32BE(60_000, 4); // sysUptime, ms
  d.writeUInt32BE(Math.floor(nowMs / 1000), 8);
  d.writeUInt32BE((nowMs % 1000) * 1_000_000, 12);
  d.writeUInt32BE(sequence >>> 0, 16);
  for (let i = 0; i < n; i++) {
    const r = V5_HEADER + i * V5_RECORD;
    d.writeUInt32BE(0xc000_0201, r); // 192.0.2.1
    d.writeUInt32BE(0xc000_0202, r + 4); // 192.0.2.2
    d.writeUInt32BE(1, r + 16); // packets
    d.writeUInt32BE(64, r + 20); // bytes
    d.writeUInt32BE(59_000, r + 24); // first
    d.writeUInt32BE(59_500, r + 28); // last
    d.writeUInt16BE(40_000 + i, r + 32);
    d.writeUInt16BE(9, r + 34);
    d[r + 38] = MARKER_PROTOCOL;
  }
  return d;
}
