/**
 * SSH host key fingerprints the way OpenSSH prints them (`ssh-keygen -lf`, `ssh -v`):
 * "SHA256:" + base64 of the SHA-256 of the public key blob, without padding. Comparing in this
 * form lets an operator paste what the router prints into the configuration.
 */
import { createHash } from 'node:crypto';

export function hostKeyFingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type named at the start of the blob ("ssh-ed25519", "ecdsa-sha2-nistp256", ...). */
export function hostKeyType(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return 'unknown';
  const length = keyBlob.readUInt32BE(0);
  if (length === 0 || length > 64 || keyBlob.length < 4 + length) return 'unknown';
  return keyBlob.subarray(4, 4 + length).toString('latin1');
}
