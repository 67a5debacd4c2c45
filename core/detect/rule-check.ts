/**
 * Compares one target's rates with a set of rules (rules.ts): the whole-traffic rules read the
 * rates directly, a class rule reads the rate times the class's share of the target's traffic.
 * A scratch object reused for every target of every step: nothing is allocated unless the
 * caller asks for the list of crossed rules (once per opening incident).
 */
import { CLASS_COUNT } from '../traffic/breakdown.js';
import { METRICS, RULE_CLASS, RULE_COUNT, RULE_NAMES, ruleMetric } from './rules.js';

export interface CrossedRule {
  /** "pps", "syn.pps", ...; prefixed by the caller ("totals.", "dynamic."). */
  name: string;
  threshold: number;
  /** The rate the rule looked at (class rate for a class rule). */
  value: number;
  metric: number;
  /** Share of the target's traffic the rule looked at (1 for whole-traffic rules). */
  share: number;
}

export class RuleCheck {
  /** pps, bps, flows/s of the target being checked. */
  readonly rates = new Float64Array(METRICS);
  /** Class shares (BreakdownStore.sharesInto) of the target; read only when `withClasses`. */
  readonly shares = new Float64Array(CLASS_COUNT * METRICS);

  setRates(pps: number, bps: number, fps: number): void {
    this.rates[0] = pps;
    this.rates[1] = bps;
    this.rates[2] = fps;
  }

  private valueOf(rule: number): number {
    const metric = ruleMetric(rule);
    const cls = RULE_CLASS[rule]!;
    return cls < 0 ? this.rates[metric]! : this.rates[metric]! * this.shares[cls * METRICS + metric]!;
  }

  /** Largest value / threshold over the enabled rules of `values[base .. base + RULE_COUNT)`. */
  maxRatio(values: Float64Array, base: number, withClasses: boolean): number {
    let max = 0;
    const last = withClasses ? RULE_COUNT : METRICS;
    for (let r = 0; r < last; r++) {
      const t = values[base + r]!;
      if (!(t > 0)) continue;
      const ratio = this.valueOf(r) / t;
      if (ratio > max) max = ratio;
    }
    return max;
  }

  /**
   * The value each rule reads, into `out` (RULE_COUNT long): the rates, and for class rules the
   * rate times the class's share (0 when `withClasses` is false: the shares were not read).
   */
  valuesInto(out: Float64Array, withClasses: boolean): void {
    for (let r = 0; r < RULE_COUNT; r++) {
      out[r] = withClasses || RULE_CLASS[r]! < 0 ? this.valueOf(r) : 0;
    }
  }

  /** The rules over threshold, for an opening incident. Allocates. */
  crossed(values: Float64Array, base: number, withClasses: boolean, prefix: string): CrossedRule[] {
    const out: CrossedRule[] = [];
    const last = withClasses ? RULE_COUNT : METRICS;
    for (let r = 0; r < last; r++) {
      const t = values[base + r]!;
      if (!(t > 0)) continue;
      const value = this.valueOf(r);
      if (value <= t) continue;
      const cls = RULE_CLASS[r]!;
      const metric = ruleMetric(r);
      out.push({
        name: prefix + RULE_NAMES[r]!,
        threshold: t,
        value,
        metric,
        share: cls < 0 ? 1 : this.shares[cls * METRICS + metric]!,
      });
    }
    return out;
  }
}
