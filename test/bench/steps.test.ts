import { describe, expect, it } from 'vitest';
import { judge, keepStepping, lossFraction, type StepFigures, summarize } from '../../bench/ingest/steps.js';

function step(over: Partial<StepFigures>): StepFigures {
  return {
    protocol: 'v9',
    collector: 'floodgate',
    targetRecordsPerSecond: 1_000_000,
    sentRecordsPerSecond: 990_000,
    sentDatagramsPerSecond: 31_000,
    sentRecords: 9_900_000,
    sentDatagrams: 310_000,
    sendSeconds: 10,
    senderErrors: 0,
    senderBehindMaxMs: 0,
    senderResyncs: 0,
    senderCpuPercent: 30,
    storedRecords: 9_900_000,
    rcvbufErrors: 0,
    inErrors: 0,
    socketDrops: 0,
    cpuPercent: { collector: 50 },
    othersCores: 0.02,
    quietBefore: true,
    settled: true,
    ...over,
  };
}

describe('judging an ingest step', () => {
  it('is lossless only when every record was stored and the kernel dropped nothing', () => {
    expect(judge(step({})).lossless).toBe(true);
    expect(judge(step({ storedRecords: 9_899_999 })).lossless).toBe(false);
    expect(judge(step({ rcvbufErrors: 1, inErrors: 1 })).lossless).toBe(false);
    expect(judge(step({ socketDrops: 1 })).lossless).toBe(false);
    expect(judge(step({ senderErrors: 1 })).lossless).toBe(false);
    expect(judge(step({ settled: false })).lossless).toBe(false);
    // More stored than sent is a counting bug, not a success.
    expect(judge(step({ storedRecords: 9_900_001 })).lossless).toBe(false);
  });

  it('reports the fraction lost', () => {
    expect(lossFraction(judge(step({ storedRecords: 9_801_000 })))).toBeCloseTo(0.01, 10);
    expect(lossFraction(judge(step({ sentRecords: 0, storedRecords: 0 })))).toBe(0);
  });

  it('summarizes the highest lossless rate actually sent, per collector', () => {
    const steps = [
      judge(step({ targetRecordsPerSecond: 1e6, sentRecordsPerSecond: 0.99e6 })),
      judge(
        step({
          targetRecordsPerSecond: 1.5e6,
          sentRecordsPerSecond: 1.48e6,
          sentRecords: 100,
          storedRecords: 100,
        }),
      ),
      judge(
        step({
          targetRecordsPerSecond: 2e6,
          sentRecordsPerSecond: 1.97e6,
          sentRecords: 100,
          storedRecords: 90,
        }),
      ),
      judge(step({ collector: 'nfacctd', targetRecordsPerSecond: 2e6, sentRecordsPerSecond: 1.99e6 })),
    ];
    const fg = summarize('floodgate', steps);
    expect(fg.highestLossless).toBe(1.48e6);
    expect(fg.losslessUpTo).toBe(1.48e6);
    expect(fg.highestLosslessStep?.targetRecordsPerSecond).toBe(1.5e6);
    expect(fg.firstLossyTarget).toBe(2e6);
    expect(fg.limitAboveSteps).toBe(false);
    const nf = summarize('nfacctd', steps);
    expect(nf.highestLossless).toBe(1.99e6);
    expect(nf.firstLossyTarget).toBeUndefined();
    expect(nf.limitAboveSteps).toBe(true);
    expect(summarize('other', steps).highestLossless).toBe(0);
  });

  it('keeps apart the best lossless step and the rate up to which every step was lossless', () => {
    const steps = [
      judge(step({ targetRecordsPerSecond: 1e6, sentRecordsPerSecond: 1e6 })),
      judge(step({ targetRecordsPerSecond: 2e6, sentRecordsPerSecond: 2e6, storedRecords: 1 })),
      judge(step({ targetRecordsPerSecond: 3e6, sentRecordsPerSecond: 2.9e6 })),
    ];
    const s = summarize('floodgate', steps);
    expect(s.highestLossless).toBe(2.9e6);
    expect(s.losslessUpTo).toBe(1e6);
    expect(s.firstLossyTarget).toBe(2e6);
  });

  it('stops a collector after the given number of lossy steps in a row', () => {
    const ok = judge(step({}));
    const lost = judge(step({ storedRecords: 0 }));
    expect(keepStepping('floodgate', [ok, lost], 2)).toBe(true);
    expect(keepStepping('floodgate', [lost, ok, lost], 2)).toBe(true);
    expect(keepStepping('floodgate', [ok, lost, lost], 2)).toBe(false);
    expect(keepStepping('nfacctd', [ok, lost, lost], 2)).toBe(true);
    expect(keepStepping('floodgate', [lost], 1)).toBe(false);
  });
});
