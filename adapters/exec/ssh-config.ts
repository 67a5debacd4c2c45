/**
 * Where and how to reach a node over SSH, as written in floodgate.yaml (an `ssh:` block). Shared
 * by every adapter that runs commands on a remote machine. Key authentication only, and the
 * server's host key is pinned by its SHA-256 fingerprint: Floodgate never trusts a key on first
 * use and has no known_hosts file.
 */
import { z } from 'zod';
import { parseAddress } from '../../core/net/address.js';

/** What `ssh-keygen -lf key.pub` prints: "SHA256:" and 43 base64 characters, no padding. */
export const HOST_KEY_FINGERPRINT_RE = /^SHA256:[A-Za-z0-9+/]{43}$/;

const HOSTNAME_RE =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*\.?$/;
/** A POSIX user name as useradd accepts it; never starts with "-", so it cannot pass for an option. */
export const USER_RE = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/;

export const sshTargetSchema = z
  .object({
    /** The node's address or DNS name. */
    host: z.string().refine((h) => parseAddress(h) !== undefined || HOSTNAME_RE.test(h), {
      message: 'must be an IP address or a host name',
    }),
    port: z.number().int().min(1).max(65535).default(22),
    /** The remote user; it needs the rights the adapter's commands need (or sudo: true). */
    user: z.string().regex(USER_RE, { message: 'must be a user name (letters, digits, "_", ".", "-")' }),
    /** The private key (OpenSSH or PEM format) Floodgate authenticates with. */
    privateKeyFile: z.string().startsWith('/', { message: 'must be an absolute path' }),
    /**
     * For an encrypted private key: a file (mode 0600, readable by Floodgate) holding its
     * passphrase on its first line. Kept out of floodgate.yaml so the configuration can be shared.
     */
    passphraseFile: z.string().startsWith('/', { message: 'must be an absolute path' }).optional(),
    /**
     * The server's host key fingerprint, as `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub`
     * prints it on the node; any other key is refused.
     */
    hostKey: z.string().regex(HOST_KEY_FINGERPRINT_RE, {
      message: 'must be a SHA256 fingerprint as "ssh-keygen -lf" prints it: SHA256: and 43 base64 characters',
    }),
    /** Run every command as `sudo -n -- ...` (the user needs passwordless sudo for them). */
    sudo: z.boolean().default(false),
    /** Deadline for TCP connect, handshake and authentication. */
    connectTimeoutMs: z.number().int().min(500).max(120_000).default(10_000),
    /** SSH keepalive interval on the kept connection; 0 turns keepalives off. */
    keepaliveIntervalMs: z.number().int().min(0).max(600_000).default(15_000),
  })
  .strict();

export type SshTarget = z.infer<typeof sshTargetSchema>;
