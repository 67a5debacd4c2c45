/**
 * pmacct's sfacctd, the reference for sFlow v5 (pmacct.ts runs it); its markers are sFlow
 * datagrams (sflow-marker.ts).
 */
import { startPmacct } from './pmacct.js';
import type { Receiver } from './receiver.js';
import { SFLOW_MARKER_SAMPLES, sflowMarkerDatagram } from './sflow-marker.js';

export function startSfacctd(dir: string, port: number, receiveBufferBytes: number): Promise<Receiver> {
  return startPmacct({
    daemon: 'sfacctd',
    dir,
    port,
    receiveBufferBytes,
    ready: /waiting for sFlow data/,
    marker: sflowMarkerDatagram,
    recordsPerMarker: SFLOW_MARKER_SAMPLES,
  });
}
