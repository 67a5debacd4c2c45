import { describe, expect, it } from 'vitest';
import { httpConfigSchema } from '../../../appliance/http/config.js';

describe('httpConfigSchema', () => {
  it('listens on loopback port 8080 by default', () => {
    expect(httpConfigSchema.parse({})).toEqual({ listen: '127.0.0.1:8080' });
  });

  it.each(['0.0.0.0:80', '[::1]:8443', ':9000', 'localhost:8080'])('accepts %s', (listen) => {
    expect(httpConfigSchema.parse({ listen })).toEqual({ listen });
  });

  it.each(['127.0.0.1:0', '127.0.0.1:65536', '127.0.0.1', 'example.org:80', '::1:80'])(
    'refuses %s',
    (listen) => {
      const result = httpConfigSchema.safeParse({ listen });
      expect(result.success).toBe(false);
      expect(result.error!.issues[0]).toMatchObject({
        path: ['listen'],
        message: expect.stringMatching(/HOST:PORT/),
      });
    },
  );

  it('refuses unknown keys', () => {
    expect(httpConfigSchema.safeParse({ listen: '127.0.0.1:8080', port: 8080 }).success).toBe(false);
  });
});
