/**
 * An IPFIX exporter with a 1 s active timeout for the latency benchmark, the way routers run
 * their flow cache: every packet is counted in its flow (one per source of a stream); a flow is
 * exported once it has been active for `activeMs` since its last export (a record covering that
 * time, flowStart/EndMilliseconds), and a last time when it has been idle for `inactiveMs`. The
 * cache is scanned every `scanMs`; records go out 30 to a datagram, the template with the first
 * datagram and every 50th. Sources of a new stream start within its first `rampMs` (an attack's
 * bots do not start in the same millisecond).
 */
import type { Socket } from 'node:dgram';
import { encodeIpfix, type SetSpec, type TemplateSpec } from '../../test/helpers/template-flows.js';
import type { TrafficStream } from './traffic.js';

const TEMPLATE: TemplateSpec = {
  id: 256,
  fields: [
    { id: 8, length: 4 }, // sourceIPv4Address
    { id: 12, length: 4 }, // destinationIPv4Address
    { id: 7, length: 2 }, // sourceTransportPort
    { id: 11, length: 2 }, // destinationTransportPort
    { id: 4, length: 1 }, // protocolIdentifier
    { id: 6, length: 1 }, // tcpControlBits
    { id: 2, length: 8 }, // packetDeltaCount
    { id: 1, length: 8 }, // octetDeltaCount
    { id: 152, length: 8 }, // flowStartMilliseconds
    { id: 153, length: 8 }, // flowEndMilliseconds
  ],
};
const RECORDS_PER_DATAGRAM = 30;
const TEMPLATE_EVERY = 50;

export interface IpfixExporterOptions {
  socket: Socket;
  host: string;
  port: number;
  activeMs?: number;
  inactiveMs?: number;
  scanMs?: number;
  rampMs?: number;
  onSend?: (streamIds: ReadonlySet<string>, sentAtMs: number) => void;
}

interface Flow {
  stream: TrafficStream;
  source: number;
  /** Epoch ms (exporter clock) of this flow's first packet, and of its first packet since the last export. */
  startsAtMs: number;
  periodStartMs: number;
  lastPacketMs: number;
  packets: number;
  ended: boolean;
}

const epochMs = () => performance.timeOrigin + performance.now();

export class IpfixExporter {
  private readonly flows = new Map<string, Flow[]>();
  private readonly activeMs: number;
  private readonly inactiveMs: number;
  private readonly scanMs: number;
  private readonly rampMs: number;
  private lastTickMs: number | undefined;
  private lastScanMs = 0;
  private sequence = 0;
  private datagrams = 0;

  constructor(private readonly options: IpfixExporterOptions) {
    this.activeMs = options.activeMs ?? 1000;
    this.inactiveMs = options.inactiveMs ?? 1000;
    this.scanMs = options.scanMs ?? 100;
    this.rampMs = options.rampMs ?? 100;
  }

  add(stream: TrafficStream): void {
    const now = epochMs();
    this.flows.set(
      stream.id,
      stream.sources.map((_, source) => {
        const startsAtMs = now + Math.random() * this.rampMs;
        return {
          stream,
          source,
          startsAtMs,
          periodStartMs: Number.NaN,
          lastPacketMs: Number.NaN,
          packets: 0,
          ended: false,
        };
      }),
    );
  }

  /** The stream's sources stop sending; their flows go out once the inactive timeout passes. */
  remove(id: string): void {
    for (const flow of this.flows.get(id) ?? []) flow.ended = true;
  }

  /** Counts the packets sent since the last tick, and scans the cache when a scan is due. */
  tick(): void {
    const now = epochMs();
    const from = this.lastTickMs ?? now;
    this.lastTickMs = now;
    for (const list of this.flows.values()) {
      for (const flow of list) {
        if (flow.ended || now < flow.startsAtMs) continue;
        const since = Math.max(from, flow.startsAtMs);
        if (Number.isNaN(flow.periodStartMs)) flow.periodStartMs = since;
        flow.packets += ((flow.stream.pps / flow.stream.sources.length) * (now - since)) / 1000;
        flow.lastPacketMs = now;
      }
    }
    if (now - this.lastScanMs >= this.scanMs) {
      this.lastScanMs = now;
      this.scan(now);
    }
  }

  private scan(now: number): void {
    const records: { flow: Flow; packets: number }[] = [];
    for (const [id, list] of this.flows) {
      let live = 0;
      for (const flow of list) {
        if (Number.isNaN(flow.periodStartMs)) {
          if (!flow.ended) live += 1;
          continue;
        }
        const idle = flow.ended && now - flow.lastPacketMs >= this.inactiveMs;
        if (idle || now - flow.periodStartMs >= this.activeMs) {
          const packets = Math.floor(flow.packets);
          if (packets > 0) records.push({ flow: { ...flow }, packets });
          flow.packets -= packets;
          flow.periodStartMs = idle ? Number.NaN : now;
        }
        if (!idle) live += 1;
      }
      if (live === 0) this.flows.delete(id);
    }
    for (let i = 0; i < records.length; i += RECORDS_PER_DATAGRAM) {
      this.send(records.slice(i, i + RECORDS_PER_DATAGRAM));
    }
  }

  private send(records: { flow: Flow; packets: number }[]): void {
    const sets: SetSpec[] = [];
    if (this.datagrams % TEMPLATE_EVERY === 0) sets.push({ templates: [TEMPLATE] });
    sets.push({
      template: TEMPLATE,
      records: records.map(({ flow, packets }) => ({
        '8': flow.stream.sources[flow.source]!,
        '12': flow.stream.dst,
        '7': flow.stream.srcPort(flow.source),
        '11': flow.stream.dstPort,
        '4': flow.stream.protocol,
        '6': flow.stream.tcpFlags,
        '2': packets,
        '1': packets * flow.stream.size,
        '152': BigInt(Math.round(flow.periodStartMs)),
        '153': BigInt(Math.round(flow.lastPacketMs)),
      })),
    });
    this.sequence += records.length;
    this.datagrams += 1;
    const datagram = encodeIpfix({ exportTime: Math.floor(epochMs() / 1000), sequence: this.sequence }, sets);
    this.options.onSend?.(new Set(records.map((r) => r.flow.stream.id)), performance.now());
    this.options.socket.send(datagram, this.options.port, this.options.host);
  }
}
