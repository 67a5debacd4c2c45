import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseIp, parseValue, protocolName, widenPrefix } from '../../../../adapters/node/actions/values.js';

function ok(result: ReturnType<typeof parseValue>): unknown {
  if ('why' in result) throw new Error(result.why);
  return result.value;
}

describe('addresses and prefixes', () => {
  it('re-renders addresses canonically', () => {
    expect(ok(parseValue('address', '198.51.100.7'))).toEqual({
      text: '198.51.100.7',
      version: 4,
      length: 32,
    });
    expect(ok(parseValue('address', '2001:DB8:0:0::7'))).toEqual({
      text: '2001:db8::7',
      version: 6,
      length: 128,
    });
    expect(ok(parseValue('prefix', '198.51.100.0/24'))).toEqual({
      text: '198.51.100.0/24',
      version: 4,
      length: 24,
    });
    expect(ok(parseValue('prefix', '2001:db8:bad::/48'))).toEqual({
      text: '2001:db8:bad::/48',
      version: 6,
      length: 48,
    });
    // A host prefix is rendered as the bare address.
    expect(ok(parseValue('prefix', '198.51.100.7/32'))).toEqual({
      text: '198.51.100.7',
      version: 4,
      length: 32,
    });
  });

  it.each([
    ['198.51.100.7/24', /host bits set \(did you mean 198\.51\.100\.0\/24\?\)/],
    ['2001:db8::1/64', /host bits set/],
    ['0.0.0.0/0', /\/0 prefix/],
    ['::/0', /\/0 prefix/],
    ['198.51.100.7/33', /not an IPv4 or IPv6/],
    ['198.51.100.7/024', /not an IPv4 or IPv6/],
    ['010.1.1.1', /not an IPv4 or IPv6/],
    ['256.1.1.1', /not an IPv4 or IPv6/],
    ['fe80::1%eth0', /not an IPv4 or IPv6/],
    ['::ffff:1.2.3.4', /not an IPv4 or IPv6/],
    [' 198.51.100.7', /not an IPv4 or IPv6/],
    ['198.51.100.7; rm -rf /', /not an IPv4 or IPv6/],
    ['$(id)', /not an IPv4 or IPv6/],
    ['-j ACCEPT', /not an IPv4 or IPv6/],
  ])('refuses the prefix %j', (text, why) => {
    const r = parseValue('prefix', text);
    expect('why' in r && r.why).toMatch(why);
  });

  it('refuses a prefix where one address is taken, and non-strings', () => {
    expect('why' in parseIp('198.51.100.0/24', 'address')).toBe(true);
    expect('why' in parseIp(3325256711, 'address')).toBe(true);
  });

  it('widens an address to its network', () => {
    const v4 = ok(parseValue('address', '198.51.100.7')) as never;
    expect(widenPrefix(v4, 24)).toEqual({ text: '198.51.100.0/24', version: 4, length: 24 });
    const v6 = ok(parseValue('prefix', '2001:db8:bad::7')) as never;
    expect(widenPrefix(v6, 64)).toEqual({ text: '2001:db8:bad::/64', version: 6, length: 64 });
    const short = ok(parseValue('prefix', '198.51.0.0/16')) as never;
    expect(widenPrefix(short, 24)).toBe(short);
  });
});

describe('numbers, protocols and names', () => {
  it('takes ports as numbers or plain digits only', () => {
    expect(ok(parseValue('port', 53))).toBe(53);
    expect(ok(parseValue('port', '65535'))).toBe(65535);
    for (const bad of [
      70000,
      -1,
      1.5,
      '053',
      '+53',
      '53 ',
      '0x35',
      Number.NaN,
      Number.POSITIVE_INFINITY,
      true,
      null,
    ]) {
      expect('why' in parseValue('port', bad), String(bad)).toBe(true);
    }
    expect(ok(parseValue('port-or-any', 'any'))).toBe('any');
  });

  it('takes protocols by name or number', () => {
    expect(ok(parseValue('protocol', 'udp'))).toBe(17);
    expect(ok(parseValue('protocol', 'TCP'))).toBe(6);
    expect(ok(parseValue('protocol', 'icmpv6'))).toBe(58);
    expect(ok(parseValue('protocol', 47))).toBe(47);
    expect(ok(parseValue('protocol', '0'))).toBe(0);
    expect('why' in parseValue('protocol', 256)).toBe(true);
    expect('why' in parseValue('protocol', 'quic')).toBe(true);
    expect(protocolName(17)).toBe('udp');
    expect(protocolName(200)).toBe('200');
  });

  it('keeps rates, bursts and durations in their ranges', () => {
    expect(ok(parseValue('rate', 1))).toBe(1);
    expect('why' in parseValue('rate', 0)).toBe(true);
    expect('why' in parseValue('rate', 1_000_001)).toBe(true);
    expect('why' in parseValue('bandwidth', 7)).toBe(true);
    expect('why' in parseValue('seconds', 2_147_484)).toBe(true);
    expect('why' in parseValue('bytes', 100)).toBe(true);
  });

  it.each([
    ['set-name', 'floodgate-ip4', ['-exist', '.hidden', 'a'.repeat(32), 'bad name', 'x;y']],
    ['jail', 'sshd', ['-x', 'jail$(id)', 'a/b']],
    ['interface', 'eth0.100', ['-eth0', 'eth0:1', 'a'.repeat(16), 'eth 0']],
    ['chain', 'INPUT', ['-j', 'a'.repeat(29), 'IN PUT']],
    ['path', '/run/fail2ban/fail2ban.sock', ['relative.sock', '/run/../etc/shadow', '/run//x', '-s', '/a b']],
  ] as const)('holds %s names to their grammar', (kind, good, bads) => {
    expect(ok(parseValue(kind, good))).toBe(good);
    for (const bad of bads) expect('why' in parseValue(kind, bad), bad).toBe(true);
  });

  it('never accepts a string with a shell or option character for any kind', () => {
    const kinds = [
      'address',
      'prefix',
      'port',
      'protocol',
      'rate',
      'set-name',
      'jail',
      'interface',
      'chain',
      'path',
    ] as const;
    fc.assert(
      fc.property(fc.constantFrom(...kinds), fc.string({ maxLength: 40 }), (kind, text) => {
        const r = parseValue(kind, text);
        if ('why' in r) return;
        const rendered = typeof r.value === 'object' ? r.value.text : String(r.value);
        expect(rendered).toMatch(/^[A-Za-z0-9_:./][A-Za-z0-9_:./-]*$/);
      }),
      { numRuns: 2000 },
    );
  });
});
