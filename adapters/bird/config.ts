/**
 * Configuration of a BIRD 2 adapter instance (`type: bird`). The adapter owns one include file of
 * static protocols holding Floodgate's flow4/flow6 and RTBH routes; BIRD's own configuration
 * includes it and exports those protocols' routes to its BGP peers (docs/adapters.md).
 */
import { join } from 'node:path';
import { z } from 'zod';
import { FloodgateError } from '../../core/errors.js';

export const BIRD_CAPABILITIES = ['flowspec4', 'flowspec6', 'rtbh4', 'rtbh6'] as const;

/** A BIRD symbol: protocol and table names. */
const symbol = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, { message: 'must be a BIRD name: letters, digits and _' });

/** A path BIRD's lexer reads inside double quotes. */
const quotablePath = z
  .string()
  .min(1)
  .refine((s) => !/["\r\n\\]/.test(s), { message: 'must not contain quotes, backslashes or newlines' });

export const birdConfigSchema = z
  .object({
    /** BIRD's control socket (birdc -s). Debian's BIRD 2 uses /run/bird/bird.ctl. */
    socket: z.string().min(1).default('/run/bird/bird.ctl'),
    /** The birdc program. */
    birdc: z.string().min(1).default('birdc'),
    /**
     * BIRD's main configuration file, passed to `configure check` and `configure`; without it
     * BIRD re-reads the file it was started with.
     */
    configFile: quotablePath.optional(),
    /** The include file this adapter owns; default `<stateDir>/bird-<name>.conf`. */
    includeFile: quotablePath.optional(),
    /** Names of the static protocols in the include file: PREFIX_flow4, _flow6, _rtbh4, _rtbh6. */
    protocolPrefix: symbol.optional(),
    /** The tables those protocols put routes in; flow tables must be declared in bird.conf. */
    tables: z
      .object({
        flow4: symbol.default('ft4'),
        flow6: symbol.default('ft6'),
        ipv4: symbol.default('master4'),
        ipv6: symbol.default('master6'),
      })
      .strict()
      .default({ flow4: 'ft4', flow6: 'ft6', ipv4: 'master4', ipv6: 'master6' }),
    capabilities: z
      .array(z.enum(BIRD_CAPABILITIES))
      .min(1)
      .refine((list) => new Set(list).size === list.length, { message: 'lists a capability twice' })
      .default([...BIRD_CAPABILITIES]),
    timeouts: z
      .object({
        /** How long one birdc call may take before it is killed and the change rolled back. */
        commandMs: z.number().int().min(100).max(600_000).default(10_000),
      })
      .strict()
      .default({ commandMs: 10_000 }),
  })
  .strict();

export type BirdConfig = z.infer<typeof birdConfigSchema>;

export function birdIncludeFile(
  config: Pick<BirdConfig, 'includeFile'>,
  name: string,
  stateDir?: string,
): string {
  if (config.includeFile !== undefined) return config.includeFile;
  if (stateDir === undefined) {
    throw new FloodgateError(
      'FG_ERR_CONFIG_INVALID',
      `bird adapter "${name}": set config.includeFile (there is no state directory to put it in)`,
      { adapter: name },
    );
  }
  return join(stateDir, `bird-${name}.conf`);
}

export function birdProtocolPrefix(config: Pick<BirdConfig, 'protocolPrefix'>, name: string): string {
  return config.protocolPrefix ?? `floodgate_${name.replace(/[^A-Za-z0-9_]/g, '_')}`.slice(0, 56);
}
