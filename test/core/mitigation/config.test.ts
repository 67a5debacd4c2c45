import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { defaultMitigationConfig, mitigationConfigSchema } from '../../../core/mitigation/config.js';

function issuesOf(input: unknown): string[] {
  const result = mitigationConfigSchema.safeParse(input);
  if (result.success) return [];
  return result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('mitigation config', () => {
  it('fills every default from an empty section', () => {
    expect(defaultMitigationConfig()).toEqual({
      protectedPrefixes: [],
      firewall: { enabled: true, maxSources: 16, rateLimitPps: 1000 },
      rtbh: {
        enabled: true,
        nextHopV4: '192.0.2.1',
        nextHopV6: '100::1',
        communities: ['65535:666'],
        upstreams: [],
      },
      flowspec: {
        enabled: true,
        action: { type: 'discard' },
        match: { destinationPorts: false, packetLength: false, maxPorts: 8 },
      },
      scrubbing: {
        enabled: true,
        prefixLengthV4: 24,
        prefixLengthV6: 48,
        minPrefixLengthV4: 24,
        minPrefixLengthV6: 48,
        communities: [],
      },
      caps: { firewall: 1000, flowspec: 1000, rtbh: 1000, scrubbing: 16 },
    });
  });

  it('reads the same from YAML as from an object, keeping defaults for what is left out', () => {
    const yaml = `
protectedPrefixes: [203.0.113.0/24, "2001:db8:53::/48"]
rtbh:
  communities: ["65535:666", "64500:666"]
flowspec:
  action: { type: rate-limit, bytesPerSecond: 125000 }
caps: { rtbh: 50 }
`;
    const fromYaml = mitigationConfigSchema.parse(parseYaml(yaml));
    const fromObject = mitigationConfigSchema.parse({
      protectedPrefixes: ['203.0.113.0/24', '2001:db8:53::/48'],
      rtbh: { communities: ['65535:666', '64500:666'] },
      flowspec: { action: { type: 'rate-limit', bytesPerSecond: 125000 } },
      caps: { rtbh: 50 },
    });
    expect(fromYaml).toEqual(fromObject);
    expect(fromYaml.rtbh.nextHopV4).toBe('192.0.2.1');
    expect(fromYaml.caps).toEqual({ firewall: 1000, flowspec: 1000, rtbh: 50, scrubbing: 16 });
    expect(fromYaml.flowspec).toEqual({
      enabled: true,
      action: { type: 'rate-limit', bytesPerSecond: 125000 },
      match: { destinationPorts: false, packetLength: false, maxPorts: 8 },
    });
  });

  it('accepts every FlowSpec action variant', () => {
    for (const action of [
      { type: 'discard' },
      { type: 'rate-limit', bytesPerSecond: 0 },
      { type: 'redirect', routeTarget: '65000:100' },
      { type: 'redirect', routeTarget: '4200000000:100' },
      { type: 'mark', dscp: 46 },
    ]) {
      expect(issuesOf({ flowspec: { action } })).toEqual([]);
    }
  });

  it('names the path of each invalid value', () => {
    expect(issuesOf({ rtbh: { communities: ['65536:666'] } })[0]).toMatch(/^rtbh\.communities\.0: .*65535/);
    expect(issuesOf({ rtbh: { communities: ['blackhole'] } })[0]).toMatch(/^rtbh\.communities\.0:/);
    expect(issuesOf({ rtbh: { nextHopV4: '100::1' } })[0]).toBe('rtbh.nextHopV4: must be an IPv4 address');
    expect(issuesOf({ rtbh: { nextHopV6: '192.0.2.1' } })[0]).toBe('rtbh.nextHopV6: must be an IPv6 address');
    expect(issuesOf({ protectedPrefixes: ['203.0.113.5/24'] })[0]).toMatch(
      /^protectedPrefixes\.0: .*host bits/,
    );
    expect(issuesOf({ flowspec: { action: { type: 'drop' } } })[0]).toMatch(/^flowspec\.action/);
    expect(issuesOf({ flowspec: { action: { type: 'mark', dscp: 64 } } })[0]).toMatch(
      /^flowspec\.action\.dscp/,
    );
    expect(
      issuesOf({ flowspec: { action: { type: 'redirect', routeTarget: '4200000000:70000' } } })[0],
    ).toMatch(/^flowspec\.action\.routeTarget/);
    expect(issuesOf({ caps: { flowspec: -1 } })[0]).toMatch(/^caps\.flowspec/);
    expect(issuesOf({ caps: { flowspc: 10 } })[0]).toMatch(/^caps/);
    expect(issuesOf({ scrubbing: { prefixLengthV4: 22 } })).toEqual([
      'scrubbing.prefixLengthV4: /22 is shorter than minPrefixLengthV4 /24: every diversion would be refused',
    ]);
    expect(
      issuesOf({
        rtbh: {
          upstreams: [
            { name: 'a', communities: ['1:666'] },
            { name: 'a', communities: ['2:666'] },
          ],
        },
      }),
    ).toEqual(['rtbh.upstreams: upstream names must be unique']);
    expect(issuesOf({ rtbh: { upstreams: [{ name: 'a', communities: [] }] } })[0]).toMatch(
      /^rtbh\.upstreams\.0\.communities/,
    );
  });
});
