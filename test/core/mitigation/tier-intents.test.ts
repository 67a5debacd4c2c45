/**
 * The intents of the other tiers (firewall, scrubbing), per-upstream RTBH, the FlowSpec
 * refinements, and the guards and caps that apply to each kind.
 */
import { describe, expect, it } from 'vitest';
import { renderAnnounce, renderWithdraw } from '../../../adapters/exabgp/text-api.js';
import { mitigationConfigSchema } from '../../../core/mitigation/config.js';
import type {
  FirewallIntent,
  IntentKind,
  MitigationIntent,
  ScrubbingIntent,
} from '../../../core/mitigation/intent.js';
import { intentId } from '../../../core/mitigation/intent-id.js';
import { describeIntent } from '../../../core/mitigation/intent-text.js';
import { planMitigation } from '../../../core/mitigation/planner.js';
import { checkCap, checkIntentSafety } from '../../../core/mitigation/safety.js';
import { makeIncident } from './incident-fixture.js';

const config = (input: unknown = {}) => mitigationConfigSchema.parse(input);

function only<K extends IntentKind>(
  intents: MitigationIntent[],
  kind: K,
): Extract<MitigationIntent, { kind: K }> {
  const found = intents.filter((i) => i.kind === kind);
  expect(found).toHaveLength(1);
  return found[0] as Extract<MitigationIntent, { kind: K }>;
}

describe('tier 1: firewall intents', () => {
  const firewall = (incident = makeIncident(), c = config()) =>
    only(planMitigation(incident, c, ['firewall']).intents, 'firewall');

  it('drops a few real sources by address', () => {
    const incident = makeIncident({
      family: 'udp_flood',
      fingerprint: {
        topSources: [
          { address: '198.51.100.7', packets: 900 },
          { address: '198.51.100.8', packets: 800 },
        ],
        distinctSources: 2,
        spoofing: {
          likely: false,
          bogonShare: 0,
          packetsPerSource: 5000,
          reason: 'few sources, many packets each',
        },
      },
    });
    const fw = firewall(incident);
    expect(fw).toMatchObject({
      target: '203.0.113.5/32',
      action: { type: 'drop-source', sources: ['198.51.100.7/32', '198.51.100.8/32'] },
    });
    expect(fw.id).toMatch(/^fw4-[0-9a-f]{16}$/);
    expect(describeIntent(fw)).toBe('firewall on 203.0.113.5/32: drop from 198.51.100.7/32,198.51.100.8/32');
  });

  it('never lists a protected source, and falls back when sources look spoofed', () => {
    const fingerprint = {
      topSources: [
        { address: '198.51.100.53', packets: 900 },
        { address: '198.51.100.8', packets: 800 },
      ],
      distinctSources: 2,
      spoofing: { likely: false, bogonShare: 0, packetsPerSource: 5000, reason: '' },
    };
    const guarded = firewall(
      makeIncident({ family: 'udp_flood', fingerprint }),
      config({ protectedPrefixes: ['198.51.100.53/32'] }),
    );
    expect(guarded.action).toEqual({ type: 'drop-source', sources: ['198.51.100.8/32'] });
    const spoofed = firewall(
      makeIncident({
        family: 'udp_flood',
        fingerprint: { ...fingerprint, spoofing: { ...fingerprint.spoofing, likely: true } },
      }),
    );
    expect(spoofed.action).toEqual({ type: 'rate-limit', packetsPerSecond: 1000, protocol: 17 });
  });

  it('picks the narrowest rule each family allows', () => {
    const cases: [Parameters<typeof makeIncident>[0], FirewallIntent['action'], string][] = [
      [
        { family: 'ntp_amplification', fingerprint: { sourcePorts: [123] } },
        { type: 'drop-protocol', protocol: 17, sourcePorts: [123] },
        'drop udp source-port 123',
      ],
      [
        { family: 'tcp_syn_flood', fingerprint: { protocols: [6] } },
        { type: 'rate-limit', packetsPerSecond: 1000, protocol: 6, synOnly: true },
        'rate-limit tcp syn to 1000 pps',
      ],
      [
        { family: 'icmp_flood', fingerprint: { protocols: [1] } },
        { type: 'drop-protocol', protocol: 1 },
        'drop icmp',
      ],
      [
        { family: 'icmp_flood', target: '2001:db8::5', fingerprint: { protocols: [58] } },
        { type: 'drop-protocol', protocol: 58 },
        'drop icmpv6',
      ],
      [
        { family: 'gre_flood', fingerprint: { protocols: [47] } },
        { type: 'drop-protocol', protocol: 47 },
        'drop gre',
      ],
      [
        { family: 'udp_flood', fingerprint: { destinationPorts: [27015] } },
        { type: 'drop-protocol', protocol: 17, destinationPorts: [27015] },
        'drop udp destination-port 27015',
      ],
      [
        { family: 'mixed', fingerprint: { protocols: [6, 17] } },
        { type: 'rate-limit', packetsPerSecond: 1000 },
        'rate-limit all to 1000 pps',
      ],
    ];
    for (const [incident, action, text] of cases) {
      const fw = firewall(makeIncident(incident));
      expect(fw.action, incident?.family).toEqual(action);
      expect(describeIntent(fw)).toContain(text);
    }
  });

  it('is refused for a whole network: a node firewall protects one host', () => {
    const plan = planMitigation(
      makeIncident({ target: '203.0.113.0/24', family: 'carpet_bombing' }),
      config(),
      ['firewall'],
    );
    expect(plan.intents).toEqual([]);
    expect(plan.refused.map((r) => [r.code, r.reason])).toEqual([
      [
        'FG_ERR_SAFETY_PREFIX_LENGTH',
        'firewall target 203.0.113.0/24 is not a single host: a node firewall rule protects the attacked host only',
      ],
    ]);
  });

  it('has no ExaBGP form', () => {
    expect(() => renderAnnounce(firewall())).toThrow(
      /FG_ERR_ADAPTER_CAPABILITY: firewall intent .* has no ExaBGP form/,
    );
  });
});

describe('tier 4: scrubbing diversion', () => {
  it('diverts the covering /24 or /48, with the configured next hop and communities', () => {
    const c = config({ scrubbing: { nextHopV4: '192.0.2.254', communities: ['64500:777'] } });
    const v4 = only(planMitigation(makeIncident(), c, ['scrubbing']).intents, 'scrubbing');
    expect(v4).toMatchObject({
      prefix: '203.0.113.0/24',
      nextHop: '192.0.2.254',
      communities: ['64500:777'],
    });
    expect(v4.id).toMatch(/^sc4-/);
    expect(renderAnnounce(v4)).toBe(
      'announce route 203.0.113.0/24 next-hop 192.0.2.254 community [ 64500:777 ]',
    );
    expect(renderWithdraw(v4)).toBe('withdraw route 203.0.113.0/24 next-hop 192.0.2.254');
    const v6 = only(
      planMitigation(makeIncident({ target: '2001:db8:5:6::7' }), config(), ['scrubbing']).intents,
      'scrubbing',
    );
    expect(v6).toMatchObject({ prefix: '2001:db8:5::/48', communities: [] });
    expect(v6.nextHop).toBeUndefined();
    expect(renderAnnounce(v6)).toBe('announce route 2001:db8:5::/48 next-hop self');
  });

  it('honours a longer configured length and refuses a carpet-bombed prefix shorter than the minimum', () => {
    const longer = planMitigation(makeIncident(), config({ scrubbing: { prefixLengthV4: 25 } }), [
      'scrubbing',
    ]);
    expect(only(longer.intents, 'scrubbing').prefix).toBe('203.0.113.0/25');
    const wide = planMitigation(
      makeIncident({ target: '203.0.112.0/22', family: 'carpet_bombing' }),
      config(),
      ['scrubbing'],
    );
    expect(wide.refused.map((r) => [r.code, r.reason])).toEqual([
      [
        'FG_ERR_SAFETY_PREFIX_LENGTH',
        'scrubbing diversion 203.0.112.0/22 is shorter than /24 (mitigation.scrubbing.minPrefixLengthV4)',
      ],
    ]);
  });
});

describe('per-upstream RTBH', () => {
  it('plans one route per upstream with its own communities and next hop', () => {
    const c = config({
      rtbh: {
        upstreams: [
          { name: 'transit-a', communities: ['64500:666'] },
          { name: 'transit-b', communities: ['64501:9999', '65535:666'], nextHopV4: '192.0.2.66' },
        ],
      },
    });
    const routes = planMitigation(makeIncident(), c, ['rtbh']).intents;
    expect(routes.map((r) => r.kind === 'rtbh' && [r.upstream, r.nextHop, r.communities])).toEqual([
      ['transit-a', '192.0.2.1', ['64500:666']],
      ['transit-b', '192.0.2.66', ['64501:9999', '65535:666']],
    ]);
    expect(new Set(routes.map((r) => r.id)).size).toBe(2);
    expect(renderAnnounce(routes[1]!)).toBe(
      'announce route 203.0.113.5/32 next-hop 192.0.2.66 community [ 64501:9999 65535:666 ]',
    );
  });
});

describe('FlowSpec refinements', () => {
  it('adds the destination ports of a flood and the attack packet lengths when switched on', () => {
    const incident = makeIncident({
      family: 'udp_flood',
      fingerprint: { destinationPorts: [27015, 27016], packetSizes: { p10: 1100.4, p50: 1200, p90: 1400.2 } },
    });
    const plain = only(planMitigation(incident, config()).intents, 'flowspec');
    expect(plain.match).toEqual({ destination: '203.0.113.5/32', protocols: [17] });
    const refined = only(
      planMitigation(
        incident,
        config({ flowspec: { match: { destinationPorts: true, packetLength: true } } }),
      ).intents,
      'flowspec',
    );
    expect(refined.match).toEqual({
      destination: '203.0.113.5/32',
      protocols: [17],
      destinationPorts: [27015, 27016],
      packetLength: { min: 1100, max: 1401 },
    });
    expect(renderAnnounce(refined)).toBe(
      'announce flow route { match { destination 203.0.113.5/32; protocol udp; destination-port [ =27015 =27016 ]; packet-length >=1100&<=1401; } then { discard; } }',
    );
  });

  it('leaves out a port list longer than maxPorts and ports of a reflection', () => {
    const c = config({ flowspec: { match: { destinationPorts: true, maxPorts: 2 } } });
    const many = makeIncident({ family: 'udp_flood', fingerprint: { destinationPorts: [1, 2, 3] } });
    expect(only(planMitigation(many, c).intents, 'flowspec').match.destinationPorts).toBeUndefined();
    const reflection = makeIncident({
      family: 'ntp_amplification',
      fingerprint: { destinationPorts: [40000] },
    });
    expect(only(planMitigation(reflection, c).intents, 'flowspec').match.destinationPorts).toBeUndefined();
  });
});

describe('guards for every kind', () => {
  const base = { incidentId: 'inc-1', id: 'x' };
  const fw = (target: string, action: FirewallIntent['action'] = { type: 'drop-protocol', protocol: 17 }) =>
    ({
      ...base,
      kind: 'firewall',
      ipVersion: target.includes(':') ? 6 : 4,
      target,
      action,
    }) as FirewallIntent;
  const sc = (prefix: string, nextHop?: string) =>
    ({
      ...base,
      kind: 'scrubbing',
      ipVersion: prefix.includes(':') ? 6 : 4,
      prefix,
      communities: [],
      ...(nextHop === undefined ? {} : { nextHop }),
    }) as ScrubbingIntent;
  const open = { protectedPrefixes: [] };

  it('refuses every kind of default route', () => {
    for (const intent of [fw('0.0.0.0/0'), sc('0.0.0.0/0'), sc('::/0')]) {
      expect(checkIntentSafety(intent, open)?.code).toBe('FG_ERR_SAFETY_DEFAULT_ROUTE');
    }
    const allSources = checkIntentSafety(
      fw('203.0.113.5/32', { type: 'drop-source', sources: ['0.0.0.0/0'] }),
      open,
    );
    expect(allSources).toMatchObject({
      code: 'FG_ERR_SAFETY_DEFAULT_ROUTE',
      reason:
        'firewall rule for 203.0.113.5/32 would drop source 0.0.0.0/0, a default route: that is all traffic',
    });
  });

  it('never firewalls a protected target or a protected source', () => {
    const protectedConfig = { protectedPrefixes: ['203.0.113.0/24', '198.51.100.53/32'] };
    expect(checkIntentSafety(fw('203.0.113.5/32'), protectedConfig)).toMatchObject({
      code: 'FG_ERR_SAFETY_PROTECTED',
      reason: '203.0.113.5/32 lies in protected prefix 203.0.113.0/24 (mitigation.protectedPrefixes[0])',
    });
    const source = fw('192.0.2.5/32', { type: 'drop-source', sources: ['198.51.100.0/24'] });
    expect(checkIntentSafety(source, protectedConfig)).toMatchObject({
      code: 'FG_ERR_SAFETY_PROTECTED',
      reason:
        'source 198.51.100.0/24 covers protected prefix 198.51.100.53/32 (mitigation.protectedPrefixes[1])',
    });
  });

  it('refuses malformed firewall and scrubbing intents', () => {
    expect(checkIntentSafety(fw('203.0.113.5/32', { type: 'drop-source', sources: [] }), open)?.code).toBe(
      'FG_ERR_SAFETY_INVALID_TARGET',
    );
    expect(
      checkIntentSafety(fw('203.0.113.5/32', { type: 'drop-source', sources: ['2001:db8::1/128'] }), open)
        ?.code,
    ).toBe('FG_ERR_SAFETY_INVALID_TARGET');
    expect(checkIntentSafety(sc('203.0.113.0/24', '100::1'), open)?.reason).toBe(
      'scrubbing next hop "100::1" is not an IPv4 address for 203.0.113.0/24 (mitigation.scrubbing.nextHopV4)',
    );
    expect(checkIntentSafety(sc('2001:db8::/32'), open)?.reason).toBe(
      'scrubbing diversion 2001:db8::/32 is shorter than /48 (mitigation.scrubbing.minPrefixLengthV6)',
    );
    expect(
      checkIntentSafety(sc('203.0.113.0/25'), {
        ...open,
        scrubbing: { minPrefixLengthV4: 26, minPrefixLengthV6: 48 },
      })?.code,
    ).toBe('FG_ERR_SAFETY_PREFIX_LENGTH');
  });

  it('caps each kind on its own setting', () => {
    const caps = { firewall: 1, flowspec: 10, rtbh: 10, scrubbing: 2 };
    expect(checkCap(fw('203.0.113.5/32'), 1, caps)?.reason).toBe(
      '203.0.113.5/32: 1 firewall rules are already active and the cap is 1 (mitigation.caps.firewall); withdraw some or raise the cap',
    );
    expect(checkCap(sc('203.0.113.0/24'), 1, caps)).toBeUndefined();
    expect(checkCap(sc('203.0.113.0/24'), 2, caps)?.reason).toContain(
      'scrubbing diversions are already active',
    );
  });
});

describe('intent ids of the new kinds', () => {
  it('ignore list order and spelling, and change with the upstream', () => {
    const a = intentId({
      kind: 'firewall',
      ipVersion: 4,
      target: '203.0.113.5/32',
      action: { type: 'drop-source', sources: ['198.51.100.8/32', '198.51.100.7/32'] },
    });
    const b = intentId({
      kind: 'firewall',
      ipVersion: 4,
      target: '203.0.113.5/32',
      action: { type: 'drop-source', sources: ['198.51.100.7/32', '198.51.100.8/32', '198.51.100.7/32'] },
    });
    expect(a).toBe(b);
    expect(a).toMatch(/^fw4-/);
    const route = {
      kind: 'rtbh' as const,
      ipVersion: 4 as const,
      prefix: '203.0.113.5/32',
      nextHop: '192.0.2.1',
      communities: ['65535:666'],
    };
    // Without an upstream the id is what it was before upstreams existed (stored ids stay valid).
    expect(intentId(route)).toBe('bh4-751f2f3ff6ed3b56');
    expect(intentId({ ...route, upstream: 'transit-a' })).not.toBe(intentId(route));
  });
});
