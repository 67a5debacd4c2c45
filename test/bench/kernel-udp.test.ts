import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import {
  mibDelta,
  parseSocketQueue,
  parseUdpMib,
  readSocketQueue,
  readUdpMib,
} from '../../bench/lib/kernel-udp.js';
import { freeUdpPort } from '../helpers/ports.js';

const SNMP = `Ip: Forwarding DefaultTTL InReceives
Ip: 1 64 1000
Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors
Udp: 5000 3 120 4000 118 0 2 0 0
UdpLite: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors
UdpLite: 0 0 0 0 0 0 0 0 0
`;

const UDP_TABLE = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  312: 0100007F:0807 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 123 2 0000000000000000 0
  313: 0100007F:50FB 00000000:0000 07 00000000:0001A2C0 00:00000000 00000000     0        0 124 2 0000000000000000 4711
`;

describe('kernel UDP counters', () => {
  it('reads the Udp line of /proc/net/snmp, not UdpLite', () => {
    expect(parseUdpMib(SNMP)).toEqual({ inDatagrams: 5000, noPorts: 3, inErrors: 120, rcvbufErrors: 118 });
  });

  it('says which counter is missing', () => {
    expect(() => parseUdpMib('Udp: InDatagrams\nUdp: 5\n')).toThrow(/no Udp NoPorts counter/);
  });

  it('subtracts two readings', () => {
    const a = parseUdpMib(SNMP);
    const b = {
      ...a,
      inErrors: a.inErrors + 7,
      rcvbufErrors: a.rcvbufErrors + 7,
      inDatagrams: a.inDatagrams + 100,
    };
    expect(mibDelta(a, b)).toEqual({ inDatagrams: 100, noPorts: 0, inErrors: 7, rcvbufErrors: 7 });
  });

  it('finds a socket by local port: receive queue in hex, drops last', () => {
    expect(parseSocketQueue(UDP_TABLE, 0x50fb)).toEqual({ rxQueue: 0x1a2c0, drops: 4711 });
    expect(parseSocketQueue(UDP_TABLE, 2055)).toEqual({ rxQueue: 0, drops: 0 });
    expect(parseSocketQueue(UDP_TABLE, 9)).toBeUndefined();
  });

  it("reads this machine's counters and sees a bound socket", async () => {
    expect(readUdpMib().inDatagrams).toBeGreaterThanOrEqual(0);
    const port = await freeUdpPort();
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(port, '127.0.0.1', resolve));
    try {
      expect(readSocketQueue(port)).toEqual({ rxQueue: 0, drops: 0 });
    } finally {
      await new Promise<void>((resolve) => socket.close(resolve));
    }
  });
});
