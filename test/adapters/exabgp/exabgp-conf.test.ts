/** exabgp.conf rendering, the adapter's config schema, and `floodgate exabgp-config`. */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exabgpConfigSchema, exabgpSocketPath } from '../../../adapters/exabgp/config.js';
import { familiesFor, renderExabgpConf } from '../../../adapters/exabgp/exabgp-conf.js';
import { helperArgv } from '../../../adapters/exabgp/helper-command.js';
import { exabgpConfig } from '../../../appliance/cli/exabgp-config.js';
import { isFloodgateError } from '../../../core/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'fg-exabgp-conf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = {
  routerId: '192.0.2.250',
  localAs: 64512,
  neighbors: [
    { address: '192.0.2.1', peerAs: 64500, localAddress: '192.0.2.250', description: 'edge router 1' },
    {
      address: '2001:db8::1',
      peerAs: 64501,
      localAddress: '2001:db8::250',
      localAs: 64513,
      port: 1179,
      multihop: 4,
      md5Password: 's3cret',
    },
  ],
};

describe('exabgp.conf', () => {
  it('runs the helper and lists each neighbor with the families the capabilities need', () => {
    const text = renderExabgpConf({
      adapterName: 'edge',
      config: exabgpConfigSchema.parse(base),
      helperArgv: [
        '/usr/bin/node',
        '/opt/floodgate/dist/adapters/exabgp/helper.js',
        '--socket',
        '/var/lib/floodgate/exabgp-edge.sock',
        '--retry-ms',
        '1000',
      ],
    });
    expect(text).toContain(
      'process floodgate-edge {\n    run /usr/bin/node /opt/floodgate/dist/adapters/exabgp/helper.js --socket /var/lib/floodgate/exabgp-edge.sock --retry-ms 1000;\n    encoder text;\n}',
    );
    expect(text).toContain(
      [
        'neighbor 192.0.2.1 {',
        '    description "edge router 1";',
        '    router-id 192.0.2.250;',
        '    local-address 192.0.2.250;',
        '    local-as 64512;',
        '    peer-as 64500;',
        '    family {',
        '        ipv4 unicast;',
        '        ipv6 unicast;',
        '        ipv4 flow;',
        '        ipv6 flow;',
        '    }',
        '    api {',
        '        processes [ floodgate-edge ];',
        '        neighbor-changes;',
        '    }',
        '}',
      ].join('\n'),
    );
    expect(text).toContain(
      '    local-as 64513;\n    peer-as 64501;\n    connect 1179;\n    outgoing-ttl 4;\n    md5-password s3cret;',
    );
  });

  it('quotes helper arguments with spaces and refuses ones it cannot quote', () => {
    const config = exabgpConfigSchema.parse(base);
    const text = renderExabgpConf({
      adapterName: 'edge',
      config,
      helperArgv: ['/usr/bin/node', '/opt/my floodgate/helper.js'],
    });
    expect(text).toContain('run /usr/bin/node "/opt/my floodgate/helper.js";');
    expect(() =>
      renderExabgpConf({ adapterName: 'edge', config, helperArgv: ['/usr/bin/node', '/x/"evil"'] }),
    ).toThrow(/cannot be written/);
  });

  it('names every field it misses', () => {
    try {
      renderExabgpConf({
        adapterName: 'edge',
        config: exabgpConfigSchema.parse({ neighbors: [{ address: '192.0.2.1' }] }),
        helperArgv: ['/n'],
      });
      expect.unreachable();
    } catch (e) {
      expect(isFloodgateError(e) && e.code).toBe('FG_ERR_CONFIG_INVALID');
      expect((e as Error).message).toContain('adapters[name=edge].config.neighbors[0].peerAs');
      expect((e as Error).message).toContain('neighbors[0].localAddress');
      expect((e as Error).message).toContain('(or adapters[name=edge].config.routerId)');
    }
    expect(() =>
      renderExabgpConf({ adapterName: 'edge', config: exabgpConfigSchema.parse({}), helperArgv: ['/n'] }),
    ).toThrow(/list the peers/);
  });

  it('asks for the families of its capabilities only', () => {
    expect(familiesFor(['flowspec4', 'rtbh4'])).toEqual(['ipv4 unicast', 'ipv4 flow']);
    expect(familiesFor(['flowspec6'])).toEqual(['ipv6 flow']);
    expect(familiesFor(['scrubbing'])).toEqual(['ipv4 unicast', 'ipv6 unicast']);
  });

  it('runs the helper from the sources through tsx when not built', () => {
    const argv = helperArgv({ socketPath: '/run/x.sock', retryMs: 500, node: '/usr/bin/node' });
    expect(argv[0]).toBe('/usr/bin/node');
    expect(argv.slice(1, 3)).toEqual(['--import', expect.stringMatching(/\/node_modules\/tsx\/.*\.mjs$/)]);
    expect(argv.slice(3)).toEqual([
      expect.stringMatching(/\/adapters\/exabgp\/helper\.ts$/),
      '--socket',
      '/run/x.sock',
      '--retry-ms',
      '500',
    ]);
  });
});

describe('exabgp adapter config', () => {
  it('defaults the socket into the state directory and validates neighbors', () => {
    const config = exabgpConfigSchema.parse({});
    expect(config.capabilities).toEqual(['flowspec4', 'flowspec6', 'rtbh4', 'rtbh6']);
    expect(config.timeouts).toEqual({ connectMs: 5_000, commandMs: 10_000 });
    expect(exabgpSocketPath(config, 'edge', '/var/lib/floodgate')).toBe(
      '/var/lib/floodgate/exabgp-edge.sock',
    );
    expect(() => exabgpSocketPath(config, 'edge')).toThrow(/set config.socket/);
    const bad = exabgpConfigSchema.safeParse({
      neighbors: [{ address: '192.0.2.1' }, { address: '192.0.2.1' }, { address: 'nope' }],
    });
    expect(bad.success).toBe(false);
    const messages = bad.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
    expect(messages).toContain('neighbors.2.address: must be an IPv4 or IPv6 address');
    expect(messages).toContain('neighbors.1.address: 192.0.2.1 is listed twice');
    expect(exabgpConfigSchema.safeParse({ socketMode: '0999' }).success).toBe(false);
  });
});

describe('floodgate exabgp-config', () => {
  function io() {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, io: { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t) } };
  }

  function yaml(adapters: string): string {
    const path = join(dir, `f${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(path, `store: { stateDir: ${JSON.stringify(dir)} }\nadapters:\n${adapters}`);
    return path;
  }

  const edge = `  - name: edge\n    type: exabgp\n    config: ${JSON.stringify(base)}\n`;

  it('prints the file for the only exabgp adapter, with the socket in the state directory', () => {
    const t = io();
    expect(exabgpConfig({ config: yaml(edge), node: '/usr/bin/node' }, t.io)).toBe(0);
    expect(t.out.join('')).toContain(`--socket ${join(dir, 'exabgp-edge.sock')} --retry-ms 1000;`);
  });

  it('writes the file atomically, not world-readable', () => {
    const t = io();
    const out = join(dir, 'exabgp.conf');
    expect(exabgpConfig({ config: yaml(edge), out }, t.io)).toBe(0);
    expect(readFileSync(out, 'utf8')).toContain('neighbor 192.0.2.1 {');
    expect(statSync(out).mode & 0o777).toBe(0o640);
    expect(t.err.join('')).toContain(`wrote ${out}`);
  });

  it('asks which adapter when there are several, and explains a bad slice', () => {
    const two = yaml(
      `${edge}  - name: core\n    type: exabgp\n    config: { neighbors: [{ address: 192.0.2.9 }] }\n`,
    );
    let t = io();
    expect(exabgpConfig({ config: two }, t.io)).toBe(1);
    expect(t.err.join('')).toContain('several exabgp adapters (edge, core): choose one with --adapter');
    t = io();
    expect(exabgpConfig({ config: two, adapter: 'core' }, t.io)).toBe(1);
    expect(t.err.join('')).toContain('neighbors[0].peerAs: needed to write exabgp.conf');
    t = io();
    expect(
      exabgpConfig(
        { config: yaml(`  - name: x\n    type: exabgp\n    config: { timeouts: { commandMs: 1 } }\n`) },
        t.io,
      ),
    ).toBe(1);
    expect(t.err.join('')).toContain('adapters[0].config.timeouts.commandMs');
    t = io();
    expect(exabgpConfig({}, t.io)).toBe(1);
    expect(t.err.join('')).toContain('no adapter of type exabgp is configured');
  });
});
