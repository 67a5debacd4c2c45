/**
 * Inputs that broke the decoders' contract, kept as files a regression test can replay:
 * collectors/testdata/crashers/<protocol>-<hash>.bin, the protocol as the decoder table sniffs
 * it and the hash of the bytes, so the same input found twice is one file.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sniffProtocol } from '../../collectors/registry.js';

export const CRASHERS_DIR = fileURLToPath(new URL('../../collectors/testdata/crashers/', import.meta.url));

export function crasherName(input: Uint8Array): string {
  const hash = createHash('sha256').update(input).digest('hex').slice(0, 16);
  return `${sniffProtocol(input) ?? 'unknown'}-${hash}.bin`;
}

/** Writes the input (once) and returns its path. */
export function writeCrasher(dir: string, input: Uint8Array): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, crasherName(input));
  if (!existsSync(path)) writeFileSync(path, input);
  return path;
}
