import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { createNetns, type Netns, requireRoot } from './netns.js';

describe('network namespace lab helper', () => {
  const made: Netns[] = [];
  afterAll(async () => {
    for (const ns of made) await ns.cleanup();
  });

  it('creates a namespace with lo up and extra loopback addresses, runs programs inside and cleans up', async () => {
    requireRoot();
    const ns = await createNetns('selftest');
    made.push(ns);
    expect(existsSync(`/run/netns/${ns.name}`)).toBe(true);
    await ns.addAddress('127.0.0.2/8');
    await ns.addAddress('10.99.0.4/32');
    await ns.addAddress('fd00:99::2/128');
    const addrs = await ns.run(['ip', '-o', 'addr', 'show', 'dev', 'lo']);
    expect(addrs.code).toBe(0);
    expect(addrs.stdout).toContain('127.0.0.2/8');
    expect(addrs.stdout).toContain('10.99.0.4/32');
    expect(addrs.stdout).toContain('fd00:99::2/128');
    expect(addrs.stdout).toMatch(/lo\s+inet 127\.0\.0\.1\/8/);

    const sleeper = ns.start(['sleep', '600'], { name: 'sleeper' });
    expect(sleeper.running()).toBe(true);
    const pids = await ns.run(['ip', 'netns', 'identify', String(sleeper.pid)]);
    expect(pids.stdout.trim()).toBe(ns.name);

    await ns.cleanup();
    expect(sleeper.running()).toBe(false);
    expect(existsSync(`/run/netns/${ns.name}`)).toBe(false);
    await ns.cleanup();
  });

  it('stop() ends one program by PID and reports how it ended', async () => {
    requireRoot();
    const ns = await createNetns('selftest');
    made.push(ns);
    const p = ns.start(['sleep', '600']);
    const status = await p.stop();
    expect(status.signal).toBe('SIGTERM');
    expect(p.running()).toBe(false);
    const echo = await ns.run(['echo', 'hello']);
    expect(echo.stdout).toBe('hello\n');
  });
});
