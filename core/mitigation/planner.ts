/**
 * Turns an incident into the intents that would stop it, for the kinds a runbook tier asks for:
 * a firewall rule for the attacked node, a FlowSpec rule shaped by the attack's fingerprint, RTBH
 * routes for the victim host (one per upstream when upstreams are configured), and the diversion
 * of the covering prefix to scrubbing. Each passes the safety guards. Caps depend on what is
 * already in place, so the dispatcher checks them (safety.ts checkCap).
 */
import type { Incident } from '../incident/incident.js';
import {
  coveringPrefix,
  formatPrefix,
  hostPrefix,
  type IpVersion,
  parseAddress,
  parsePrefix,
} from '../net/address.js';
import type { MitigationConfig } from './config.js';
import { firewallActionFor } from './firewall-action.js';
import { flowSpecMatchFor } from './flowspec-match.js';
import type {
  BlackholeIntent,
  FirewallIncidentFacts,
  FirewallIntent,
  FlowSpecIntent,
  IntentKind,
  MitigationIntent,
  RefusedIntent,
  ScrubbingIntent,
} from './intent.js';
import { canonicalIntentContent, intentId } from './intent-id.js';
import { guardIntents } from './safety.js';

export interface MitigationPlan {
  intents: MitigationIntent[];
  refused: RefusedIntent[];
}

/** What the walking skeleton planned: FlowSpec and RTBH. */
export const DEFAULT_PLAN_KINDS: readonly IntentKind[] = ['flowspec', 'rtbh'];

interface Target {
  text: string;
  version: IpVersion;
  /** The target's own words and length, when it parsed. */
  prefix: ReturnType<typeof parsePrefix>;
}

/**
 * The prefix an incident's intents act on: the host prefix of the attacked address, or the
 * prefix itself when the detector reported a whole network (carpet bombing). Text the planner
 * cannot read is passed on as is, for the guards to refuse with the reason.
 */
function targetOf(incident: Incident): Target {
  const address = parseAddress(incident.target);
  if (address) {
    const prefix = hostPrefix(address.words);
    return { text: formatPrefix(prefix), version: prefix.version, prefix };
  }
  const prefix = parsePrefix(incident.target);
  if (prefix) return { text: formatPrefix(prefix), version: prefix.version, prefix };
  return { text: incident.target, version: incident.ipVersion, prefix: undefined };
}

function flowSpecIntent(incident: Incident, config: MitigationConfig, target: Target): FlowSpecIntent {
  const content = canonicalIntentContent({
    kind: 'flowspec',
    ipVersion: target.version,
    match: flowSpecMatchFor(incident, target.text, target.version, config.flowspec.match),
    action: config.flowspec.action,
  });
  return { ...content, id: intentId(content), incidentId: incident.id };
}

function blackholeIntents(incident: Incident, config: MitigationConfig, target: Target): BlackholeIntent[] {
  const rtbh = config.rtbh;
  const defaultNextHop = target.version === 4 ? rtbh.nextHopV4 : rtbh.nextHopV6;
  const routes =
    rtbh.upstreams.length === 0
      ? [{ communities: rtbh.communities, nextHop: defaultNextHop, upstream: undefined }]
      : rtbh.upstreams.map((u) => ({
          communities: u.communities,
          nextHop: (target.version === 4 ? u.nextHopV4 : u.nextHopV6) ?? defaultNextHop,
          upstream: u.name,
        }));
  return routes.map((route) => {
    const content = canonicalIntentContent({
      kind: 'rtbh',
      ipVersion: target.version,
      prefix: target.text,
      nextHop: route.nextHop,
      communities: route.communities,
      ...(route.upstream === undefined ? {} : { upstream: route.upstream }),
    });
    return { ...content, id: intentId(content), incidentId: incident.id };
  });
}

function firewallFacts(incident: Incident): FirewallIncidentFacts {
  const fp = incident.fingerprint;
  return {
    family: incident.family,
    severity: incident.severity,
    ...(incident.severityLevel === undefined ? {} : { severityLevel: incident.severityLevel }),
    pps: incident.peak.pps,
    bps: incident.peak.bps,
    sources: (fp.topSources ?? []).map((s) => s.address),
    sourcePorts: [...fp.sourcePorts],
    destinationPorts: [...fp.destinationPorts],
    protocols: [...fp.protocols],
  };
}

function firewallIntent(incident: Incident, config: MitigationConfig, target: Target): FirewallIntent {
  const content = canonicalIntentContent({
    kind: 'firewall',
    ipVersion: target.version,
    target: target.text,
    action: firewallActionFor(incident, target.version, config.firewall, config.protectedPrefixes),
  });
  return { ...content, id: intentId(content), incidentId: incident.id, facts: firewallFacts(incident) };
}

/**
 * The covering prefix of the configured length; a target already shorter (a carpet-bombed /22)
 * is diverted whole, and the guard refuses it when it is shorter than the minimum.
 */
function scrubbingIntent(incident: Incident, config: MitigationConfig, target: Target): ScrubbingIntent {
  const s = config.scrubbing;
  const length = target.version === 4 ? s.prefixLengthV4 : s.prefixLengthV6;
  let prefixText = target.text;
  if (target.prefix && target.prefix.length > length) {
    prefixText = formatPrefix(coveringPrefix(target.prefix.words, target.version, length));
  }
  const nextHop = target.version === 4 ? s.nextHopV4 : s.nextHopV6;
  const content = canonicalIntentContent({
    kind: 'scrubbing',
    ipVersion: target.version,
    prefix: prefixText,
    communities: s.communities,
    ...(nextHop === undefined ? {} : { nextHop }),
  });
  return { ...content, id: intentId(content), incidentId: incident.id };
}

/**
 * The intents of the given kinds for an incident, in the order asked, each either accepted or
 * refused with a reason. A kind disabled in the config is not planned at all, which is not a
 * refusal. Without `kinds`, FlowSpec first (it spares the victim's legitimate traffic, RTBH does
 * not), then RTBH.
 */
export function planMitigation(
  incident: Incident,
  config: MitigationConfig,
  kinds: readonly IntentKind[] = DEFAULT_PLAN_KINDS,
): MitigationPlan {
  const target = targetOf(incident);
  const candidates: MitigationIntent[] = [];
  for (const kind of kinds) {
    switch (kind) {
      case 'firewall':
        if (config.firewall.enabled) candidates.push(firewallIntent(incident, config, target));
        break;
      case 'flowspec':
        if (config.flowspec.enabled) candidates.push(flowSpecIntent(incident, config, target));
        break;
      case 'rtbh':
        if (config.rtbh.enabled) candidates.push(...blackholeIntents(incident, config, target));
        break;
      case 'scrubbing':
        if (config.scrubbing.enabled) candidates.push(scrubbingIntent(incident, config, target));
        break;
    }
  }
  return guardIntents(candidates, config);
}
