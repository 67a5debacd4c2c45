/**
 * `floodgate rules actions|preview` on this build's catalogue: the reference page is the catalogue,
 * previews show the exact argv the adapter runs, hostile values are refused before anything runs.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { localActionType } from '../../adapters/node/actions/catalogue.js';
import { formatStep } from '../../adapters/node/actions/format-step.js';
import { builtinNodeCatalogue } from '../../adapters/node/builtin-catalogue.js';
import { EXAMPLE_INCIDENT_V4, EXAMPLE_TAG } from '../../adapters/node/rule-check.js';
import { catalogueMarkdown, rulesActions, rulesPreview } from '../../appliance/cli/rules.js';
import { repoRoot } from '../helpers/cli.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) }, out, err };
}

const dir = mkdtempSync(join(tmpdir(), 'fg-rules-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function ruleFile(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, body);
  return path;
}

describe('floodgate rules', () => {
  it('docs/node-actions.md is exactly what `rules actions --markdown` prints', () => {
    expect(readFileSync(join(repoRoot, 'docs/node-actions.md'), 'utf8')).toBe(
      catalogueMarkdown(builtinNodeCatalogue()),
    );
  });

  it('`rules actions --json` lists every action type with group, templates and risk', () => {
    const c = capture();
    expect(rulesActions(true, c.io)).toBe(0);
    const items = JSON.parse(c.out.join('')) as {
      id: string;
      group: string;
      risk: string;
      undoTemplate: string;
    }[];
    expect(items.length).toBe(builtinNodeCatalogue().entries().length);
    expect(new Set(items.map((i) => i.group))).toEqual(
      new Set(
        builtinNodeCatalogue()
          .entries()
          .map((e) => e.group),
      ),
    );
    for (const i of items) {
      expect(['low', 'medium', 'high']).toContain(i.risk);
      expect(i.undoTemplate.length).toBeGreaterThan(0);
    }
  });

  it('previews exactly the argv the action plan runs, command and undo', () => {
    const file = ruleFile(
      'drop-sources.yaml',
      'id: drop-sources\ntrigger: { type: any-incident }\naction: { type: iptables.drop-source, params: {} }\n',
    );
    const c = capture();
    expect(rulesPreview(file, { json: true }, c.io), c.err.join('')).toBe(0);
    const preview = JSON.parse(c.out.join('')) as { commands: { apply: string[]; undo: string[] } };
    const plan = localActionType('iptables.drop-source')!.plan({}, EXAMPLE_INCIDENT_V4, EXAMPLE_TAG);
    expect(preview.commands.apply.map((l) => l.split('    # ')[0])).toEqual(plan.apply.map(formatStep));
    expect(preview.commands.undo.map((l) => l.split('    # ')[0])).toEqual(plan.undo.map(formatStep));
    expect(preview.commands.apply[0]).toContain('-s 198.51.100.7');
  });

  it('refuses hostile values with the action, parameter and value named', () => {
    const hostile = ruleFile(
      'hostile.yaml',
      'id: hostile\ntrigger: { type: any-incident }\naction: { type: iptables.drop-source, params: { sources: "1.2.3.4; rm -rf /" } }\n',
    );
    const c = capture();
    expect(rulesPreview(hostile, {}, c.io)).toBe(1);
    expect(c.err.join('')).toMatch(
      /FG_ERR_NODE_PARAM: action iptables\.drop-source: parameter "sources" = "1\.2\.3\.4; rm -rf \/"/,
    );
    const port = ruleFile(
      'port.yaml',
      'id: port\ntrigger: { type: any-incident }\naction: { type: iptables.drop-destination-port, params: { ports: 70000 } }\n',
    );
    const d = capture();
    expect(rulesPreview(port, {}, d.io)).toBe(1);
    expect(d.err.join('')).toContain('parameter "ports" = 70000 is not a port (0-65535); nothing was run');
  });

  it('warns about broad rules in the preview', () => {
    const file = ruleFile(
      'all-udp.yaml',
      'id: all-udp\ntrigger: { type: any-incident }\naction: { type: nftables.drop-protocol, params: { protocol: udp } }\n',
    );
    const c = capture();
    expect(rulesPreview(file, {}, c.io)).toBe(0);
    expect(c.out.join('')).toContain('WARNING: broad rule.');
  });
});
