/**
 * The safety guards every intent passes before any adapter sees it. They implement the rules no
 * tier may break (product.md): protected prefixes are never targeted (announced, blackholed or
 * firewalled, as target or as a listed source), RTBH only ever blackholes single hosts and
 * firewall rules only protect single hosts, scrubbing never diverts a prefix shorter than
 * configured, no default route is ever announced, and active rules stay under their caps.
 * A refusal is data (code + a reason naming the config path to change), so it can be reported
 * and audited rather than silently dropped.
 */
import type { ErrorCode } from '../errors.js';
import {
  formatPrefix,
  type IpVersion,
  type Prefix,
  parseAddress,
  parsePrefix,
  prefixCovers,
} from '../net/address.js';
import type { MitigationConfig } from './config.js';
import type { IntentKind, MitigationIntent, RefusedIntent } from './intent.js';

export type SafetyConfig = Pick<MitigationConfig, 'protectedPrefixes'> & {
  /** The scrubbing minimums; 24 and 48 when absent. */
  scrubbing?: Pick<MitigationConfig['scrubbing'], 'minPrefixLengthV4' | 'minPrefixLengthV6'>;
};
export type CapConfig = MitigationConfig['caps'];

const KIND_LABEL: Readonly<Record<IntentKind, string>> = {
  firewall: 'firewall rule',
  flowspec: 'FlowSpec rule',
  rtbh: 'RTBH route',
  scrubbing: 'scrubbing diversion',
};

/** How the cap message names what is in place. */
const KIND_PLURAL: Readonly<Record<IntentKind, string>> = {
  firewall: 'firewall rules',
  flowspec: 'FlowSpec rules',
  rtbh: 'RTBH routes',
  scrubbing: 'scrubbing diversions',
};

const TARGET_WHAT: Readonly<Record<IntentKind, string>> = {
  firewall: 'firewall target',
  flowspec: 'FlowSpec destination',
  rtbh: 'RTBH prefix',
  scrubbing: 'scrubbing prefix',
};

function refuse(intent: MitigationIntent, code: ErrorCode, reason: string): RefusedIntent {
  return { intent, code, reason };
}

function familyName(version: IpVersion): string {
  return version === 4 ? 'IPv4' : 'IPv6';
}

/** The prefix an intent acts on: the RTBH route, the FlowSpec destination, the firewalled host, the diverted prefix. */
export function intentTarget(intent: MitigationIntent): string {
  switch (intent.kind) {
    case 'rtbh':
    case 'scrubbing':
      return intent.prefix;
    case 'flowspec':
      return intent.match.destination;
    case 'firewall':
      return intent.target;
  }
}

function parseTargetOfFamily(
  intent: MitigationIntent,
  text: string,
  what: string,
): { prefix: Prefix } | { refused: RefusedIntent } {
  const prefix = parsePrefix(text);
  if (!prefix) {
    return {
      refused: refuse(
        intent,
        'FG_ERR_SAFETY_INVALID_TARGET',
        `${what} "${text}" is not a prefix with its host bits clear (${KIND_LABEL[intent.kind]} ${intent.id})`,
      ),
    };
  }
  if (prefix.version !== intent.ipVersion) {
    return {
      refused: refuse(
        intent,
        'FG_ERR_SAFETY_INVALID_TARGET',
        `${what} ${text} is ${familyName(prefix.version)} but the intent is ${familyName(intent.ipVersion)} (${KIND_LABEL[intent.kind]} ${intent.id})`,
      ),
    };
  }
  return { prefix };
}

/** Refuses a target that is, lies in, or covers a protected prefix. Fails closed on a bad entry. */
function checkProtected(
  intent: MitigationIntent,
  target: Prefix,
  config: SafetyConfig,
  role = '',
): RefusedIntent | undefined {
  const targetText = `${role}${formatPrefix(target)}`;
  for (const [index, text] of config.protectedPrefixes.entries()) {
    const path = `mitigation.protectedPrefixes[${index}]`;
    const protectedPrefix = parsePrefix(text);
    if (!protectedPrefix) {
      return refuse(
        intent,
        'FG_ERR_SAFETY_PROTECTED',
        `${path} "${text}" is not a valid prefix, so nothing can be proven outside it; fix the entry to mitigate ${targetText}`,
      );
    }
    if (prefixCovers(protectedPrefix, target)) {
      return refuse(
        intent,
        'FG_ERR_SAFETY_PROTECTED',
        `${targetText} lies in protected prefix ${text} (${path})`,
      );
    }
    if (prefixCovers(target, protectedPrefix)) {
      return refuse(
        intent,
        'FG_ERR_SAFETY_PROTECTED',
        `${targetText} covers protected prefix ${text} (${path})`,
      );
    }
  }
  return undefined;
}

function hostLength(version: IpVersion): number {
  return version === 4 ? 32 : 128;
}

/** The guards particular to each kind, once the target parsed and is not a default route. */
function checkKind(
  intent: MitigationIntent,
  target: Prefix,
  config: SafetyConfig,
): RefusedIntent | undefined {
  const targetText = formatPrefix(target);
  switch (intent.kind) {
    case 'rtbh': {
      const host = hostLength(intent.ipVersion);
      if (target.length < host) {
        return refuse(
          intent,
          'FG_ERR_SAFETY_PREFIX_LENGTH',
          `RTBH route ${targetText} is shorter than /${host}: only single hosts are blackholed, never whole networks`,
        );
      }
      const nextHop = parseAddress(intent.nextHop);
      if (!nextHop || nextHop.version !== intent.ipVersion) {
        const key = intent.ipVersion === 4 ? 'nextHopV4' : 'nextHopV6';
        return refuse(
          intent,
          'FG_ERR_SAFETY_INVALID_TARGET',
          `RTBH next hop "${intent.nextHop}" is not an ${familyName(intent.ipVersion)} address for route ${targetText} (mitigation.rtbh.${key})`,
        );
      }
      return undefined;
    }
    case 'flowspec': {
      if (intent.match.source === undefined) return undefined;
      const source = parseTargetOfFamily(intent, intent.match.source, 'FlowSpec source');
      return 'refused' in source ? source.refused : undefined;
    }
    case 'firewall': {
      const host = hostLength(intent.ipVersion);
      if (target.length < host) {
        return refuse(
          intent,
          'FG_ERR_SAFETY_PREFIX_LENGTH',
          `firewall target ${targetText} is not a single host: a node firewall rule protects the attacked host only`,
        );
      }
      if (intent.action.type !== 'drop-source') return undefined;
      if (intent.action.sources.length === 0) {
        return refuse(
          intent,
          'FG_ERR_SAFETY_INVALID_TARGET',
          `firewall rule for ${targetText} drops sources but lists none`,
        );
      }
      for (const text of intent.action.sources) {
        const parsed = parseTargetOfFamily(intent, text, 'firewall source');
        if ('refused' in parsed) return parsed.refused;
        if (parsed.prefix.length === 0) {
          return refuse(
            intent,
            'FG_ERR_SAFETY_DEFAULT_ROUTE',
            `firewall rule for ${targetText} would drop source ${formatPrefix(parsed.prefix)}, a default route: that is all traffic`,
          );
        }
        const protectedSource = checkProtected(intent, parsed.prefix, config, 'source ');
        if (protectedSource) return protectedSource;
      }
      return undefined;
    }
    case 'scrubbing': {
      const v4 = intent.ipVersion === 4;
      const minimum = v4
        ? (config.scrubbing?.minPrefixLengthV4 ?? 24)
        : (config.scrubbing?.minPrefixLengthV6 ?? 48);
      if (target.length < minimum) {
        const key = v4 ? 'minPrefixLengthV4' : 'minPrefixLengthV6';
        return refuse(
          intent,
          'FG_ERR_SAFETY_PREFIX_LENGTH',
          `scrubbing diversion ${targetText} is shorter than /${minimum} (mitigation.scrubbing.${key})`,
        );
      }
      if (intent.nextHop !== undefined) {
        const nextHop = parseAddress(intent.nextHop);
        if (!nextHop || nextHop.version !== intent.ipVersion) {
          const key = v4 ? 'nextHopV4' : 'nextHopV6';
          return refuse(
            intent,
            'FG_ERR_SAFETY_INVALID_TARGET',
            `scrubbing next hop "${intent.nextHop}" is not an ${familyName(intent.ipVersion)} address for ${targetText} (mitigation.scrubbing.${key})`,
          );
        }
      }
      return undefined;
    }
  }
}

/**
 * Every guard that does not depend on what is already in place. Returns the refusal, or
 * undefined when the intent may go on to the adapters.
 */
export function checkIntentSafety(intent: MitigationIntent, config: SafetyConfig): RefusedIntent | undefined {
  const parsed = parseTargetOfFamily(intent, intentTarget(intent), TARGET_WHAT[intent.kind]);
  if ('refused' in parsed) return parsed.refused;
  const target = parsed.prefix;

  if (target.length === 0) {
    return refuse(
      intent,
      'FG_ERR_SAFETY_DEFAULT_ROUTE',
      `${formatPrefix(target)} is a default route: a ${KIND_LABEL[intent.kind]} for it would hit all traffic, so it is never announced`,
    );
  }
  return checkKind(intent, target, config) ?? checkProtected(intent, target, config);
}

/**
 * The cap guard: `activeCount` is how many intents of this kind are in place now, not counting
 * this one (a caller re-applying an intent already in place must not refuse it for the cap).
 */
export function checkCap(
  intent: MitigationIntent,
  activeCount: number,
  caps: CapConfig,
): RefusedIntent | undefined {
  const cap = caps[intent.kind];
  if (activeCount < cap) return undefined;
  return refuse(
    intent,
    'FG_ERR_SAFETY_CAP',
    `${intentTarget(intent)}: ${activeCount} ${KIND_PLURAL[intent.kind]} are already active and the cap is ${cap} (mitigation.caps.${intent.kind}); withdraw some or raise the cap`,
  );
}

/** Splits intents into those the guards let through and those refused; equal intents (same id) appear once. */
export function guardIntents(
  intents: readonly MitigationIntent[],
  config: SafetyConfig,
): { intents: MitigationIntent[]; refused: RefusedIntent[] } {
  const accepted: MitigationIntent[] = [];
  const refused: RefusedIntent[] = [];
  const seen = new Set<string>();
  for (const intent of intents) {
    if (seen.has(intent.id)) continue;
    seen.add(intent.id);
    const refusal = checkIntentSafety(intent, config);
    if (refusal) refused.push(refusal);
    else accepted.push(intent);
  }
  return { intents: accepted, refused };
}
