/**
 * A stand-in for vtysh on an FRR 8.4 router: understands the commands the FRR adapter sends and
 * prints `show running-config` the way FRR does (communities with their well-known names, the
 * route map after the static routes). The real FRR is exercised in test/interop/frr.test.ts.
 */

import type { VtyshRunner } from '../../../adapters/frr/vtysh.js';
import { type ErrorCode, FloodgateError } from '../../../core/errors.js';

interface Entry {
  description?: string;
  matchTag?: number;
  sets: string[];
}

export interface FakeFrr {
  run: VtyshRunner;
  statics: Map<string, number>;
  entries: Map<number, Entry>;
  batches: string[][];
  /** Lines of operator configuration printed before the adapter's (e.g. their own static routes). */
  extra: string[];
  redistribute: boolean;
  failNext: boolean;
}

const NAMES: Record<string, string> = { '65535:666': 'blackhole', '65535:65281': 'no-export' };

export function fakeFrr(routeMap = 'FLOODGATE-RTBH'): FakeFrr {
  const fake: FakeFrr = {
    statics: new Map(),
    entries: new Map(),
    batches: [],
    extra: [],
    redistribute: true,
    failNext: false,
    run: async (commands, code) => {
      fake.batches.push([...commands]);
      if (fake.failNext) {
        fake.failNext = false;
        throw new FloodgateError(code, 'vtysh failed: % Connection refused');
      }
      const out: string[] = [];
      let entry: Entry | undefined;
      const fail = (why: string, c: ErrorCode = code): never => {
        throw new FloodgateError(c, `vtysh failed: ${why}`);
      };
      /** Each command the fake knows: a pattern and what it does. */
      const handlers: [RegExp, (m: RegExpExecArray) => void][] = [
        [/^show running-config$/, () => out.push(runningConfig(fake, routeMap))],
        [/^(configure terminal|end|write memory|exit)$/, () => (entry = undefined)],
        [
          /^route-map (\S+) permit (\d+)$/,
          (m) => {
            entry = fake.entries.get(Number(m[2])) ?? { sets: [] };
            fake.entries.set(Number(m[2]), entry);
          },
        ],
        [/^description (.+)$/, (m) => (inEntry().description = m[1])],
        [/^match tag (\d+)$/, (m) => (inEntry().matchTag = Number(m[1]))],
        [
          /^set (community|ip next-hop|ipv6 next-hop global) (.+)$/,
          (m) => {
            const e = inEntry();
            e.sets = e.sets.filter((x) => !x.startsWith(`set ${m[1]} `));
            const value =
              m[1] === 'community'
                ? m[2]!
                    .split(' ')
                    .map((x) => NAMES[x] ?? x)
                    .join(' ')
                : m[2];
            e.sets.push(`set ${m[1]} ${value}`);
          },
        ],
        [
          /^(ip|ipv6) route (\S+) blackhole tag (\d+)$/,
          (m) => fake.statics.set(`${m[1]} ${m[2]}`, Number(m[3])),
        ],
        [
          /^no (ip|ipv6) route (\S+) blackhole tag (\d+)$/,
          (m) => {
            if (fake.statics.get(`${m[1]} ${m[2]}`) !== Number(m[3]))
              fail('% Refusing to remove a non-existent route');
            fake.statics.delete(`${m[1]} ${m[2]}`);
          },
        ],
        [/^no route-map (\S+) permit (\d+)$/, (m) => fake.entries.delete(Number(m[2]))],
      ];
      const inEntry = (): Entry => entry ?? fail('% command only valid in route-map mode');
      for (const c of commands) {
        const handler = handlers.find(([re]) => re.test(c));
        if (!handler) fail(`% Unknown command: ${c}`);
        else handler[1](handler[0].exec(c)!);
      }
      return out.join('');
    },
  };
  return fake;
}

function runningConfig(fake: FakeFrr, routeMap: string): string {
  const lines = [
    'Building configuration...',
    '',
    'Current configuration:',
    '!',
    'frr version 8.4.4',
    '!',
    ...fake.extra,
  ];
  for (const [key, tag] of fake.statics) lines.push(`${key.replace(' ', ' route ')} blackhole tag ${tag}`);
  lines.push('!', 'router bgp 65001', ' address-family ipv4 unicast');
  if (fake.redistribute) lines.push(`  redistribute static route-map ${routeMap}`);
  lines.push(' exit-address-family', 'exit', '!');
  for (const [seq, e] of [...fake.entries].sort((a, b) => a[0] - b[0])) {
    lines.push(`route-map ${routeMap} permit ${seq}`);
    if (e.description) lines.push(` description ${e.description}`);
    if (e.matchTag !== undefined) lines.push(` match tag ${e.matchTag}`);
    for (const s of e.sets) lines.push(` ${s}`);
    lines.push('exit', '!');
  }
  lines.push(`route-map ${routeMap} deny 65535`, 'exit', '!', 'end', '');
  return lines.join('\n');
}
