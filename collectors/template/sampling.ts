/**
 * Sampling parameters as exporters state them, in options data (per exporter and domain, or
 * per sampler/selector) or inline in flow records, reduced to the one number Floodgate scales
 * by: "1 in N". NetFlow v9 and old IPFIX exporters give N directly (samplingInterval 34,
 * samplerRandomInterval 50); PSAMP exporters (RFC 5477) give count-based intervals
 * (305/306), n-out-of-N sizes (309/310) or a probability (311).
 */

import { readFloat, readUint } from './bytes.js';
import { K } from './information-elements.js';

/** Largest rate a FlowBatch row holds (uint32). */
const MAX_RATE = 0xffffffff;

export class SamplingValues {
  interval = 0;
  packetInterval = 0;
  packetSpace = 0;
  size = 0;
  population = 0;
  probability = 0;
  /** samplerId (48) or selectorId (302); -1 when the record names none. */
  samplerId = -1;

  reset(): void {
    this.interval = 0;
    this.packetInterval = 0;
    this.packetSpace = 0;
    this.size = 0;
    this.population = 0;
    this.probability = 0;
    this.samplerId = -1;
  }

  /** The rate the values describe, 0 when they describe none. */
  rate(): number {
    let rate = 0;
    if (this.interval > 0) rate = this.interval;
    else if (this.packetInterval > 0) rate = (this.packetInterval + this.packetSpace) / this.packetInterval;
    else if (this.size > 0 && this.population > 0) rate = this.population / this.size;
    else if (this.probability > 0 && this.probability <= 1) rate = 1 / this.probability;
    if (!(rate > 0)) return 0;
    return Math.min(MAX_RATE, Math.max(1, Math.round(rate)));
  }
}

/** Sampling parameters, in flow records and options records alike; other kinds are ignored. */
export function readSamplingField(
  kind: number,
  b: Uint8Array,
  at: number,
  width: number,
  s: SamplingValues,
): void {
  switch (kind) {
    case K.SAMPLING_INTERVAL:
      s.interval = readUint(b, at, width);
      break;
    case K.SAMPLER_ID:
      s.samplerId = readUint(b, at, width);
      break;
    case K.PACKET_INTERVAL:
      s.packetInterval = readUint(b, at, width);
      break;
    case K.PACKET_SPACE:
      s.packetSpace = readUint(b, at, width);
      break;
    case K.SAMPLING_SIZE:
      s.size = readUint(b, at, width);
      break;
    case K.SAMPLING_POPULATION:
      s.population = readUint(b, at, width);
      break;
    case K.SAMPLING_PROBABILITY:
      s.probability = readFloat(b, at, width);
      break;
    default:
      break;
  }
}
