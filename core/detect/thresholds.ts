/**
 * Resolves the configured thresholds once, at start-up, into flat profiles the per-second
 * evaluation reads without looking anything up.
 *
 * Leaves. Every distinct prefix named by the configuration (monitored networks, host-group
 * prefixes, single hosts) becomes a leaf of the counter's prefix trie; a host takes the profile
 * of its longest matching leaf. For a leaf, each rule takes the first value set by, in order:
 *   1. the host entry (when the leaf is a configured host),
 *   2. the host group owning the longest group prefix that covers the leaf,
 *   3. the monitored networks covering the leaf, the closest (longest) first,
 *   4. the global thresholds.
 * A `null` on the way disables the rule; 0 in a profile means disabled. The outbound rules
 * (`outbound:` at each level, on what a host sends) resolve the same way into profiles of their
 * own, one per leaf too.
 */
import type { Rates } from '../incident/incident.js';
import { formatPrefix, type Prefix, parsePrefix, prefixCovers } from '../net/address.js';
import type { CounterLeaf } from '../traffic/counter.js';
import type { DetectionConfig, RuleSettings, ThresholdSettings } from './config.js';
import { RULE_COUNT, ruleValues, settingFor } from './rules.js';

export interface ResolvedNetwork {
  /** The prefix as configured ("203.0.113.0/24"), reported as an incident's `network`. */
  text: string;
  name: string | undefined;
  prefix: Prefix;
  /** Effective whole-traffic per-host thresholds of the network itself; 0 = disabled. */
  thresholds: Rates;
  /** Thresholds on the network's total traffic, by rule (0 = none); all 0 when not configured. */
  totals: Float64Array;
  /** Any totals rule set, and the network is not a /0 (a /0 is never one target). */
  watchTotals: boolean;
}

export interface DetectionPlan {
  networks: ResolvedNetwork[];
  leaves: CounterLeaf[];
  /** RULE_COUNT values per profile (0 = disabled); profile i belongs to leaf i. */
  profiles: Float64Array;
  /** The outbound rules, laid out the same way. */
  outboundProfiles: Float64Array;
  /** Any outbound rule enabled anywhere: outbound hosts are counted only then. */
  outboundEnabled: boolean;
  /** Where each profile comes from, for messages: "host 203.0.113.53", "group dns", "network 203.0.113.0/24". */
  profileOrigins: string[];
}

interface Entity {
  prefix: Prefix;
  settings: ThresholdSettings | undefined;
  label: string;
}

function parse(text: string): Prefix {
  const prefix = parsePrefix(text);
  if (!prefix) throw new RangeError(`${text} is not a prefix`);
  return prefix;
}

export function resolveNetworks(config: DetectionConfig): ResolvedNetwork[] {
  const plan = planDetection(config);
  return plan.networks;
}

export function planDetection(config: DetectionConfig): DetectionPlan {
  const networks: Entity[] = config.networks.map((n) => ({
    prefix: parse(n.prefix),
    settings: n.thresholds,
    label: `network ${n.prefix}`,
  }));
  const groups: Entity[] = config.hostGroups.flatMap((g) =>
    g.prefixes.map((p) => ({ prefix: parse(p), settings: g.thresholds, label: `group ${g.name}` })),
  );
  const hosts: Entity[] = config.hosts.map((h) => {
    const prefix = parse(h.address);
    return {
      prefix,
      settings: h.thresholds,
      label: `host ${formatPrefix(prefix).replace(/\/(32|128)$/, '')}`,
    };
  });

  const byLength = (a: Entity, b: Entity) => b.prefix.length - a.prefix.length;
  const covering = (list: Entity[], leaf: Prefix) =>
    list.filter((e) => prefixCovers(e.prefix, leaf)).sort(byLength);

  const resolve = (leaf: Prefix): { values: Float64Array; outbound: Float64Array; origin: string } => {
    const host = hosts.find((h) => formatPrefix(h.prefix) === formatPrefix(leaf));
    const group = covering(groups, leaf)[0];
    const chain = covering(networks, leaf);
    const order = [host, group, ...chain].filter((e): e is Entity => e !== undefined);
    const firstSet = (pick: (s: ThresholdSettings | undefined) => RuleSettings | undefined) => {
      const values = new Float64Array(RULE_COUNT);
      for (let r = 0; r < RULE_COUNT; r++) {
        let value: number | null | undefined;
        for (const entity of order) {
          value = settingFor(pick(entity.settings), r);
          if (value !== undefined) break;
        }
        if (value === undefined) value = settingFor(pick(config.thresholds), r);
        values[r] = value ?? 0;
      }
      return values;
    };
    return {
      values: firstSet((s) => s),
      outbound: firstSet((s) => s?.outbound),
      origin: order[0]?.label ?? 'global',
    };
  };

  const leafPrefixes = new Map<string, Prefix>();
  for (const e of [...networks, ...groups, ...hosts]) leafPrefixes.set(formatPrefix(e.prefix), e.prefix);

  const leaves: CounterLeaf[] = [];
  const profileValues: Float64Array[] = [];
  const outboundValues: Float64Array[] = [];
  const profileOrigins: string[] = [];
  for (const prefix of leafPrefixes.values()) {
    const owner = networks
      .map((n, i) => ({ n, i }))
      .filter(({ n }) => prefixCovers(n.prefix, prefix))
      .sort((a, b) => b.n.prefix.length - a.n.prefix.length)[0];
    if (!owner) throw new RangeError(`${formatPrefix(prefix)} lies in no monitored network`);
    const { values, outbound, origin } = resolve(prefix);
    leaves.push({ prefix, network: owner.i, profile: leaves.length });
    profileValues.push(values);
    outboundValues.push(outbound);
    profileOrigins.push(origin);
  }
  const profiles = new Float64Array(leaves.length * RULE_COUNT);
  const outboundProfiles = new Float64Array(leaves.length * RULE_COUNT);
  profileValues.forEach((v, i) => {
    profiles.set(v, i * RULE_COUNT);
  });
  outboundValues.forEach((v, i) => {
    outboundProfiles.set(v, i * RULE_COUNT);
  });

  const resolvedNetworks: ResolvedNetwork[] = config.networks.map((n, i) => {
    const prefix = networks[i]!.prefix;
    // The network's own thresholds, as if a host sat directly in it (no group, no host entry).
    const asNetwork = resolveNetworkOnly(config, networks, prefix);
    const totals = ruleValues(n.totals);
    return {
      text: n.prefix,
      name: n.name,
      prefix,
      thresholds: { pps: asNetwork[0]!, bps: asNetwork[1]! },
      totals,
      watchTotals: prefix.length > 0 && totals.some((v) => v > 0),
    };
  });
  return {
    networks: resolvedNetworks,
    leaves,
    profiles,
    outboundProfiles,
    outboundEnabled: outboundProfiles.some((v) => v > 0),
    profileOrigins,
  };
}

/** A network's per-host thresholds from the network chain and the globals alone. */
function resolveNetworkOnly(config: DetectionConfig, networks: Entity[], prefix: Prefix): Float64Array {
  const chain = networks
    .filter((e) => prefixCovers(e.prefix, prefix))
    .sort((a, b) => b.prefix.length - a.prefix.length);
  const values = new Float64Array(RULE_COUNT);
  for (let r = 0; r < RULE_COUNT; r++) {
    let value: number | null | undefined;
    for (const entity of chain) {
      value = settingFor(entity.settings, r);
      if (value !== undefined) break;
    }
    if (value === undefined) value = settingFor(config.thresholds, r);
    values[r] = value ?? 0;
  }
  return values;
}
