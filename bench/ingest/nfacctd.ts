/**
 * pmacct's nfacctd, the reference for NetFlow v5, v9 and IPFIX (pmacct.ts runs it); its
 * markers are NetFlow v5 datagrams (marker.ts).
 */
import { MARKER_RECORDS_PER_DATAGRAM, markerDatagram } from './marker.js';
import { pmacctConfig, pmacctVersion, startPmacct } from './pmacct.js';
import type { Receiver } from './receiver.js';

export { parseStoredFlows, type StoredFlows } from './pmacct.js';

export function nfacctdConfig(port: number, receiveBufferBytes: number, csvPath: string): string {
  return pmacctConfig('nfacctd', port, receiveBufferBytes, csvPath);
}

export function nfacctdVersion(): Promise<string> {
  return pmacctVersion('nfacctd');
}

export function startNfacctd(dir: string, port: number, receiveBufferBytes: number): Promise<Receiver> {
  return startPmacct({
    daemon: 'nfacctd',
    dir,
    port,
    receiveBufferBytes,
    ready: /waiting for NetFlow\/IPFIX data/,
    marker: markerDatagram,
    recordsPerMarker: MARKER_RECORDS_PER_DATAGRAM,
  });
}
