/**
 * The `collectors:` section of floodgate.yaml. Every key has a default, so an empty section
 * (or none) gives NetFlow/IPFIX on 2055 and 4739 and sFlow on 6343 on every IPv4 address.
 */
import { z } from 'zod';
import { cidr, listenAddress } from '../core/config/formats.js';
import { parsePrefix } from '../core/net/address.js';
import { ANY_SOURCE, MAX_CONFIGURED_RATE, overrideKey } from './sampling-overrides.js';

const listenList = (defaults: readonly string[]) =>
  z
    .array(listenAddress)
    .default(() => [...defaults])
    .describe('HOST:PORT, [IPv6]:PORT or :PORT addresses to receive datagrams on');

const samplingRate = z.number().int().min(1).max(MAX_CONFIGURED_RATE);

/**
 * Forces the sampling rate of matching exporters, whatever they report: for routers that
 * report a wrong rate or none. The most specific entry wins (collectors/sampling-overrides.ts),
 * so two entries for the same exporters and source id would contradict each other.
 */
const samplingOverrides = z
  .array(
    z.strictObject({
      exporter: cidr.describe('address or prefix of the exporters (the datagram source address)'),
      sourceId: z
        .number()
        .int()
        .min(0)
        .max(0xffffffff)
        .optional()
        .describe(
          'only this source id (v9), observation domain (IPFIX), engine word (v5) or sub-agent (sFlow)',
        ),
      rate: samplingRate.describe('the "1 in N" to apply'),
    }),
  )
  .superRefine((entries, ctx) => {
    const seen = new Map<string, number>();
    entries.forEach((entry, i) => {
      const prefix = parsePrefix(entry.exporter);
      if (!prefix) return; // reported by the entry's own check
      const key = overrideKey(prefix, entry.sourceId ?? ANY_SOURCE);
      const earlier = seen.get(key);
      if (earlier !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [i],
          message: `overrides entry ${earlier} for the same exporters and source id (${key})`,
        });
      } else {
        seen.set(key, i);
      }
    });
  })
  .default(() => []);

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
    defaultSamplingRate: samplingRate.default(1),
    sampling: z.strictObject({ overrides: samplingOverrides }).prefault({}),
    exporters: z
      .strictObject({
        /** Prefixes exporters may send from; empty allows every source. */
        allow: z.array(cidr).default(() => []),
      })
      .prefault({}),
  })
  .prefault({});

export type CollectorsConfig = z.infer<typeof collectorsConfigSchema>;
