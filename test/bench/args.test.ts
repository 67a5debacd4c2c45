import { describe, expect, it } from 'vitest';
import {
  formatQuantity,
  parseChoiceList,
  parseCount,
  parseNonNegative,
  parsePositive,
  parseQuantity,
  parseQuantityList,
  UsageError,
} from '../../bench/lib/args.js';

describe('benchmark option values', () => {
  it('reads counts and rates the way people write them', () => {
    expect(parseQuantity('500000', 'x')).toBe(500_000);
    expect(parseQuantity('250k', 'x')).toBe(250_000);
    expect(parseQuantity('1.5M', 'x')).toBe(1_500_000);
    expect(parseQuantity('10_000_000', 'x')).toBe(10_000_000);
    expect(parseQuantity('2G', 'x')).toBe(2_000_000_000);
  });

  it('refuses what is not a positive quantity, naming the option', () => {
    expect(() => parseQuantity('fast', '--rates')).toThrow(UsageError);
    expect(() => parseQuantity('fast', '--rates')).toThrow(/--rates: "fast"/);
    expect(() => parseQuantity('0', '--count')).toThrow(/must be positive/);
    expect(() => parseQuantity('-5', '--count')).toThrow(UsageError);
    expect(() => parsePositive('0', '--seconds')).toThrow(/--seconds/);
    expect(parsePositive('2.5', '--seconds')).toBe(2.5);
  });

  it('takes zero where zero makes sense', () => {
    expect(parseNonNegative('0', '--pause')).toBe(0);
    expect(parseNonNegative('0.5', '--pause')).toBe(0.5);
    expect(() => parseNonNegative('-1', '--pause')).toThrow(/--pause: "-1" must be a number, 0 or more/);
    expect(() => parseNonNegative('', '--pause')).toThrow(UsageError);
    expect(parseCount('0', '--retries')).toBe(0);
    expect(() => parseCount('1.5', '--retries')).toThrow(/whole number/);
  });

  it('sorts and de-duplicates a list of rates', () => {
    expect(parseQuantityList('1M, 250k,500k,1M', '--rates')).toEqual([250_000, 500_000, 1_000_000]);
    expect(() => parseQuantityList(' , ', '--rates')).toThrow(/at least one/);
  });

  it('accepts only the listed choices', () => {
    expect(parseChoiceList('v9,ipfix,v9', ['v9', 'ipfix', 'v5'], '--protocols')).toEqual(['v9', 'ipfix']);
    expect(() => parseChoiceList('v9,sflow', ['v9', 'ipfix'], '--protocols')).toThrow(
      /"sflow" is not one of v9, ipfix/,
    );
  });

  it('writes rates back in the same short form', () => {
    expect(formatQuantity(2_500_000)).toBe('2.5M');
    expect(formatQuantity(250_000)).toBe('250k');
    expect(formatQuantity(1_234_567)).toBe('1.23M');
    expect(formatQuantity(999)).toBe('999');
  });
});
