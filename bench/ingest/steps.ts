/**
 * One step of the ingest benchmark (one collector, one rate, a fixed time) and how it is
 * judged: lossless only when the collector stored exactly the records the sender sent and the
 * kernel dropped nothing, on the socket or anywhere in the namespace.
 */

export interface StepResult {
  protocol: string;
  collector: string;
  /** The rate asked for, records per second. */
  targetRecordsPerSecond: number;
  /** The rate the sender held: records sent over the time it took. */
  sentRecordsPerSecond: number;
  sentDatagramsPerSecond: number;
  sentRecords: number;
  sentDatagrams: number;
  sendSeconds: number;
  senderErrors: number;
  /** Worst lateness of the sender; a large value means the rate was not held. */
  senderBehindMaxMs: number;
  /** Times the sender fell behind and restarted its schedule instead of bursting. */
  senderResyncs: number;
  /** The sender's own CPU use, percent of one core (loopback delivery runs in its context). */
  senderCpuPercent: number;
  storedRecords: number;
  /** Namespace-wide UDP counters over the step (/proc/net/snmp). */
  rcvbufErrors: number;
  inErrors: number;
  /** Drops counted on the receiving socket (/proc/net/udp). */
  socketDrops: number;
  /** CPU used per receiver process while the sender ran, percent of one core. */
  cpuPercent: Record<string, number>;
  /**
   * Cores' worth of CPU that went to processes other than the receiver and the sender while
   * the sender ran: someone else's work on a shared machine (and kernel threads).
   */
  othersCores: number;
  /** Whether the machine was quiet when the step started (see --quiet-below). */
  quietBefore: boolean;
  settled: boolean;
  lossless: boolean;
}

export type StepFigures = Omit<StepResult, 'lossless'>;

export function judge(step: StepFigures): StepResult {
  const lossless =
    step.settled &&
    step.storedRecords === step.sentRecords &&
    step.rcvbufErrors === 0 &&
    step.inErrors === 0 &&
    step.socketDrops === 0 &&
    step.senderErrors === 0;
  return { ...step, lossless };
}

/** Records lost as a fraction of records sent (negative when more was stored than sent). */
export function lossFraction(step: StepResult): number {
  return step.sentRecords === 0 ? 0 : (step.sentRecords - step.storedRecords) / step.sentRecords;
}

export interface CollectorSummary {
  collector: string;
  /** Highest rate (records/s actually sent) of a lossless step; 0 when none was. */
  highestLossless: number;
  /** The step that rate comes from, for its CPU figures. */
  highestLosslessStep: StepResult | undefined;
  /**
   * The conservative figure: the highest rate with no lossy step at or below it (differs from
   * highestLossless when a noisy step lost records below a later lossless one).
   */
  losslessUpTo: number;
  /** Lowest target rate that lost records, if any was reached. */
  firstLossyTarget: number | undefined;
  /** True when the highest step tried was lossless: the real limit lies above the steps. */
  limitAboveSteps: boolean;
}

export function summarize(collector: string, steps: readonly StepResult[]): CollectorSummary {
  const mine = steps.filter((s) => s.collector === collector);
  let best: StepResult | undefined;
  for (const s of mine) {
    if (s.lossless && (!best || s.sentRecordsPerSecond > best.sentRecordsPerSecond)) best = s;
  }
  const lossy = mine.filter((s) => !s.lossless).map((s) => s.targetRecordsPerSecond);
  const top = mine.reduce<StepResult | undefined>(
    (a, s) => (!a || s.targetRecordsPerSecond > a.targetRecordsPerSecond ? s : a),
    undefined,
  );
  let upTo = 0;
  for (const s of [...mine].sort((a, b) => a.targetRecordsPerSecond - b.targetRecordsPerSecond)) {
    if (!s.lossless) break;
    upTo = Math.max(upTo, s.sentRecordsPerSecond);
  }
  return {
    collector,
    highestLossless: best?.sentRecordsPerSecond ?? 0,
    highestLosslessStep: best,
    losslessUpTo: upTo,
    firstLossyTarget: lossy.length > 0 ? Math.min(...lossy) : undefined,
    limitAboveSteps: top?.lossless ?? false,
  };
}

/**
 * Whether to go on to the next rate with this collector: stop after `stopAfter` lossy steps in a
 * row (one lossy step on a noisy machine may be a hiccup; two say where the limit is).
 */
export function keepStepping(collector: string, steps: readonly StepResult[], stopAfter: number): boolean {
  const mine = steps.filter((s) => s.collector === collector);
  const recent = mine.slice(-stopAfter);
  return !(recent.length === stopAfter && recent.every((s) => !s.lossless));
}
