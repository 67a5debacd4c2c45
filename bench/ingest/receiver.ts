/**
 * A collector under test, as the ingest benchmark drives it: it listens on one loopback port,
 * says which processes do its work (for CPU figures), and can tell how many flow records it
 * has stored once everything sent so far has gone through it.
 */

export interface ReceiverProcess {
  /** What the process does ("collector", "core", "print plugin"). */
  role: string;
  pid: number;
}

export interface Settled {
  /** Records stored since the receiver started. */
  records: number;
  /** False when the receiver was still busy (or silent) when the wait ran out. */
  settled: boolean;
}

export interface Receiver {
  /** "floodgate" or "nfacctd". */
  readonly name: string;
  /** Name and version for reports. */
  readonly label: string;
  readonly port: number;
  /** SO_RCVBUF as the kernel reports it for the receiving socket, bytes (0 when unknown). */
  readonly receiveBufferBytes: number;
  processes(): ReceiverProcess[];
  /** Waits until every datagram sent before the call is processed, then counts. */
  settle(timeoutMs: number): Promise<Settled>;
  stop(): Promise<void>;
}
