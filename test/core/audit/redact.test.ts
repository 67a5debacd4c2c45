/** Credentials never reach the audit log or a printed configuration. */
import { describe, expect, it } from 'vitest';
import { REDACTED, redactSecretFields, redactSecrets } from '../../../core/audit/redact.js';

describe('redactSecrets', () => {
  it('replaces Authorization values, named keys and URL passwords', () => {
    expect(redactSecrets('POST https://x/api Authorization: Bearer abc.def')).toBe(
      `POST https://x/api Authorization: Bearer ${REDACTED}`,
    );
    expect(redactSecrets('{"token":"s3cret","zone":"z"}')).toBe(`{"token":"${REDACTED}","zone":"z"}`);
    expect(redactSecrets('curl -H X-Auth-Key: k1 --password p2 https://u:pw@host/')).toBe(
      `curl -H X-Auth-Key: ${REDACTED} --password ${REDACTED} https://u:${REDACTED}@host/`,
    );
  });

  it('leaves an already masked "***" as it is, so previews and audit entries read the same', () => {
    const line = 'DELETE https://api.cloudflare.com/client/v4/zones/z/rules/1 Authorization: Bearer ***';
    expect(redactSecrets(line)).toBe(line);
    expect(redactSecrets('Authorization: Bearer ***x')).toBe(`Authorization: Bearer ${REDACTED}`);
  });
});

describe('redactSecretFields', () => {
  it('masks credential fields at any depth and keeps paths to credential files', () => {
    const config = {
      adapters: [
        {
          name: 'hosts',
          config: {
            cloud: { cloudflare: { token: 'cf-1', zoneId: 'z' }, vultr: { tokenFile: '/etc/fg/vultr' } },
          },
        },
      ],
      http: { listen: '127.0.0.1:8080' },
      list: ['token'],
    };
    expect(redactSecretFields(config)).toEqual({
      adapters: [
        {
          name: 'hosts',
          config: {
            cloud: { cloudflare: { token: REDACTED, zoneId: 'z' }, vultr: { tokenFile: '/etc/fg/vultr' } },
          },
        },
      ],
      http: { listen: '127.0.0.1:8080' },
      list: ['token'],
    });
  });
});
