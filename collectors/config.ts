/**
 * The `collectors:` section of floodgate.yaml. Every key has a default, so an empty section
 * (or none) gives NetFlow/IPFIX on 2055 and 4739 and sFlow on 6343 on every IPv4 address.
 */
import { z } from 'zod';
import { cidr, listenAddress } from '../core/config/formats.js';

const listenList = (defaults: readonly string[]) =>
  z
    .array(listenAddress)
    .default(() => [...defaults])
    .describe('HOST:PORT, [IPv6]:PORT or :PORT addresses to receive datagrams on');

export const collectorsConfigSchema = z
  .strictObject({
    netflow: z
      .strictObject({ listen: listenList(['0.0.0.0:2055', '0.0.0.0:4739']) })
      .prefault({})
      .describe('NetFlow v5/v9 and IPFIX'),
    sflow: z.strictObject({ listen: listenList(['0.0.0.0:6343']) }).prefault({}),
    /**
     * SO_RCVBUF asked for per socket. A flood arrives as a burst of datagrams; the kernel
     * buffer is what absorbs it while the event loop is busy. Linux caps it at
     * net.core.rmem_max, and the listener logs what it really got.
     */
    receiveBufferBytes: z
      .number()
      .int()
      .min(65_536)
      .max(1 << 30)
      .default(33_554_432),
    /** Applied when an exporter reports no sampling rate (or 0). */
    defaultSamplingRate: z
      .number()
      .int()
      .min(1)
      .max(1 << 24)
      .default(1),
    exporters: z
      .strictObject({
        /** Prefixes exporters may send from; empty allows every source. */
        allow: z.array(cidr).default(() => []),
      })
      .prefault({}),
  })
  .prefault({});

export type CollectorsConfig = z.infer<typeof collectorsConfigSchema>;
