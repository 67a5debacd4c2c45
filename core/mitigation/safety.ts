/**
 * The safety guards every intent passes before any adapter sees it. They implement the rules no
 * tier may break (product.md): protected prefixes are never targeted, RTBH only ever blackholes
 * single hosts, no default route is ever announced, and active rules stay under their caps.
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

export type SafetyConfig = Pick<MitigationConfig, 'protectedPrefixes'>;
export type CapConfig = MitigationConfig['caps'];

const KIND_LABEL: Readonly<Record<IntentKind, string>> = {
  flowspec: 'FlowSpec rule',
  rtbh: 'RTBH route',
};

function refuse(intent: MitigationIntent, code: ErrorCode, reason: string): RefusedIntent {
  return { intent, code, reason };
}

function familyName(version: IpVersion): string {
  return version === 4 ? 'IPv4' : 'IPv6';
}

/** The prefix an intent acts on: the RTBH route, or the FlowSpec destination. */
export function intentTarget(intent: MitigationIntent): string {
  return intent.kind === 'rtbh' ? intent.prefix : intent.match.destination;
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
): RefusedIntent | undefined {
  const targetText = formatPrefix(target);
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

/**
 * Every guard that does not depend on what is already in place. Returns the refusal, or
 * undefined when the intent may go on to the adapters.
 */
export function checkIntentSafety(intent: MitigationIntent, config: SafetyConfig): RefusedIntent | undefined {
  const targetWhat = intent.kind === 'rtbh' ? 'RTBH prefix' : 'FlowSpec destination';
  const parsed = parseTargetOfFamily(intent, intentTarget(intent), targetWhat);
  if ('refused' in parsed) return parsed.refused;
  const target = parsed.prefix;
  const targetText = formatPrefix(target);

  if (target.length === 0) {
    return refuse(
      intent,
      'FG_ERR_SAFETY_DEFAULT_ROUTE',
      `${targetText} is a default route: a ${KIND_LABEL[intent.kind]} for it would hit all traffic, so it is never announced`,
    );
  }

  if (intent.kind === 'rtbh') {
    const hostLength = intent.ipVersion === 4 ? 32 : 128;
    if (target.length < hostLength) {
      return refuse(
        intent,
        'FG_ERR_SAFETY_PREFIX_LENGTH',
        `RTBH route ${targetText} is shorter than /${hostLength}: only single hosts are blackholed, never whole networks`,
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
  } else if (intent.match.source !== undefined) {
    const source = parseTargetOfFamily(intent, intent.match.source, 'FlowSpec source');
    if ('refused' in source) return source.refused;
  }

  return checkProtected(intent, target, config);
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
  const label = intent.kind === 'flowspec' ? 'FlowSpec rules' : 'RTBH routes';
  return refuse(
    intent,
    'FG_ERR_SAFETY_CAP',
    `${intentTarget(intent)}: ${activeCount} ${label} are already active and the cap is ${cap} (mitigation.caps.${intent.kind}); withdraw some or raise the cap`,
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
