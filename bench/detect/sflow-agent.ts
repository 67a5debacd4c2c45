/**
 * An sFlow v5 agent for the latency benchmark: samples 1 in `samplingRate` packets of the
 * streams it carries, keeps each sample's first 128 bytes of header, and sends a datagram as
 * soon as it holds `samplesPerDatagram` samples (what fits an MTU), or once its oldest sample
 * has waited `flushMs` (agents report at least once a second). It says which streams each
 * datagram carried and when it was sent, so the benchmark knows when the first datagram
 * carrying an attack left.
 */
import type { Socket } from 'node:dgram';
import { encodeSflow, type FlowSampleSpec } from '../../test/helpers/sflow.js';
import { framesOf, type TrafficStream } from './traffic.js';

const HEADER_BYTES = 128;

export interface SflowAgentOptions {
  socket: Socket;
  host: string;
  port: number;
  samplingRate: number;
  samplesPerDatagram?: number;
  flushMs?: number;
  /** Called right before each datagram is handed to the socket (performance.now()). */
  onSend?: (streamIds: ReadonlySet<string>, sentAtMs: number) => void;
}

interface Carried {
  stream: TrafficStream;
  frames: Uint8Array[];
  /** Samples owed but not yet taken (fractional). */
  due: number;
  next: number;
}

export class SflowAgent {
  private readonly streams = new Map<string, Carried>();
  private buffer: { sample: FlowSampleSpec; stream: string }[] = [];
  private oldestMs = 0;
  private sequence = 1;
  private sampleSequence = 1;
  private readonly perDatagram: number;
  private readonly flushMs: number;
  private lastTickMs: number | undefined;

  constructor(private readonly options: SflowAgentOptions) {
    this.perDatagram = options.samplesPerDatagram ?? 7;
    this.flushMs = options.flushMs ?? 1000;
  }

  add(stream: TrafficStream): void {
    // A random phase, so streams added together do not sample in lockstep.
    this.streams.set(stream.id, { stream, frames: framesOf(stream), due: Math.random(), next: 0 });
  }

  remove(id: string): void {
    this.streams.delete(id);
  }

  /** Takes the samples owed since the last tick and sends what is ready. */
  tick(nowMs: number): void {
    const dt = this.lastTickMs === undefined ? 0 : (nowMs - this.lastTickMs) / 1000;
    this.lastTickMs = nowMs;
    for (const carried of this.streams.values()) {
      carried.due += (carried.stream.pps / this.options.samplingRate) * dt;
      while (carried.due >= 1) {
        carried.due -= 1;
        this.take(carried, nowMs);
      }
    }
    if (this.buffer.length > 0 && nowMs - this.oldestMs >= this.flushMs) this.flush();
  }

  private take(carried: Carried, nowMs: number): void {
    const frame = carried.frames[carried.next]!;
    carried.next = (carried.next + 1) % carried.frames.length;
    if (this.buffer.length === 0) this.oldestMs = nowMs;
    this.buffer.push({
      stream: carried.stream.id,
      sample: {
        kind: 'flow',
        sequence: this.sampleSequence++,
        samplingRate: this.options.samplingRate,
        samplePool: this.sampleSequence * this.options.samplingRate,
        input: 1,
        output: 2,
        records: [
          {
            kind: 'raw-header',
            header: frame.subarray(0, HEADER_BYTES),
            frameLength: frame.length + 4,
          },
        ],
      },
    });
    if (this.buffer.length >= this.perDatagram) this.flush();
  }

  private flush(): void {
    const batch = this.buffer;
    this.buffer = [];
    const datagram = encodeSflow({
      agent: '192.0.2.10',
      sequence: this.sequence++,
      uptimeMs: Math.round(performance.now()),
      samples: batch.map((b) => b.sample),
    });
    this.options.onSend?.(new Set(batch.map((b) => b.stream)), performance.now());
    this.options.socket.send(datagram, this.options.port, this.options.host);
  }
}
