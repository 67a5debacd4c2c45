/**
 * Command-line values the benchmarks share: counts and rates written the way people say them
 * ("250k", "1.5M", "10_000_000"), and one error type whose message is printed as is, so a typo
 * in an option gives a one-line answer instead of a stack trace.
 */

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const SUFFIX: Record<string, number> = { '': 1, k: 1e3, K: 1e3, m: 1e6, M: 1e6, g: 1e9, G: 1e9 };

/** "250k" → 250000, "1.5M" → 1500000, "10_000_000" → 10000000. */
export function parseQuantity(text: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)([kKmMgG]?)$/.exec(text.replaceAll('_', '').trim());
  if (!m) throw new UsageError(`${what}: "${text}" is not a number (examples: 500000, 250k, 1.5M)`);
  const value = Number(m[1]) * SUFFIX[m[2] ?? '']!;
  if (!Number.isFinite(value) || value <= 0) throw new UsageError(`${what}: "${text}" must be positive`);
  return Math.round(value);
}

export function parseQuantityList(text: string, what: string): number[] {
  const values = text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0)
    .map((part) => parseQuantity(part, what));
  if (values.length === 0) throw new UsageError(`${what}: give at least one value`);
  return [...new Set(values)].sort((a, b) => a - b);
}

/** A positive decimal (seconds may be fractional). */
export function parsePositive(text: string, what: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0)
    throw new UsageError(`${what}: "${text}" must be a positive number`);
  return value;
}

/** Zero or more (a pause, a warm-up that may be skipped). */
export function parseNonNegative(text: string, what: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0) {
    throw new UsageError(`${what}: "${text}" must be a number, 0 or more`);
  }
  return value;
}

/** A whole number, 0 or more. */
export function parseCount(text: string, what: string): number {
  const value = parseNonNegative(text, what);
  if (!Number.isInteger(value)) throw new UsageError(`${what}: "${text}" must be a whole number`);
  return value;
}

export function parseChoiceList<T extends string>(text: string, allowed: readonly T[], what: string): T[] {
  const chosen = text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
  for (const c of chosen) {
    if (!(allowed as readonly string[]).includes(c)) {
      throw new UsageError(`${what}: "${c}" is not one of ${allowed.join(', ')}`);
    }
  }
  if (chosen.length === 0) throw new UsageError(`${what}: give at least one of ${allowed.join(', ')}`);
  return [...new Set(chosen)] as T[];
}

/** 2500000 → "2.5M", 250000 → "250k": how rates are written in reports. */
export function formatQuantity(value: number): string {
  if (value >= 1e6) return `${trim(value / 1e6)}M`;
  if (value >= 1e3) return `${trim(value / 1e3)}k`;
  return trim(value);
}

function trim(v: number): string {
  return Number(v.toFixed(2)).toString();
}
