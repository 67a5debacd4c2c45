import { describe, expect, it } from 'vitest';
import { busyCores, parseCpuTimes, readCpuTimes } from '../../bench/lib/cpu-load.js';

describe('machine CPU load', () => {
  it('counts everything but idle and iowait as busy', () => {
    const stat = 'cpu  100 5 50 1000 20 3 2 7 0 0\ncpu0 50 2 25 500 10 1 1 3 0 0\nintr 1\n';
    expect(parseCpuTimes(stat)).toEqual({ busy: 100 + 5 + 50 + 3 + 2 + 7, total: 1187 });
  });

  it('turns two readings into cores busy', () => {
    expect(busyCores({ busy: 1000, total: 5000 }, { busy: 1300, total: 5400 }, 2, 100)).toBe(1.5);
    expect(busyCores({ busy: 0, total: 0 }, { busy: 10, total: 10 }, 0, 100)).toBe(0);
  });

  it('reads this machine', () => {
    const t = readCpuTimes();
    expect(t.total).toBeGreaterThan(0);
    expect(t.busy).toBeLessThanOrEqual(t.total);
  });

  it('says when /proc/stat has no aggregate line', () => {
    expect(() => parseCpuTimes('intr 1\n')).toThrow(/no aggregate cpu line/);
  });
});
