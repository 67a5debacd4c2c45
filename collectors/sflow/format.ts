/**
 * sFlow v5 wire constants (sflow.org/sflow_version_5.txt) and the big-endian readers the
 * decoder shares. Every structure is XDR: 32-bit words, opaque data padded to 4 bytes, and a
 * `data_format` word that is the SMI enterprise (top 20 bits) and the format (low 12 bits).
 */

export const SFLOW_VERSION = 5;

/** Datagram header: version, agent address type; the address; then sub-agent, sequence, uptime, count. */
export const AGENT_ADDRESS_UNKNOWN = 0;
export const AGENT_ADDRESS_IPV4 = 1;
export const AGENT_ADDRESS_IPV6 = 2;

/** Standard (enterprise 0) sample formats. */
export const SAMPLE_FLOW = 1;
export const SAMPLE_COUNTERS = 2;
export const SAMPLE_FLOW_EXPANDED = 3;
export const SAMPLE_COUNTERS_EXPANDED = 4;

/** Fixed part of each sample before its record list, record count included. */
export const FLOW_SAMPLE_FIXED = 32;
export const FLOW_SAMPLE_EXPANDED_FIXED = 44;
export const COUNTERS_SAMPLE_FIXED = 12;
export const COUNTERS_SAMPLE_EXPANDED_FIXED = 16;

/** Standard flow record formats. */
export const FLOW_RECORD_RAW_HEADER = 1;
export const FLOW_RECORD_SAMPLED_IPV4 = 3;
export const FLOW_RECORD_SAMPLED_IPV6 = 4;

/** header_protocol, frame_length, stripped, header length; then the header bytes, padded. */
export const RAW_HEADER_FIXED = 16;
export const SAMPLED_IPV4_BYTES = 32;
export const SAMPLED_IPV6_BYTES = 56;

/** Standard counter record formats. */
export const COUNTER_RECORD_GENERIC_INTERFACE = 1;
export const GENERIC_INTERFACE_BYTES = 88;

/** Every sample and every record starts with data_format and length. */
export const TLV_HEADER = 8;

/**
 * In a compact flow sample the interface word is 2 bits of format and 30 of value. Format 0
 * is an ifIndex, and the value 0x3fffffff there means "the device itself" (traffic it sent or
 * received), not an interface; formats 1 (output only: dropped, value = reason) and 2 (several
 * interfaces, value = how many) name no single interface either.
 */
export const INTERFACE_FORMAT_SHIFT = 30;
export const INTERFACE_VALUE_MASK = 0x3fffffff;
export const INTERFACE_INTERNAL = 0x3fffffff;

export function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

export function u16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

/** A uint64 counter as a number: exact up to 2^53 (9 PB of octets), rounded beyond. */
export function u64(b: Uint8Array, o: number): number {
  return u32(b, o) * 0x1_0000_0000 + u32(b, o + 4);
}

/** XDR pads opaque data to a multiple of 4 bytes. Safe for any uint32 (no int32 overflow). */
export function padded(n: number): number {
  return n + ((4 - (n & 3)) & 3);
}
