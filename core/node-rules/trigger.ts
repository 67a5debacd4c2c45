/** Whether an incident, as tier 1 saw it, sets off a node rule's trigger. */
import type { FirewallIncidentFacts } from '../mitigation/intent.js';
import { type NodeRuleTrigger, RULE_SEVERITY_LEVELS } from './rule.js';

export function triggerMatches(trigger: NodeRuleTrigger, facts: FirewallIncidentFacts): boolean {
  switch (trigger.type) {
    case 'pps-over':
      return facts.pps > trigger.pps;
    case 'severity-at-least': {
      // An incident without a level was classified before levels were configured: it matches nothing but "low".
      const have = facts.severityLevel === undefined ? -1 : RULE_SEVERITY_LEVELS.indexOf(facts.severityLevel);
      const want = RULE_SEVERITY_LEVELS.indexOf(trigger.level);
      return have >= want || want === 0;
    }
    case 'family-in':
      return trigger.families.includes(facts.family);
    case 'any-incident':
      return true;
  }
}
