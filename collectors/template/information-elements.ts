/**
 * The information elements Floodgate reads, from the IANA IPFIX registry (RFC 7012 and later),
 * and what each one feeds. NetFlow v9 field types below 128 are the same numbers with the same
 * meaning (IPFIX grew out of v9), and v9 exporters use the IANA numbers above 127 too (ICMP
 * type/code 176-179, Cisco ASA's 152/153 times), so one table serves both protocols.
 *
 * A template is compiled once into steps whose kind is one of the FieldKind numbers below;
 * the data path switches on the kind and never looks an element up by id.
 */

/** Element ids, named as in the IANA registry. */
export const IE = {
  octetDeltaCount: 1,
  packetDeltaCount: 2,
  protocolIdentifier: 4,
  tcpControlBits: 6,
  sourceTransportPort: 7,
  sourceIPv4Address: 8,
  ingressInterface: 10,
  destinationTransportPort: 11,
  destinationIPv4Address: 12,
  egressInterface: 14,
  flowEndSysUpTime: 21,
  flowStartSysUpTime: 22,
  postOctetDeltaCount: 23,
  postPacketDeltaCount: 24,
  sourceIPv6Address: 27,
  destinationIPv6Address: 28,
  icmpTypeCodeIPv4: 32,
  samplingInterval: 34,
  samplingAlgorithm: 35,
  samplerId: 48,
  samplerMode: 49,
  samplerRandomInterval: 50,
  ipVersion: 60,
  octetTotalCount: 85,
  packetTotalCount: 86,
  fragmentOffset: 88,
  icmpTypeCodeIPv6: 139,
  flowStartSeconds: 150,
  flowEndSeconds: 151,
  flowStartMilliseconds: 152,
  flowEndMilliseconds: 153,
  flowStartMicroseconds: 154,
  flowEndMicroseconds: 155,
  flowStartNanoseconds: 156,
  flowEndNanoseconds: 157,
  flowStartDeltaMicroseconds: 158,
  flowEndDeltaMicroseconds: 159,
  systemInitTimeMilliseconds: 160,
  flowDurationMilliseconds: 161,
  flowDurationMicroseconds: 162,
  icmpTypeIPv4: 176,
  icmpCodeIPv4: 177,
  icmpTypeIPv6: 178,
  icmpCodeIPv6: 179,
  udpSourcePort: 180,
  udpDestinationPort: 181,
  tcpSourcePort: 182,
  tcpDestinationPort: 183,
  fragmentFlags: 197,
  selectorId: 302,
  samplingPacketInterval: 305,
  samplingPacketSpace: 306,
  samplingSize: 309,
  samplingPopulation: 310,
  samplingProbability: 311,
} as const;

/** What a template step does with its bytes. 0 is "skip": unknown, enterprise or unusable. */
export const K = {
  SKIP: 0,
  SRC_V4: 1,
  DST_V4: 2,
  SRC_V6: 3,
  DST_V6: 4,
  SRC_PORT: 5,
  DST_PORT: 6,
  PROTOCOL: 7,
  TCP_FLAGS: 8,
  /** type × 256 + code in one integer (IE 32, 139). */
  ICMP_TYPE_CODE: 9,
  ICMP_TYPE: 10,
  ICMP_CODE: 11,
  IN_IF: 12,
  OUT_IF: 13,
  PACKETS_DELTA: 14,
  BYTES_DELTA: 15,
  PACKETS_TOTAL: 16,
  BYTES_TOTAL: 17,
  PACKETS_POST: 18,
  BYTES_POST: 19,
  START_UPTIME: 20,
  END_UPTIME: 21,
  START_SECONDS: 22,
  END_SECONDS: 23,
  START_MILLIS: 24,
  END_MILLIS: 25,
  /** NTP-format timestamps (154-157). */
  START_NTP: 26,
  END_NTP: 27,
  START_DELTA_MICROS: 28,
  END_DELTA_MICROS: 29,
  DURATION_MILLIS: 30,
  DURATION_MICROS: 31,
  IP_VERSION: 32,
  FRAGMENT_FLAGS: 33,
  FRAGMENT_OFFSET: 34,
  SAMPLING_INTERVAL: 35,
  SAMPLER_ID: 36,
  PACKET_INTERVAL: 37,
  PACKET_SPACE: 38,
  SAMPLING_SIZE: 39,
  SAMPLING_POPULATION: 40,
  SAMPLING_PROBABILITY: 41,
  SYSTEM_INIT_MILLIS: 42,
} as const;

export type FieldKind = (typeof K)[keyof typeof K];

/** Highest element id with a kind; anything above is skipped without a lookup. */
const MAX_KNOWN_ID = 311;
const kindById = new Uint8Array(MAX_KNOWN_ID + 1);

const table: [number, FieldKind][] = [
  [IE.octetDeltaCount, K.BYTES_DELTA],
  [IE.packetDeltaCount, K.PACKETS_DELTA],
  [IE.protocolIdentifier, K.PROTOCOL],
  [IE.tcpControlBits, K.TCP_FLAGS],
  [IE.sourceTransportPort, K.SRC_PORT],
  [IE.sourceIPv4Address, K.SRC_V4],
  [IE.ingressInterface, K.IN_IF],
  [IE.destinationTransportPort, K.DST_PORT],
  [IE.destinationIPv4Address, K.DST_V4],
  [IE.egressInterface, K.OUT_IF],
  [IE.flowEndSysUpTime, K.END_UPTIME],
  [IE.flowStartSysUpTime, K.START_UPTIME],
  [IE.postOctetDeltaCount, K.BYTES_POST],
  [IE.postPacketDeltaCount, K.PACKETS_POST],
  [IE.sourceIPv6Address, K.SRC_V6],
  [IE.destinationIPv6Address, K.DST_V6],
  [IE.icmpTypeCodeIPv4, K.ICMP_TYPE_CODE],
  [IE.samplingInterval, K.SAMPLING_INTERVAL],
  [IE.samplerId, K.SAMPLER_ID],
  [IE.samplerRandomInterval, K.SAMPLING_INTERVAL],
  [IE.ipVersion, K.IP_VERSION],
  [IE.octetTotalCount, K.BYTES_TOTAL],
  [IE.packetTotalCount, K.PACKETS_TOTAL],
  [IE.fragmentOffset, K.FRAGMENT_OFFSET],
  [IE.icmpTypeCodeIPv6, K.ICMP_TYPE_CODE],
  [IE.flowStartSeconds, K.START_SECONDS],
  [IE.flowEndSeconds, K.END_SECONDS],
  [IE.flowStartMilliseconds, K.START_MILLIS],
  [IE.flowEndMilliseconds, K.END_MILLIS],
  [IE.flowStartMicroseconds, K.START_NTP],
  [IE.flowEndMicroseconds, K.END_NTP],
  [IE.flowStartNanoseconds, K.START_NTP],
  [IE.flowEndNanoseconds, K.END_NTP],
  [IE.flowStartDeltaMicroseconds, K.START_DELTA_MICROS],
  [IE.flowEndDeltaMicroseconds, K.END_DELTA_MICROS],
  [IE.systemInitTimeMilliseconds, K.SYSTEM_INIT_MILLIS],
  [IE.flowDurationMilliseconds, K.DURATION_MILLIS],
  [IE.flowDurationMicroseconds, K.DURATION_MICROS],
  [IE.icmpTypeIPv4, K.ICMP_TYPE],
  [IE.icmpCodeIPv4, K.ICMP_CODE],
  [IE.icmpTypeIPv6, K.ICMP_TYPE],
  [IE.icmpCodeIPv6, K.ICMP_CODE],
  [IE.udpSourcePort, K.SRC_PORT],
  [IE.udpDestinationPort, K.DST_PORT],
  [IE.tcpSourcePort, K.SRC_PORT],
  [IE.tcpDestinationPort, K.DST_PORT],
  [IE.fragmentFlags, K.FRAGMENT_FLAGS],
  [IE.selectorId, K.SAMPLER_ID],
  [IE.samplingPacketInterval, K.PACKET_INTERVAL],
  [IE.samplingPacketSpace, K.PACKET_SPACE],
  [IE.samplingSize, K.SAMPLING_SIZE],
  [IE.samplingPopulation, K.SAMPLING_POPULATION],
  [IE.samplingProbability, K.SAMPLING_PROBABILITY],
];
for (const [id, kind] of table) kindById[id] = kind;

/** IPFIX's marker for a variable-length field (RFC 7011 §7). */
export const VARIABLE_LENGTH = 0xffff;

/** The kind of an element, SKIP for enterprise-specific and unknown ones. */
export function kindOf(id: number, enterprise: number): FieldKind {
  if (enterprise !== 0 || id > MAX_KNOWN_ID) return K.SKIP;
  return kindById[id]! as FieldKind;
}

/** Can `kind` be read from a field of `length` bytes? Integers take any width 1..8. */
export function widthFits(kind: FieldKind, length: number): boolean {
  switch (kind) {
    case K.SKIP:
      return true;
    case K.SRC_V4:
    case K.DST_V4:
      return length === 4;
    case K.SRC_V6:
    case K.DST_V6:
      return length === 16;
    case K.START_NTP:
    case K.END_NTP:
      return length === 8;
    case K.SAMPLING_PROBABILITY:
      return length === 4 || length === 8;
    default:
      return length >= 1 && length <= 8;
  }
}

/** Kinds that state a sampling rate or name the sampler whose rate applies. */
export function isSamplingKind(kind: FieldKind): boolean {
  return kind >= K.SAMPLING_INTERVAL && kind <= K.SAMPLING_PROBABILITY;
}
