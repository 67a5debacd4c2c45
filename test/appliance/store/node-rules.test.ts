/** The store keeps node firewall rules by id, enabled switch included, and forgets deleted ones. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../../appliance/store/sqlite-store.js';
import type { NodeRule } from '../../../core/node-rules/rule.js';

function rule(id: string, enabled = true): NodeRule {
  return {
    id,
    description: 'drop NTP reflectors',
    trigger: { type: 'family-in', families: ['ntp_amplification'] },
    action: { type: 'iptables.drop-udp-source-port', params: { port: 123 } },
    nodes: 'all',
    cooldownMinutes: 5,
    enabled,
    riskAcknowledged: false,
    createdAtMs: 1000,
    updatedAtMs: 2000,
    updatedBy: 'operator:alice',
  };
}

describe('store: node rules', () => {
  it('saves, replaces, lists in id order and deletes', () => {
    const store = openSqliteStore(':memory:');
    store.saveNodeRule(rule('b'));
    store.saveNodeRule(rule('a'));
    expect(store.listNodeRules().map((r) => r.id)).toEqual(['a', 'b']);
    store.saveNodeRule({ ...rule('a', false), updatedAtMs: 3000 });
    expect(store.getNodeRule('a')).toEqual({ ...rule('a', false), updatedAtMs: 3000 });
    expect(store.deleteNodeRule('a')).toBe(true);
    expect(store.deleteNodeRule('a')).toBe(false);
    expect(store.getNodeRule('a')).toBeUndefined();
    expect(store.listNodeRules()).toEqual([rule('b')]);
    store.close();
  });

  it('keeps rules across a reopen of the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fg-rules-'));
    try {
      const path = join(dir, 'floodgate.db');
      const first = openSqliteStore(path);
      first.saveNodeRule(rule('keep'));
      first.close();
      const second = openSqliteStore(path);
      expect(second.listNodeRules()).toEqual([rule('keep')]);
      second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
