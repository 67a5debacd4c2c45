/**
 * Turns an incident into the intents that would stop it: a FlowSpec rule shaped by the attack's
 * fingerprint and an RTBH route for the victim host, each passed through the safety guards.
 * Caps depend on what is already in place, so the dispatcher checks them (safety.ts checkCap).
 */
import type { Incident } from '../incident/incident.js';
import { formatPrefix, hostPrefix, type IpVersion, parseAddress, parsePrefix } from '../net/address.js';
import type { MitigationConfig } from './config.js';
import { flowSpecMatchFor } from './flowspec-match.js';
import type { BlackholeIntent, FlowSpecIntent, MitigationIntent, RefusedIntent } from './intent.js';
import { canonicalIntentContent, intentId } from './intent-id.js';
import { guardIntents } from './safety.js';

export interface MitigationPlan {
  intents: MitigationIntent[];
  refused: RefusedIntent[];
}

/**
 * The prefix an incident's intents act on: the host prefix of the attacked address, or the
 * prefix itself when the detector reported a whole network (carpet bombing). Text the planner
 * cannot read is passed on as is, for the guards to refuse with the reason.
 */
function targetOf(incident: Incident): { text: string; version: IpVersion } {
  const address = parseAddress(incident.target);
  if (address) {
    const prefix = hostPrefix(address.words);
    return { text: formatPrefix(prefix), version: prefix.version };
  }
  const prefix = parsePrefix(incident.target);
  if (prefix) return { text: formatPrefix(prefix), version: prefix.version };
  return { text: incident.target, version: incident.ipVersion };
}

function flowSpecIntent(
  incident: Incident,
  config: MitigationConfig,
  destination: string,
  version: IpVersion,
): FlowSpecIntent {
  const content = canonicalIntentContent({
    kind: 'flowspec',
    ipVersion: version,
    match: flowSpecMatchFor(incident, destination, version),
    action: config.flowspec.action,
  });
  return { ...content, id: intentId(content), incidentId: incident.id };
}

function blackholeIntent(
  incident: Incident,
  config: MitigationConfig,
  prefix: string,
  version: IpVersion,
): BlackholeIntent {
  const content = canonicalIntentContent({
    kind: 'rtbh',
    ipVersion: version,
    prefix,
    nextHop: version === 4 ? config.rtbh.nextHopV4 : config.rtbh.nextHopV6,
    communities: config.rtbh.communities,
  });
  return { ...content, id: intentId(content), incidentId: incident.id };
}

/**
 * The intents for an incident, FlowSpec first (it spares the victim's legitimate traffic, RTBH
 * does not), each either accepted or refused with a reason. A kind disabled in the config is
 * not planned at all, which is not a refusal.
 */
export function planMitigation(incident: Incident, config: MitigationConfig): MitigationPlan {
  const target = targetOf(incident);
  const candidates: MitigationIntent[] = [];
  if (config.flowspec.enabled) candidates.push(flowSpecIntent(incident, config, target.text, target.version));
  if (config.rtbh.enabled) candidates.push(blackholeIntent(incident, config, target.text, target.version));
  return guardIntents(candidates, config);
}
