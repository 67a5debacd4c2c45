import { describe, expect, it } from 'vitest';
import {
  type ActionIncident,
  type ActionParams,
  type ActionType,
  MAX_PLAN_VALUES,
} from '../../../../adapters/node/actions/action-type.js';
import { LOCAL_ACTION_TYPES, localActionType } from '../../../../adapters/node/actions/catalogue.js';
import { formatStep } from '../../../../adapters/node/actions/format-step.js';
import { runSteps } from '../../../../adapters/node/actions/run-steps.js';
import { FloodgateError } from '../../../../core/errors.js';
import { fakeRunner, INCIDENT_V4, INCIDENT_V6 } from './fixtures.js';

/** What a rule must give for each action beyond what the incident fills. */
function minimalParams(type: ActionType): ActionParams {
  if (type.group === 'tc') return { interface: 'eth0', rate: 10_000 };
  if (type.group === 'fail2ban') return { jail: 'sshd' };
  return {};
}

function incidentsFor(type: ActionType): ActionIncident[] {
  if (type.id === 'null-route.blackhole-v4') return [INCIDENT_V4];
  if (type.id === 'null-route.blackhole-v6') return [INCIDENT_V6];
  return [INCIDENT_V4, INCIDENT_V6];
}

function catchError(fn: () => unknown): FloodgateError {
  try {
    fn();
  } catch (e) {
    if (e instanceof FloodgateError) return e;
    throw e;
  }
  throw new Error('expected a FloodgateError, nothing was thrown');
}

describe('the local action catalogue', () => {
  it('has the 19 action types with stable ids per tool group', () => {
    expect(LOCAL_ACTION_TYPES.map((t) => t.id)).toEqual([
      'iptables.drop-protocol',
      'iptables.drop-source',
      'iptables.drop-destination-port',
      'iptables.drop-udp-source-port',
      'iptables.rate-limit-source',
      'iptables.syn-limit',
      'ipset.add-source',
      'ipset.add-network',
      'nftables.drop-protocol',
      'nftables.drop-source',
      'nftables.drop-destination-port',
      'nftables.rate-limit',
      'ufw.deny-port',
      'ufw.deny-source',
      'tc.police-ingress',
      'tc.police-protocol',
      'null-route.blackhole-v4',
      'null-route.blackhole-v6',
      'fail2ban.ban-ip',
    ]);
    for (const type of LOCAL_ACTION_TYPES) {
      expect(type.id.startsWith(`${type.group}.`)).toBe(true);
      expect(localActionType(type.id)).toBe(type);
      expect(type.title.length).toBeGreaterThan(10);
      expect(type.riskNote.length).toBeGreaterThan(10);
    }
    expect(localActionType('iptables.nope')).toBeUndefined();
  });

  it('names every parameter in its templates, and only parameters', () => {
    for (const type of LOCAL_ACTION_TYPES) {
      const text = `${type.commandTemplate}\n${type.undoTemplate}`;
      const names = new Set(type.params.map((p) => p.name));
      for (const [, placeholder] of text.matchAll(/\{([A-Za-z0-9]+)\}/g)) {
        expect(names.has(placeholder!) || placeholder === 'tag', `${type.id}: {${placeholder}}`).toBe(true);
      }
      for (const name of names) expect(text, `${type.id} template lacks {${name}}`).toContain(`{${name}}`);
    }
  });

  it('renders plain-JSON plans for the example incidents, with an undo for every apply', () => {
    for (const type of LOCAL_ACTION_TYPES) {
      for (const incident of incidentsFor(type)) {
        const plan = type.plan(minimalParams(type), incident, 'r1-example');
        expect(plan.actionType).toBe(type.id);
        expect(plan.tag).toBe('r1-example');
        expect(plan.apply.length).toBeGreaterThan(0);
        expect(plan.undo.length).toBeGreaterThan(0);
        expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
        for (const step of [...plan.apply, ...plan.undo]) {
          expect(step.argv.every((w) => typeof w === 'string' && w.length > 0)).toBe(true);
          expect(formatStep(step)).not.toContain('\n');
        }
      }
    }
  });

  it('tells broad rules from narrow ones', () => {
    const broad = (id: string, params: ActionParams = {}): boolean => localActionType(id)!.isBroad(params);
    expect(broad('iptables.drop-protocol', { protocol: 'udp' })).toBe(true);
    expect(broad('nftables.drop-protocol')).toBe(true);
    expect(broad('tc.police-ingress', { interface: 'eth0', rate: 1000 })).toBe(true);
    expect(broad('tc.police-protocol', { interface: 'eth0', rate: 1000 })).toBe(true);
    expect(broad('nftables.rate-limit')).toBe(true);
    expect(broad('nftables.rate-limit', { protocol: 'udp' })).toBe(true);
    expect(broad('ufw.deny-port', { ports: 'any' })).toBe(true);
    expect(broad('ufw.deny-port', { ports: 53 })).toBe(false);
    expect(broad('ufw.deny-port')).toBe(false);
    for (const id of [
      'iptables.drop-source',
      'nftables.drop-source',
      'ufw.deny-source',
      'null-route.blackhole-v4',
    ]) {
      expect(broad(id), id).toBe(false);
      expect(broad(id, { sources: '198.51.100.0/24' }), id).toBe(false);
      expect(broad(id, { sources: '198.51.100.7,198.51.0.0/16' }), id).toBe(true);
    }
    expect(broad('null-route.blackhole-v6', { sources: '2001:db8::/32' })).toBe(true);
    expect(broad('null-route.blackhole-v6', { sources: '2001:db8:bad::/48' })).toBe(false);
    expect(broad('ipset.add-network')).toBe(false);
    expect(broad('ipset.add-network', { prefixLength: 16 })).toBe(true);
    expect(broad('ipset.add-network', { prefixLength6: 32 })).toBe(true);
    for (const id of [
      'iptables.drop-destination-port',
      'iptables.drop-udp-source-port',
      'iptables.rate-limit-source',
      'iptables.syn-limit',
      'ipset.add-source',
      'fail2ban.ban-ip',
    ]) {
      expect(broad(id), id).toBe(false);
    }
  });

  it('validates a rule without an incident', () => {
    expect(() =>
      localActionType('iptables.drop-source')!.validate({ sources: '198.51.100.7' }),
    ).not.toThrow();
    expect(() => localActionType('tc.police-ingress')!.validate({})).not.toThrow();
    expect(() => localActionType('ufw.deny-port')!.validate({ ports: 53, protocol: 'gre' })).toThrow(
      /ufw takes ports for tcp and udp only/,
    );
    expect(() =>
      localActionType('iptables.drop-protocol')!.validate({ protocol: 'udp', color: 'red' }),
    ).toThrow(/"color" .* is not a parameter of this action; it takes protocol, destination, chain/);
  });
});

describe('hostile and invalid values', () => {
  /** Plans, and only if planning succeeded, runs: a refused value must leave the runner untouched. */
  async function planAndRun(type: ActionType, params: ActionParams, incident: ActionIncident) {
    const runner = fakeRunner();
    const error = catchError(() => {
      const plan = type.plan(params, incident, 'hostile');
      void runSteps(plan.apply, runner);
    });
    await Promise.resolve();
    return { error, calls: runner.calls };
  }

  const HOSTILE: Record<string, unknown[]> = {
    address: ['1.2.3.4; rm -rf /', '$(id)', '`id`', '1.2.3.4 -j ACCEPT', '-s 0.0.0.0/0', '1.2.3.4\n5.6.7.8'],
    prefix: ['1.2.3.4; rm -rf /', '$(id)', '10.0.0.0/8 -j ACCEPT', '0.0.0.0/0', '::/0', '1.2.3.4/24'],
    port: [70000, -1, '53; reboot', '$(id)', 1.5],
    'port-or-any': [70000, 'all', '53 -j ACCEPT'],
    protocol: [256, 'udp; reboot', '$(id)', -6],
    rate: [0, 2_000_000, '10/second', '1e3'],
    burst: [0, '$(id)'],
    bandwidth: [1, '10mbit'],
    bytes: [10, '16k'],
    seconds: [0, 99_999_999],
    'prefix-length': [0, 129, '24; id'],
    'set-name': ['-exist', 'a b', '$(id)', 'x'.repeat(40)],
    jail: ['-x', 'sshd; reboot', '$(id)'],
    interface: ['-eth0', 'eth0; reboot', 'x'.repeat(16)],
    chain: ['-j', 'INPUT; reboot', 'x'.repeat(30)],
    path: ['relative', '/tmp/../etc/shadow', '/tmp/a b', '/tmp/$(id)'],
  };

  it('refuses every hostile rule value of every parameter of every action, and runs nothing', async () => {
    let cases = 0;
    for (const type of LOCAL_ACTION_TYPES) {
      for (const spec of type.params) {
        for (const value of HOSTILE[spec.kind] ?? []) {
          const params = { ...minimalParams(type), [spec.name]: value } as ActionParams;
          const incident = incidentsFor(type)[0]!;
          const { error, calls } = await planAndRun(type, params, incident);
          expect(error.code, `${type.id} ${spec.name}=${String(value)}`).toBe('FG_ERR_NODE_PARAM');
          expect(error.message).toContain(`action ${type.id}`);
          expect(error.message).toContain(`"${spec.name}"`);
          expect(error.message).toContain('nothing was run');
          expect(error.details).toMatchObject({ action: type.id, param: spec.name });
          expect(calls).toEqual([]);
          cases++;
        }
      }
    }
    expect(cases).toBeGreaterThan(250);
  });

  it('refuses hostile attack data from the incident the same way', async () => {
    const poisoned: [Partial<ActionIncident>, string][] = [
      [{ sources: ['198.51.100.7', '1.2.3.4; rm -rf /'] }, 'sources'],
      [{ target: '$(id)' }, 'destination'],
      [{ destinationPorts: [70000] }, 'ports'],
      [{ sourcePorts: [-1] }, 'ports'],
      [{ protocols: [300] }, 'protocol'],
    ];
    for (const [overrides, param] of poisoned) {
      for (const type of LOCAL_ACTION_TYPES) {
        const spec = type.params.find((p) => p.name === param);
        const field = Object.keys(overrides)[0] as keyof ActionIncident;
        if (spec?.fromIncident !== field) continue;
        const base = incidentsFor(type)[0]!;
        const { error, calls } = await planAndRun(type, minimalParams(type), { ...base, ...overrides });
        expect(error.code).toBe('FG_ERR_NODE_PARAM');
        expect(error.message).toContain(`"${param}" (from the incident)`);
        expect(error.details).toMatchObject({ action: type.id, param, origin: 'incident' });
        expect(calls).toEqual([]);
      }
    }
  });

  it('refuses a value of the wrong family, a list where one value goes, and too many values', () => {
    const dropSource = localActionType('iptables.drop-source')!;
    expect(() => dropSource.plan({ sources: '2001:db8::7' }, INCIDENT_V4, 't')).toThrow(
      /"sources" = "2001:db8::7" is IPv6 but this action works on IPv4 here/,
    );
    expect(() => localActionType('null-route.blackhole-v6')!.plan({}, INCIDENT_V4, 't')).toThrow(
      /"sources" \(from the incident\) = "198.51.100.7" is IPv4 but this action works on IPv6/,
    );
    expect(() =>
      localActionType('iptables.drop-protocol')!.plan({ protocol: ['udp', 'tcp'] }, INCIDENT_V4, 't'),
    ).toThrow(/takes exactly one value/);
    const many = Array.from({ length: MAX_PLAN_VALUES + 1 }, (_, i) => `198.51.100.${i + 1}`);
    expect(() => dropSource.plan({ sources: many }, INCIDENT_V4, 't')).toThrow(/more than 16 values/);
    expect(() => dropSource.plan({ sources: [] }, INCIDENT_V4, 't')).toThrow(/empty list/);
  });

  it('cuts attack data at the cap instead of refusing it', () => {
    const many = Array.from({ length: 40 }, (_, i) => `198.51.100.${i + 1}`);
    const plan = localActionType('iptables.drop-source')!.plan({}, { ...INCIDENT_V4, sources: many }, 't');
    expect(plan.apply).toHaveLength(MAX_PLAN_VALUES);
    expect(plan.params['sources']).toEqual(many.slice(0, MAX_PLAN_VALUES));
  });

  it('needs a value for a required parameter the incident cannot give', () => {
    expect(() => localActionType('tc.police-ingress')!.plan({ rate: 1000 }, INCIDENT_V4, 't')).toThrow(
      /"interface" = undefined is required; the rule must give it/,
    );
    expect(() =>
      localActionType('iptables.drop-udp-source-port')!.plan({}, { ...INCIDENT_V4, sourcePorts: [] }, 't'),
    ).toThrow(
      /"ports" = undefined is required; the rule leaves it to the incident, whose "sourcePorts" is empty/,
    );
  });

  it('refuses a tag that is not [a-z0-9-]{1,24}', () => {
    const type = localActionType('iptables.drop-source')!;
    for (const tag of ['', 'UPPER', 'a b', 'x'.repeat(25), 'a;b', '$(id)']) {
      expect(catchError(() => type.plan({}, INCIDENT_V4, tag)).message).toMatch(/"tag" = .* is not a tag/);
    }
  });

  it('refuses protocol 0 where a tool would read it as every protocol', () => {
    expect(() => localActionType('iptables.drop-protocol')!.plan({ protocol: 0 }, INCIDENT_V4, 't')).toThrow(
      /iptables reads as every protocol/,
    );
    expect(() => localActionType('nftables.drop-protocol')!.plan({ protocol: 0 }, INCIDENT_V4, 't')).toThrow(
      /no transport protocol/,
    );
  });
});
