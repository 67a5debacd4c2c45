/**
 * What the kernel knows about UDP loss: the namespace-wide MIB counters in /proc/net/snmp
 * (InErrors, RcvbufErrors: datagrams dropped because a receive queue was full) and, per
 * socket, the receive queue length and drop count in /proc/net/udp. An application that
 * counts only what it read cannot see the datagrams the kernel threw away.
 */
import { readFileSync } from 'node:fs';

export interface UdpMib {
  inDatagrams: number;
  noPorts: number;
  inErrors: number;
  rcvbufErrors: number;
}

/** The "Udp:" header and value lines of /proc/net/snmp. */
export function parseUdpMib(snmp: string): UdpMib {
  const lines = snmp.split('\n').filter((l) => l.startsWith('Udp:'));
  const names = lines[0]?.split(/\s+/).slice(1) ?? [];
  const values = lines[1]?.split(/\s+/).slice(1).map(Number) ?? [];
  const get = (name: string): number => {
    const i = names.indexOf(name);
    const v = i >= 0 ? values[i] : undefined;
    if (v === undefined || !Number.isFinite(v)) throw new Error(`/proc/net/snmp has no Udp ${name} counter`);
    return v;
  };
  return {
    inDatagrams: get('InDatagrams'),
    noPorts: get('NoPorts'),
    inErrors: get('InErrors'),
    rcvbufErrors: get('RcvbufErrors'),
  };
}

export function readUdpMib(): UdpMib {
  return parseUdpMib(readFileSync('/proc/net/snmp', 'utf8'));
}

export function mibDelta(before: UdpMib, after: UdpMib): UdpMib {
  return {
    inDatagrams: after.inDatagrams - before.inDatagrams,
    noPorts: after.noPorts - before.noPorts,
    inErrors: after.inErrors - before.inErrors,
    rcvbufErrors: after.rcvbufErrors - before.rcvbufErrors,
  };
}

export interface SocketQueue {
  /** Bytes waiting in the receive queue. */
  rxQueue: number;
  /** Datagrams dropped on this socket since it was opened. */
  drops: number;
}

/**
 * The IPv4 UDP socket bound to `port` in /proc/net/udp; undefined when none is. Lines look like
 * "  12: 0100007F:50FB 00000000:0000 07 00000000:00000000 00:00000000 00000000 0 0 1234 2 ... 0",
 * the queues in hex, drops last.
 */
export function parseSocketQueue(table: string, port: number): SocketQueue | undefined {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const line of table.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    const local = f[1];
    if (!local || local.split(':')[1] !== hexPort) continue;
    const queues = f[4]?.split(':');
    return { rxQueue: Number.parseInt(queues?.[1] ?? '0', 16), drops: Number(f[f.length - 1]) };
  }
  return undefined;
}

export function readSocketQueue(port: number): SocketQueue | undefined {
  return parseSocketQueue(readFileSync('/proc/net/udp', 'utf8'), port);
}
