/**
 * Per-exporter counters: what an operator checks first when "Floodgate sees nothing" or sees
 * too little (wrong port, unsupported version, no sampling rate, a malformed exporter).
 */

/** Counters shared by one exporter and by the collector totals. */
export class FlowCounters {
  datagrams = 0;
  records = 0;
  /** UDP payload bytes received (not flow bytes). */
  bytes = 0;
  /** Datagrams refused, by reason (an FG_ERR_* code or a short kebab-case reason). */
  readonly errors = new Map<string, number>();
  /** Conditions that are not errors but change what the numbers mean (sampling-default-used). */
  readonly notices = new Map<string, number>();

  countError(reason: string, n = 1): void {
    this.errors.set(reason, (this.errors.get(reason) ?? 0) + n);
  }

  countNotice(reason: string, n = 1): void {
    this.notices.set(reason, (this.notices.get(reason) ?? 0) + n);
  }

  protected countersSnapshot(): FlowCountersSnapshot {
    return {
      datagrams: this.datagrams,
      records: this.records,
      bytes: this.bytes,
      errors: Object.fromEntries(this.errors),
      notices: Object.fromEntries(this.notices),
    };
  }

  snapshot(): FlowCountersSnapshot {
    return this.countersSnapshot();
  }
}

export interface LastError {
  readonly reason: string;
  readonly message: string;
  readonly atMs: number;
  readonly details: Readonly<Record<string, unknown>>;
}

export class ExporterStats extends FlowCounters {
  /** Exporter address as text; IPv4 exporters in dotted quad even when seen on an IPv6 socket. */
  readonly address: string;
  lastSeenMs = 0;
  /** The sampling rate applied to this exporter's most recent records (0 before any record). */
  lastSamplingRate = 0;
  /** The protocol of the most recent datagram ("netflow-v5", ...). */
  lastProtocol = '';
  lastError: LastError | undefined;

  constructor(address: string) {
    super();
    this.address = address;
  }

  recordError(reason: string, message: string, atMs: number, details: Record<string, unknown> = {}): void {
    this.countError(reason);
    this.lastError = { reason, message, atMs, details };
  }

  override snapshot(): ExporterStatsSnapshot {
    return {
      address: this.address,
      ...this.countersSnapshot(),
      lastSeen: this.lastSeenMs > 0 ? new Date(this.lastSeenMs).toISOString() : null,
      lastSamplingRate: this.lastSamplingRate,
      lastProtocol: this.lastProtocol,
      lastError: this.lastError
        ? { ...this.lastError, at: new Date(this.lastError.atMs).toISOString() }
        : null,
    };
  }
}

export interface FlowCountersSnapshot {
  datagrams: number;
  records: number;
  bytes: number;
  errors: Record<string, number>;
  notices: Record<string, number>;
}

export interface ExporterStatsSnapshot extends FlowCountersSnapshot {
  address: string;
  lastSeen: string | null;
  lastSamplingRate: number;
  lastProtocol: string;
  lastError: (LastError & { at: string }) | null;
}
