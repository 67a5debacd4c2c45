/**
 * The `detection` section of floodgate.yaml: which networks are watched, the static thresholds
 * that open incidents (globally, per monitored network, per host group and per host, for the
 * whole traffic and per traffic class), the dynamic baselines, the incident lifecycle and the
 * bounds of the counting state.
 *
 * Thresholds resolve per rule (a metric of the whole traffic or of one class), most specific
 * first: the host's own entry, its host group, the monitored networks around it from the
 * closest out, the global value (core/detect/thresholds.ts). Omitting a global threshold
 * disables that rule; an override disables it for itself with `null`.
 */
import { z } from 'zod';
import { cidr, ipAddress } from '../config/formats.js';
import { formatPrefix, parseAddress, parsePrefix, prefixCovers } from '../net/address.js';
import { MAX_WINDOW_SECONDS } from '../traffic/second-ring.js';

/** The traffic classes a threshold can name, in rule order (core/detect/rules.ts). */
export const TRAFFIC_CLASS_NAMES = [
  'tcp',
  'udp',
  'icmp',
  'gre',
  'syn',
  'ackRst',
  'fragment',
  'amplification',
] as const;
export type TrafficClassName = (typeof TRAFFIC_CLASS_NAMES)[number];
export const METRIC_NAMES = ['pps', 'bps', 'flows'] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

const rate = z.number().positive();

/** pps, bps and flows (flows/s) for the whole traffic, and the same per traffic class. */
function ratesSchema<T extends z.ZodType>(value: T) {
  const metrics = { pps: value.optional(), bps: value.optional(), flows: value.optional() };
  const perClass = z.object(metrics).strict().optional();
  return z
    .object({
      ...metrics,
      tcp: perClass,
      udp: perClass,
      icmp: perClass,
      gre: perClass,
      /** TCP with SYN and without ACK. */
      syn: perClass,
      /** TCP with ACK or RST and none of SYN, FIN, PSH. */
      ackRst: perClass,
      fragment: perClass,
      /** UDP from reflector source ports (53, 123, 11211, 1900, 389, 19, 161, 111, 3702, 37810). */
      amplification: perClass,
    })
    .strict();
}

/**
 * Thresholds on what a host receives, and under `outbound` the same rules on what a host of the
 * monitored networks sends (records whose source it is).
 */
function thresholdsSchema<T extends z.ZodType>(value: T) {
  return ratesSchema(value)
    .extend({ outbound: ratesSchema(value).optional() })
    .strict();
}

/** Global thresholds: a value is a positive rate; leave it out to disable the rule. */
export const globalThresholdsSchema = thresholdsSchema(rate);
/** A network's, group's or host's thresholds: a value overrides, `null` disables. */
export const overrideThresholdsSchema = thresholdsSchema(rate.nullable());
export type ThresholdSettings = z.infer<typeof overrideThresholdsSchema>;
/** One direction's rules (the thresholds without `outbound`): what rules.ts reads. */
export type RuleSettings = z.infer<ReturnType<typeof ratesSchema<z.ZodNullable<z.ZodNumber>>>>;

export const monitoredNetworkSchema = z
  .object({
    prefix: cidr,
    name: z.string().min(1).optional(),
    /** Per-host thresholds for the hosts of this network. */
    thresholds: overrideThresholdsSchema.optional(),
    /**
     * Thresholds on the network's total traffic: crossing one while no host of the network is
     * over its own thresholds is carpet bombing, an incident on the whole prefix. Not inherited.
     */
    totals: ratesSchema(rate).optional(),
  })
  .strict();

export const hostGroupSchema = z
  .object({
    name: z.string().min(1),
    prefixes: z.array(cidr).min(1),
    thresholds: overrideThresholdsSchema.optional(),
  })
  .strict();

export const hostEntrySchema = z
  .object({
    address: ipAddress,
    name: z.string().min(1).optional(),
    thresholds: overrideThresholdsSchema,
  })
  .strict();

/** Floors of the dynamic thresholds, keyed like thresholds: a rule without a floor has no dynamic threshold. */
const floorsSchema = ratesSchema(rate);

export const baselineConfigSchema = z
  .object({
    /** Dynamic thresholds: multiplier x the percentile of recent per-minute rates, never below the floor. */
    enabled: z.boolean().default(true),
    /** How much history the percentile covers. */
    windowSeconds: z
      .number()
      .int()
      .min(3600)
      .max(90 * 86400)
      .default(7 * 86400),
    /** History is kept per slice; the oldest slice leaves the window whole. At most 65535 minutes. */
    sliceSeconds: z
      .number()
      .int()
      .min(60)
      .max(65535 * 60)
      .default(86400),
    percentile: z.number().min(50).max(100).default(99),
    multiplier: z.number().min(1).default(3),
    /**
     * Per-host floors; a rule without a floor has no dynamic threshold. Per traffic class too
     * (`syn: { pps: 2000 }`): each rule with a floor costs 40 buckets x 2 bytes per slice per host.
     */
    floor: floorsSchema.default({ pps: 10_000, bps: 500_000_000 }),
    /** Floors for a monitored network's total traffic (the group baseline), keyed the same way. */
    networkFloor: floorsSchema.default({ pps: 100_000, bps: 5_000_000_000 }),
    /** Observed time the window must hold before dynamic thresholds fire. */
    learningSeconds: z.number().int().min(0).default(86400),
    /** Hosts with a baseline at once; only hosts that ever reach floor / multiplier need one. */
    hostCapacity: z.number().int().min(1).max(16_777_216).default(65_536),
  })
  .strict()
  .superRefine((b, ctx) => {
    if (b.windowSeconds % b.sliceSeconds !== 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['sliceSeconds'],
        message: `must divide windowSeconds (${b.windowSeconds}) evenly`,
      });
    } else if (b.windowSeconds / b.sliceSeconds > 64) {
      ctx.addIssue({
        code: 'custom',
        path: ['sliceSeconds'],
        message: `gives ${b.windowSeconds / b.sliceSeconds} slices; at most 64 are kept`,
      });
    }
  });
export type BaselineConfig = z.infer<typeof baselineConfigSchema>;

export const detectionConfigSchema = z
  .object({
    networks: z
      .array(monitoredNetworkSchema)
      .min(1)
      .default([{ prefix: '0.0.0.0/0' }, { prefix: '::/0' }]),
    /** Per destination host, unless a network, group or host says otherwise. */
    thresholds: globalThresholdsSchema.default({ pps: 20_000, bps: 1_000_000_000 }),
    /** Named groups of prefixes sharing per-host thresholds (threshold templates). */
    hostGroups: z.array(hostGroupSchema).default([]),
    /** Single hosts with their own thresholds. */
    hosts: z.array(hostEntrySchema).default([]),
    /** Seconds averaged into a host's rate (and length of one breakdown generation). */
    windowSeconds: z.number().int().min(1).max(MAX_WINDOW_SECONDS).default(3),
    /** How long a target must be over before its incident opens (counted in traffic time, see docs). */
    openAfterSeconds: z.number().min(0).max(60).default(1),
    /**
     * Seconds a target must stay below every threshold before its incident closes; crossing
     * again within it continues the same incident (the grace period).
     */
    holdDownSeconds: z.number().int().min(0).default(60),
    /** Severity (peak / threshold) from which an incident is medium, high, critical; below: low. */
    severityLevels: z
      .object({ medium: rate, high: rate, critical: rate })
      .strict()
      .refine((l) => l.medium <= l.high && l.high <= l.critical, {
        message: 'levels must be in order: medium <= high <= critical',
      })
      .default({ medium: 2, high: 5, critical: 10 }),
    /** Below either, an incident says its evidence is thin (sampling too sparse to be sure). */
    evidence: z
      .object({
        minRecords: z.number().int().min(0).default(10),
        minSampledPackets: z.number().int().min(0).default(100),
      })
      .strict()
      .prefault({}),
    /** Closer watch (top sources, ports, flags) for targets over `ratio` x a threshold. */
    focus: z
      .object({
        capacity: z.number().int().min(1).max(1_048_576).default(1024),
        ratio: z.number().gt(0).max(1).default(0.5),
      })
      .strict()
      .prefault({}),
    baseline: baselineConfigSchema.prefault({}),
    /** Most hosts counted at once; further new hosts are refused and counted as overflow. */
    hostCapacity: z.number().int().min(1).max(16_777_216).default(262_144),
    /**
     * Most source hosts of the monitored networks counted at once for outbound thresholds;
     * allocated only when some `outbound` threshold is set.
     */
    outboundHostCapacity: z.number().int().min(1).max(16_777_216).default(65_536),
    /** A host with no flow for this long is forgotten (unless it has an open incident). */
    hostIdleSeconds: z.number().int().min(1).default(120),
  })
  .strict()
  .superRefine((config, ctx) => {
    const networks: { index: number; prefix: NonNullable<ReturnType<typeof parsePrefix>> }[] = [];
    const seen = new Map<string, number>();
    config.networks.forEach((n, i) => {
      const parsed = parsePrefix(n.prefix);
      if (!parsed) return; // reported by `cidr`
      const key = formatPrefix(parsed);
      const first = seen.get(key);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['networks', i, 'prefix'],
          message: `${n.prefix} is already monitored by networks[${first}]; list each prefix once`,
        });
      } else {
        seen.set(key, i);
        networks.push({ index: i, prefix: parsed });
      }
    });
    const monitored = (text: string) => {
      const p = parsePrefix(text);
      return p !== undefined && networks.some((n) => prefixCovers(n.prefix, p));
    };
    const groupNames = new Map<string, number>();
    const groupPrefixes = new Map<string, string>();
    config.hostGroups.forEach((g, i) => {
      const first = groupNames.get(g.name);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['hostGroups', i, 'name'],
          message: `host group ${g.name} is already defined by hostGroups[${first}]`,
        });
      } else {
        groupNames.set(g.name, i);
      }
      g.prefixes.forEach((text, j) => {
        const p = parsePrefix(text);
        if (!p) return;
        const key = formatPrefix(p);
        const owner = groupPrefixes.get(key);
        if (owner !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['hostGroups', i, 'prefixes', j],
            message: `${text} already belongs to host group ${owner}; a prefix is in one group`,
          });
        } else {
          groupPrefixes.set(key, g.name);
        }
        if (!monitored(text)) {
          ctx.addIssue({
            code: 'custom',
            path: ['hostGroups', i, 'prefixes', j],
            message: `${text} lies in no monitored network (detection.networks); its hosts would never be counted`,
          });
        }
      });
    });
    const hosts = new Map<string, number>();
    config.hosts.forEach((h, i) => {
      const a = parseAddress(h.address);
      if (!a) return;
      const key = a.words.join(':');
      const first = hosts.get(key);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['hosts', i, 'address'],
          message: `${h.address} is already listed by hosts[${first}]`,
        });
      } else {
        hosts.set(key, i);
      }
      if (!monitored(h.address)) {
        ctx.addIssue({
          code: 'custom',
          path: ['hosts', i, 'address'],
          message: `${h.address} lies in no monitored network (detection.networks); it would never be counted`,
        });
      }
    });
  });

export type DetectionConfig = z.infer<typeof detectionConfigSchema>;
export type MonitoredNetwork = z.infer<typeof monitoredNetworkSchema>;
export type HostGroup = z.infer<typeof hostGroupSchema>;
export type HostEntry = z.infer<typeof hostEntrySchema>;
