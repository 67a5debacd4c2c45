/**
 * Configuration of a node adapter instance (`type: node`): the hosts whose own firewalls tier 1
 * changes, and how each is reached. The rules themselves (trigger → action → undo) are saved by
 * operators through the API or `floodgate rules`, not written here.
 */
import { z } from 'zod';
import { cidr } from '../../core/config/formats.js';
import { sshTargetSchema, USER_RE } from '../exec/ssh-config.js';
import { nodeCloudConfigSchema } from './cloud-entries.js';

export const NODE_CAPABILITIES = ['firewall'] as const;

const nodeSchema = z
  .object({
    /** The name rules use in their scope ("web1"); also shown in audit entries. */
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/, 'must be lower-case letters, digits, ".", "-" and "_"'),
    /**
     * The prefixes whose hosts this node carries: a rule runs on a node only for a target inside
     * one of them. Empty: every target (the appliance host protecting itself, a lone server).
     */
    serves: z.array(cidr).default([]),
    /** Reach the node over SSH; absent: the node is the appliance host itself. */
    ssh: sshTargetSchema.optional(),
    /** For the appliance host itself: run commands through `sudo -n --` (as root). */
    sudo: z.boolean().default(false),
    /**
     * For the appliance host itself: run commands as this user, through `sudo -n -u USER --`
     * (sudoers must let Floodgate's user run the firewall tools as USER without a password).
     */
    runAs: z
      .string()
      .regex(USER_RE, { message: 'must be a user name (letters, digits, "_", ".", "-")' })
      .optional(),
    /**
     * For the appliance host itself: run commands inside this network namespace
     * (`ip netns exec NAME ...`), for servers that live in namespaces on the appliance.
     */
    netns: z
      .string()
      .regex(
        /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/,
        'must be a network namespace name (letters, digits, ".", "-", "_")',
      )
      .optional(),
  })
  .strict()
  .refine((n) => n.ssh === undefined || n.netns === undefined, {
    message: 'a node is reached over ssh or is a local network namespace, not both',
  })
  .refine((n) => n.ssh === undefined || (n.runAs === undefined && !n.sudo), {
    message:
      'over ssh the node runs commands as ssh.user (with ssh.sudo for root); runAs and sudo are for the appliance host',
  });

export const nodeConfigSchema = z
  .object({
    nodes: z
      .array(nodeSchema)
      .min(1)
      .refine((l) => new Set(l.map((n) => n.name)).size === l.length, { message: 'names a node twice' })
      .default([{ name: 'local', serves: [], sudo: false }]),
    /** Deadline of each command on a node. */
    commandTimeoutMs: z.number().int().min(100).max(120_000).default(10_000),
    /** Most rule runs (rule × node) one firewall intent may start; the rest are refused and audited. */
    maxRunsPerIntent: z.number().int().min(1).max(1000).default(32),
    /** Cloud firewall accounts the cloud actions use (Cloudflare zone, DigitalOcean firewall, Vultr group). */
    cloud: nodeCloudConfigSchema.prefault({}),
  })
  .strict();

export type NodeAdapterConfig = z.infer<typeof nodeConfigSchema>;
export type NodeConfig = NodeAdapterConfig['nodes'][number];
