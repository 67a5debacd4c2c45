import { describe, expect, it } from 'vitest';
import { renderAnnounce } from '../../../adapters/exabgp/text-api.js';
import { defaultMitigationConfig, type MitigationConfig } from '../../../core/mitigation/config.js';
import type { BlackholeIntent, FlowSpecIntent, MitigationIntent } from '../../../core/mitigation/intent.js';
import { intentId } from '../../../core/mitigation/intent-id.js';
import { planMitigation } from '../../../core/mitigation/planner.js';
import { makeIncident } from './incident-fixture.js';

function config(overrides: Partial<MitigationConfig> = {}): MitigationConfig {
  return { ...defaultMitigationConfig(), ...overrides };
}

function flowspecOf(intents: MitigationIntent[]): FlowSpecIntent {
  const found = intents.filter((i): i is FlowSpecIntent => i.kind === 'flowspec');
  expect(found).toHaveLength(1);
  return found[0]!;
}

function rtbhOf(intents: MitigationIntent[]): BlackholeIntent {
  const found = intents.filter((i): i is BlackholeIntent => i.kind === 'rtbh');
  expect(found).toHaveLength(1);
  return found[0]!;
}

describe('planMitigation', () => {
  it('plans a FlowSpec rule on the reflector port and an RTBH route for an NTP amplification', () => {
    const incident = makeIncident({
      family: 'ntp_amplification',
      fingerprint: { protocols: [17], sourcePorts: [123] },
    });
    const plan = planMitigation(incident, config());
    expect(plan.refused).toEqual([]);
    expect(plan.intents.map((i) => i.kind)).toEqual(['flowspec', 'rtbh']);
    const fs = flowspecOf(plan.intents);
    expect(fs).toEqual({
      kind: 'flowspec',
      id: fs.id,
      incidentId: incident.id,
      ipVersion: 4,
      match: { destination: '203.0.113.5/32', protocols: [17], sourcePorts: [123] },
      action: { type: 'discard' },
    });
    expect(fs.id).toMatch(/^fs4-[0-9a-f]{16}$/);
    expect(renderAnnounce(fs)).toBe(
      'announce flow route { match { destination 203.0.113.5/32; protocol udp; source-port =123; } then { discard; } }',
    );
    const bh = rtbhOf(plan.intents);
    expect(bh).toEqual({
      kind: 'rtbh',
      id: bh.id,
      incidentId: incident.id,
      ipVersion: 4,
      prefix: '203.0.113.5/32',
      nextHop: '192.0.2.1',
      communities: ['65535:666'],
    });
    expect(bh.id).toMatch(/^bh4-[0-9a-f]{16}$/);
    expect(renderAnnounce(bh)).toBe(
      'announce route 203.0.113.5/32 next-hop 192.0.2.1 community [ 65535:666 ]',
    );
  });

  it('matches each amplification family on its reflector port, also when the fingerprint has none', () => {
    const expected: Record<string, number> = {
      dns_amplification: 53,
      ntp_amplification: 123,
      memcached_amplification: 11211,
      ssdp_amplification: 1900,
      cldap_amplification: 389,
      chargen_amplification: 19,
      snmp_amplification: 161,
      rpcbind_amplification: 111,
      ws_discovery_amplification: 3702,
      dvr_amplification: 37810,
    };
    for (const [family, port] of Object.entries(expected)) {
      const incident = makeIncident({ family: family as never, fingerprint: { sourcePorts: [] } });
      const fs = flowspecOf(planMitigation(incident, config()).intents);
      expect(fs.match, family).toEqual({
        destination: '203.0.113.5/32',
        protocols: [17],
        sourcePorts: [port],
      });
    }
  });

  it('keeps every reflector port the fingerprint saw, sorted and once each', () => {
    const incident = makeIncident({
      family: 'dns_amplification',
      fingerprint: { sourcePorts: [123, 53, 123] },
    });
    expect(flowspecOf(planMitigation(incident, config()).intents).match.sourcePorts).toEqual([53, 123]);
  });

  it('matches SYN set and ACK clear for a SYN flood', () => {
    const incident = makeIncident({
      family: 'tcp_syn_flood',
      fingerprint: { protocols: [6], synShare: 0.97 },
    });
    const fs = flowspecOf(planMitigation(incident, config()).intents);
    expect(fs.match).toEqual({
      destination: '203.0.113.5/32',
      protocols: [6],
      tcpFlagsSet: 0x02,
      tcpFlagsClear: 0x10,
    });
    expect(renderAnnounce(fs)).toBe(
      'announce flow route { match { destination 203.0.113.5/32; protocol tcp; tcp-flags [ syn&!ack ]; } then { discard; } }',
    );
  });

  it('matches the protocol the family implies for floods', () => {
    const cases: [string, number][] = [
      ['udp_flood', 17],
      ['tcp_ack_rst_flood', 6],
      ['icmp_flood', 1],
      ['gre_flood', 47],
    ];
    for (const [family, protocol] of cases) {
      const incident = makeIncident({ family: family as never, fingerprint: { protocols: [protocol] } });
      expect(flowspecOf(planMitigation(incident, config()).intents).match, family).toEqual({
        destination: '203.0.113.5/32',
        protocols: [protocol],
      });
    }
  });

  it('uses the fingerprint protocols when the family implies none', () => {
    const mixed = makeIncident({ family: 'mixed', fingerprint: { protocols: [17, 6] } });
    expect(flowspecOf(planMitigation(mixed, config()).intents).match).toEqual({
      destination: '203.0.113.5/32',
      protocols: [6, 17],
    });
    const fragments = makeIncident({ family: 'fragment_flood', fingerprint: { protocols: [17] } });
    expect(flowspecOf(planMitigation(fragments, config()).intents).match).toEqual({
      destination: '203.0.113.5/32',
      protocols: [17],
      fragment: 'is-fragment',
    });
  });

  it('plans /128 intents with the IPv6 next hop and ICMPv6 for an IPv6 victim', () => {
    const incident = makeIncident({
      target: '2001:DB8:0::5',
      family: 'icmp_flood',
      fingerprint: { protocols: [58] },
    });
    const plan = planMitigation(incident, config());
    const fs = flowspecOf(plan.intents);
    expect(fs.id).toMatch(/^fs6-/);
    expect(fs.match).toEqual({ destination: '2001:db8::5/128', protocols: [58] });
    const bh = rtbhOf(plan.intents);
    expect(bh.id).toMatch(/^bh6-/);
    expect(bh).toMatchObject({ ipVersion: 6, prefix: '2001:db8::5/128', nextHop: '100::1' });
    expect(renderAnnounce(bh)).toBe('announce route 2001:db8::5/128 next-hop 100::1 community [ 65535:666 ]');
  });

  it('uses the configured action and communities', () => {
    const incident = makeIncident({ family: 'udp_flood' });
    const defaults = defaultMitigationConfig();
    const c = config({
      flowspec: { ...defaults.flowspec, action: { type: 'rate-limit', bytesPerSecond: 125000 } },
      rtbh: { ...defaults.rtbh, nextHopV4: '192.0.2.254', communities: ['64500:666', '65535:666'] },
    });
    const plan = planMitigation(incident, c);
    expect(flowspecOf(plan.intents).action).toEqual({ type: 'rate-limit', bytesPerSecond: 125000 });
    expect(rtbhOf(plan.intents)).toMatchObject({
      nextHop: '192.0.2.254',
      communities: ['64500:666', '65535:666'],
    });
  });

  it('plans nothing of a disabled kind, without calling it a refusal', () => {
    const incident = makeIncident();
    const noRtbh = planMitigation(
      incident,
      config({ rtbh: { ...defaultMitigationConfig().rtbh, enabled: false } }),
    );
    expect(noRtbh.intents.map((i) => i.kind)).toEqual(['flowspec']);
    expect(noRtbh.refused).toEqual([]);
    const noFlowSpec = planMitigation(
      incident,
      config({ flowspec: { ...defaultMitigationConfig().flowspec, enabled: false } }),
    );
    expect(noFlowSpec.intents.map((i) => i.kind)).toEqual(['rtbh']);
  });

  it('refuses both intents for a target in a protected prefix, naming the entry', () => {
    const incident = makeIncident({ target: '203.0.113.5', family: 'ntp_amplification' });
    const plan = planMitigation(
      incident,
      config({ protectedPrefixes: ['198.51.100.0/24', '203.0.113.0/24'] }),
    );
    expect(plan.intents).toEqual([]);
    expect(plan.refused.map((r) => [r.intent.kind, r.code, r.reason])).toEqual([
      [
        'flowspec',
        'FG_ERR_SAFETY_PROTECTED',
        '203.0.113.5/32 lies in protected prefix 203.0.113.0/24 (mitigation.protectedPrefixes[1])',
      ],
      [
        'rtbh',
        'FG_ERR_SAFETY_PROTECTED',
        '203.0.113.5/32 lies in protected prefix 203.0.113.0/24 (mitigation.protectedPrefixes[1])',
      ],
    ]);
  });

  it('keeps FlowSpec but refuses RTBH for a whole attacked network (carpet bombing)', () => {
    const incident = makeIncident({
      target: '203.0.113.0/24',
      family: 'carpet_bombing',
      fingerprint: { protocols: [17] },
    });
    const plan = planMitigation(incident, config());
    expect(flowspecOf(plan.intents).match).toEqual({ destination: '203.0.113.0/24', protocols: [17] });
    expect(plan.refused.map((r) => [r.intent.kind, r.code])).toEqual([
      ['rtbh', 'FG_ERR_SAFETY_PREFIX_LENGTH'],
    ]);
  });

  it('refuses, rather than guesses, a target it cannot read', () => {
    const plan = planMitigation(makeIncident({ target: 'victim.example.net' }), config());
    expect(plan.intents).toEqual([]);
    expect(plan.refused.map((r) => r.code)).toEqual([
      'FG_ERR_SAFETY_INVALID_TARGET',
      'FG_ERR_SAFETY_INVALID_TARGET',
    ]);
  });

  it('gives two incidents on the same target the same intent ids (they deduplicate)', () => {
    const first = makeIncident({
      id: 'inc-a',
      family: 'ntp_amplification',
      fingerprint: { sourcePorts: [123] },
    });
    const second = makeIncident({
      id: 'inc-b',
      family: 'ntp_amplification',
      fingerprint: { sourcePorts: [123] },
    });
    const a = planMitigation(first, config());
    const b = planMitigation(second, config());
    expect(a.intents.map((i) => i.id)).toEqual(b.intents.map((i) => i.id));
    expect(a.intents.map((i) => i.incidentId)).toEqual(['inc-a', 'inc-a']);
    expect(b.intents.map((i) => i.incidentId)).toEqual(['inc-b', 'inc-b']);
    for (const intent of a.intents) expect(intentId(intent)).toBe(intent.id);
  });

  it('gives different attacks on the same target different FlowSpec ids but the same RTBH id', () => {
    const ntp = planMitigation(makeIncident({ family: 'ntp_amplification' }), config());
    const syn = planMitigation(makeIncident({ family: 'tcp_syn_flood' }), config());
    expect(flowspecOf(ntp.intents).id).not.toBe(flowspecOf(syn.intents).id);
    expect(rtbhOf(ntp.intents).id).toBe(rtbhOf(syn.intents).id);
  });
});
