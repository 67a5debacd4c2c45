import { describe, expect, it } from 'vitest';
import { fail2banBan } from '../../../../adapters/node/actions/fail2ban.js';
import { INCIDENT_V4 } from './fixtures.js';

describe('fail2ban.ban-ip', () => {
  it('bans and unbans every source in one command each', () => {
    expect(fail2banBan.plan({ jail: 'sshd' }, INCIDENT_V4, 'r1')).toEqual({
      actionType: 'fail2ban.ban-ip',
      tag: 'r1',
      params: { jail: 'sshd', sources: ['198.51.100.7', '198.51.100.23'] },
      apply: [{ argv: ['fail2ban-client', 'set', 'sshd', 'banip', '198.51.100.7', '198.51.100.23'] }],
      undo: [{ argv: ['fail2ban-client', 'set', 'sshd', 'unbanip', '198.51.100.7', '198.51.100.23'] }],
    });
  });

  it('talks to another socket and mixes families', () => {
    const plan = fail2banBan.plan(
      { jail: 'web', socket: '/run/f2b/web.sock', sources: ['192.0.2.1', '2001:DB8::1'] },
      INCIDENT_V4,
      'r1',
    );
    expect(plan.apply[0]!.argv).toEqual([
      'fail2ban-client',
      '-s',
      '/run/f2b/web.sock',
      'set',
      'web',
      'banip',
      '192.0.2.1',
      '2001:db8::1',
    ]);
  });

  it('needs a jail and takes single addresses only', () => {
    expect(() => fail2banBan.plan({}, INCIDENT_V4, 'r1')).toThrow(/"jail" = undefined is required/);
    expect(() => fail2banBan.plan({ jail: 'sshd', sources: '192.0.2.0/24' }, INCIDENT_V4, 'r1')).toThrow(
      /no \/length here/,
    );
  });
});
