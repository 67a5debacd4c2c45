/**
 * Builds an ActionType from its declaration: the shared parts (tag check, parameter
 * resolution, the plan record) live here so each tool file only says which commands it runs.
 */
import type {
  ActionGroup,
  ActionIncident,
  ActionParams,
  ActionPlan,
  ActionRisk,
  ActionType,
  CommandStep,
  IpVersion,
  ParamSpec,
} from './action-type.js';
import { paramError, type ResolvedParams, resolveParams } from './resolve.js';

/** What the node adapter may pass as a tag: it becomes part of comments, chain and device names. */
export const TAG_PATTERN = /^[a-z0-9-]{1,24}$/;

export interface ActionDefinition {
  id: string;
  group: ActionGroup;
  title: string;
  description: string;
  params: readonly ParamSpec[];
  risk: ActionRisk;
  riskNote: string;
  commandTemplate: string;
  undoTemplate: string;
  /** The family when the action only works on one (null routes). */
  family?: IpVersion;
  /** Addresses of both families may be mixed in one plan. */
  mixedFamilies?: boolean;
  /** Whether the rule is broad, from the values the rule itself gives (absent ones are narrow). */
  broad(rule: ResolvedParams): boolean;
  /** Checks between values (the rule's own when validating, all of them when planning); throws paramError. */
  check?(values: ResolvedParams): void;
  /** The commands, from fully resolved values; may throw paramError for a tool-specific limit. */
  build(values: ResolvedParams, tag: string): { apply: CommandStep[]; undo: CommandStep[] };
}

export function defineAction(def: ActionDefinition): ActionType {
  const options = {
    actionId: def.id,
    specs: def.params,
    ...(def.family !== undefined ? { family: def.family } : {}),
    ...(def.mixedFamilies ? { mixedFamilies: true } : {}),
  };
  const ruleValues = (params: ActionParams): ResolvedParams => {
    const values = resolveParams(options, params, undefined);
    def.check?.(values);
    return values;
  };
  return Object.freeze({
    id: def.id,
    group: def.group,
    title: def.title,
    description: def.description,
    params: Object.freeze(def.params.map((p) => Object.freeze({ ...p }))),
    risk: def.risk,
    riskNote: def.riskNote,
    commandTemplate: def.commandTemplate,
    undoTemplate: def.undoTemplate,
    isBroad: (params: ActionParams) => def.broad(ruleValues(params)),
    validate: (params: ActionParams) => {
      ruleValues(params);
    },
    plan: (params: ActionParams, incident: ActionIncident, tag: string): ActionPlan => {
      if (typeof tag !== 'string' || !TAG_PATTERN.test(tag)) {
        throw paramError(def.id, 'tag', tag, 'is not a tag ([a-z0-9-]{1,24})', 'tag');
      }
      const values = resolveParams(options, params, incident);
      def.check?.(values);
      const { apply, undo } = def.build(values, tag);
      return { actionType: def.id, tag, params: values.json(def.params), apply, undo };
    },
  });
}
