/**
 * The conformance suite every mitigation adapter passes, ours and third parties': call
 * `runAdapterConformance(name, makeAdapter)` from the adapter's own test file with a factory
 * that builds a fresh, unstarted adapter talking to a fake (or nothing, for dry-run).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type AdapterReceipt,
  CAPABILITIES,
  capabilityFor,
  type MitigationAdapter,
} from '../../adapters/contract.js';
import { isFloodgateError } from '../../core/errors.js';
import type { MitigationIntent } from '../../core/mitigation/intent.js';
import { type IntentContent, intentId } from '../../core/mitigation/intent-id.js';

function withId(content: IntentContent): MitigationIntent {
  return { ...content, id: intentId(content), incidentId: 'inc-conformance' } as MitigationIntent;
}

/** One intent per capability a BGP adapter can have, on documentation addresses. */
export function sampleIntents(): MitigationIntent[] {
  return [
    withId({
      kind: 'flowspec',
      ipVersion: 4,
      match: { destination: '203.0.113.5/32', protocols: [17], sourcePorts: [123] },
      action: { type: 'discard' },
    }),
    withId({
      kind: 'flowspec',
      ipVersion: 6,
      match: { destination: '2001:db8::5/128', protocols: [6], tcpFlagsSet: 0x02, tcpFlagsClear: 0x10 },
      action: { type: 'discard' },
    }),
    withId({
      kind: 'rtbh',
      ipVersion: 4,
      prefix: '203.0.113.66/32',
      nextHop: '192.0.2.1',
      communities: ['65535:666'],
    }),
    withId({
      kind: 'rtbh',
      ipVersion: 6,
      prefix: '2001:db8::66/128',
      nextHop: '100::1',
      communities: ['65535:666'],
    }),
  ];
}

async function rejectionCode(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (e) {
    return isFloodgateError(e) ? e.code : `not a FloodgateError: ${String(e)}`;
  }
  return undefined;
}

function throwCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isFloodgateError(e) ? e.code : `not a FloodgateError: ${String(e)}`;
  }
  return undefined;
}

function ids(receipts: readonly AdapterReceipt[]): string[] {
  return receipts.map((r) => r.intentId).sort();
}

export function runAdapterConformance(
  name: string,
  makeAdapter: () => MitigationAdapter | Promise<MitigationAdapter>,
): void {
  describe(`adapter conformance: ${name}`, () => {
    let adapter: MitigationAdapter;
    /** The samples this adapter declares it can deliver. */
    let deliverable: MitigationIntent[];

    beforeEach(async () => {
      adapter = await makeAdapter();
      deliverable = sampleIntents().filter((i) => adapter.capabilities.has(capabilityFor(i)));
      await adapter.start();
    });

    afterEach(async () => {
      await adapter.stop();
    });

    it('has a name and declares known capabilities, at least one of them deliverable', () => {
      expect(adapter.name).toMatch(/^[a-z0-9][a-z0-9-]*$/);
      for (const capability of adapter.capabilities) expect(CAPABILITIES).toContain(capability);
      expect(deliverable.length).toBeGreaterThan(0);
    });

    it('reports health once started', async () => {
      const health = await adapter.health();
      expect(health.ok).toBe(true);
      expect(typeof health.detail).toBe('string');
      expect(Number.isFinite(health.checkedAtMs)).toBe(true);
    });

    it('returns receipts that are JSON data whose command is what render() shows', async () => {
      for (const intent of deliverable) {
        const rendered = adapter.render(intent);
        const receipt = await adapter.apply(intent);
        expect(receipt.command).toBe(rendered);
        expect(receipt).toMatchObject({ adapter: adapter.name, intentId: intent.id, kind: intent.kind });
        expect(JSON.parse(JSON.stringify(receipt))).toEqual(receipt);
      }
    });

    it('applies idempotently: the same intent twice is in place once', async () => {
      const intent = deliverable[0]!;
      const first = await adapter.apply(intent);
      const second = await adapter.apply(intent);
      expect(second.intentId).toBe(first.intentId);
      expect(second.command).toBe(first.command);
      expect(ids(await adapter.list())).toEqual([intent.id]);
    });

    it('lists what apply put in place and withdraw took away', async () => {
      const receipts: AdapterReceipt[] = [];
      for (const intent of deliverable) receipts.push(await adapter.apply(intent));
      expect(ids(await adapter.list())).toEqual(deliverable.map((i) => i.id).sort());
      const [removed, ...kept] = receipts;
      const result = await adapter.withdraw(removed!);
      expect(result.wasPresent).toBe(true);
      expect(result.command.length).toBeGreaterThan(0);
      expect(ids(await adapter.list())).toEqual(kept.map((r) => r.intentId).sort());
    });

    it('withdraws an unknown mitigation without error and says it was not there', async () => {
      const receipt = await adapter.apply(deliverable[0]!);
      expect((await adapter.withdraw(receipt)).wasPresent).toBe(true);
      const again = await adapter.withdraw(receipt);
      expect(again.wasPresent).toBe(false);
      expect(await adapter.list()).toEqual([]);

      // A receipt from another instance (e.g. a previous process) is just as unknown here.
      const other = await makeAdapter();
      await other.start();
      const foreign = await other.apply(deliverable[0]!);
      await other.stop();
      expect((await adapter.withdraw(foreign)).wasPresent).toBe(false);
    });

    it('withdraws from a receipt read back from storage', async () => {
      const receipt = await adapter.apply(deliverable[0]!);
      const stored = JSON.parse(JSON.stringify(receipt)) as AdapterReceipt;
      expect((await adapter.withdraw(stored)).wasPresent).toBe(true);
      expect(await adapter.list()).toEqual([]);
    });

    it('accepts a replay after a restart without duplicating', async () => {
      for (const intent of deliverable) await adapter.apply(intent);
      await adapter.stop();
      await adapter.start();
      for (const intent of deliverable) await adapter.apply(intent);
      expect(ids(await adapter.list())).toEqual(deliverable.map((i) => i.id).sort());
    });

    it('refuses intents needing a capability it did not declare with FG_ERR_ADAPTER_CAPABILITY', async () => {
      for (const intent of sampleIntents()) {
        const declared = adapter.capabilities.has(capabilityFor(intent));
        if (declared) {
          expect(throwCode(() => adapter.render(intent))).toBeUndefined();
        } else {
          expect(throwCode(() => adapter.render(intent))).toBe('FG_ERR_ADAPTER_CAPABILITY');
          expect(await rejectionCode(adapter.apply(intent))).toBe('FG_ERR_ADAPTER_CAPABILITY');
        }
      }
      expect(ids(await adapter.list())).toEqual([]);
    });
  });
}
