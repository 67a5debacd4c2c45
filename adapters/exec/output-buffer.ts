/**
 * Collects a command's stdout or stderr up to a cap, so a runaway command cannot exhaust the
 * daemon's memory; the runner fails the command when the cap is passed.
 */

/** Larger than any `show running-config` or rule listing Floodgate reads. */
export const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;

export interface OutputBuffer {
  /** Adds a chunk; false once the cap is passed (the chunk is dropped). */
  push(chunk: Buffer): boolean;
  text(): string;
}

export function outputBuffer(maxBytes = MAX_OUTPUT_BYTES): OutputBuffer {
  const chunks: Buffer[] = [];
  let size = 0;
  return {
    push(chunk) {
      size += chunk.length;
      if (size > maxBytes) return false;
      chunks.push(chunk);
      return true;
    },
    text: () => Buffer.concat(chunks).toString('utf8'),
  };
}
