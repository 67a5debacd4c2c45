/**
 * Data sets that arrived before their template. After a collector restart (or a lost template
 * datagram) an exporter's data precedes its next template refresh; holding those sets for a
 * few seconds lets them decode when the template comes, instead of losing the attack that
 * was going on at restart. Held sets are copies, bounded per exporter and in total.
 */

export interface PendingSet {
  readonly domainId: number;
  readonly templateId: number;
  /** When the datagram carrying the set arrived; records keep it, and it bounds the wait. */
  readonly arrivalMs: number;
  /** The carrying message's export time (Unix ms) and, for NetFlow v9, its sysUptime (-1 for IPFIX). */
  readonly exportMs: number;
  readonly sysUptime: number;
  /** The set's body (records and padding), copied out of the datagram. */
  readonly body: Uint8Array;
}
