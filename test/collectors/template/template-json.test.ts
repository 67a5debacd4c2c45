import { describe, expect, it } from 'vitest';
import { IpfixDecoder } from '../../../collectors/ipfix/ipfix.js';
import { NetflowV9Decoder } from '../../../collectors/netflow/v9.js';
import { createDecoderTable } from '../../../collectors/registry.js';
import { FlowTemplates } from '../../../collectors/template/flow-templates.js';
import { TEMPLATE_STATE_FORMAT } from '../../../collectors/template/template-json.js';
import { FlowBatch } from '../../../core/flow/flow-batch.js';
import { testDecodeContext } from '../../helpers/decode-context.js';
import { flowRows } from '../../helpers/flow-row.js';
import { encodeIpfix, encodeNetflowV9 } from '../../helpers/template-flows.js';
import { flowV4, flowV6, flowVariable, ipfixCorpus, samplingOptions, v9Corpus } from './template-corpus.js';

const T0 = 1_700_000_001_000;

/** Feeds the corpus' template datagrams (the first two of each) to decoders sharing `templates`. */
function learn(templates: FlowTemplates) {
  const v9 = new NetflowV9Decoder(templates.v9);
  const ipfix = new IpfixDecoder(templates.ipfix);
  const out = new FlowBatch(64);
  v9.decode(v9Corpus[0]!, testDecodeContext({ exporter: '192.0.2.9', arrivalMs: T0 }), out);
  v9.decode(v9Corpus[1]!, testDecodeContext({ exporter: '192.0.2.9', arrivalMs: T0 }), out);
  ipfix.decode(ipfixCorpus[0]!, testDecodeContext({ exporter: '2001:db8::9', arrivalMs: T0 }), out);
  ipfix.decode(ipfixCorpus[1]!, testDecodeContext({ exporter: '2001:db8::9', arrivalMs: T0 }), out);
}

/** Data only, no templates: decodes only where template state is present. */
function dataOnly(templates: FlowTemplates) {
  const out = new FlowBatch(64);
  const v9 = new NetflowV9Decoder(templates.v9);
  const ipfix = new IpfixDecoder(templates.ipfix);
  const v9ctx = testDecodeContext({ exporter: '192.0.2.9', arrivalMs: T0 + 60_000 });
  const ipfixCtx = testDecodeContext({ exporter: '2001:db8::9', arrivalMs: T0 + 60_000 });
  v9.decode(v9Corpus[2]!, v9ctx, out);
  ipfix.decode(ipfixCorpus[1]!, ipfixCtx, out);
  ipfix.decode(ipfixCorpus[2]!, ipfixCtx, out);
  return { rows: flowRows(out), v9ctx, ipfixCtx };
}

describe('template state export and import', () => {
  it('round-trips through JSON text: a restarted collector decodes data without waiting for templates', () => {
    const before = new FlowTemplates();
    learn(before);
    const live = dataOnly(before);
    expect(live.rows.length).toBe(3 + 5 + 4 + 3);

    const text = JSON.stringify(before.exportTemplates());
    const after = new FlowTemplates();
    const result = after.importTemplates(text);
    expect(result).toEqual({ templates: 3 + 4, skipped: 0, problems: [] });
    const restored = dataOnly(after);
    expect(restored.rows).toEqual(live.rows);
    // Sampling rates and systemInitTime came along: no default used, no unknown template.
    expect(restored.ipfixCtx.stats.notices.get('unknown-template')).toBeUndefined();
    expect(restored.ipfixCtx.stats.notices.get('sampling-default-used')).toBeUndefined();
    expect(after.exportTemplates()).toEqual(before.exportTemplates());
  });

  it('exports readable entries: addresses as text, fields as [id, length(, enterprise)]', () => {
    const templates = new FlowTemplates();
    learn(templates);
    const state = templates.exportTemplates();
    expect(state.format).toBe(TEMPLATE_STATE_FORMAT);
    const ipfix = state.domains.find((d) => d.protocol === 'ipfix')!;
    expect(ipfix).toMatchObject({
      exporter: '2001:db8::9',
      domain: 1,
      samplingRate: 100,
      systemInitMs: 1_699_990_000_000,
    });
    expect(ipfix.samplers).toEqual([
      [0, 1],
      [1, 10],
      [2, 100],
    ]);
    const variable = ipfix.templates.find((t) => t.id === flowVariable.id)!;
    expect(variable).toEqual({
      id: 3000,
      kind: 'data',
      scopeCount: 0,
      updatedMs: T0,
      fields: [
        [12, 4],
        [82, 65535],
        [7, 2, 9],
        [2, 2],
        [300, 65535, 29305],
      ],
    });
    const options = ipfix.templates.find((t) => t.id === samplingOptions.id)!;
    expect(options).toMatchObject({ kind: 'options', scopeCount: 1 });
    expect(state.domains.find((d) => d.protocol === 'netflow-v9')).toMatchObject({
      exporter: '192.0.2.9',
      domain: 1,
    });
  });

  it('refuses what is not template state, naming the problem', () => {
    const t = new FlowTemplates();
    expect(t.importTemplates('{not json').problems[0]).toMatch(/^not JSON/);
    expect(t.importTemplates({ format: 'other', version: 1, domains: [] }).problems[0]).toMatch(/^format/);
    expect(t.importTemplates({ format: TEMPLATE_STATE_FORMAT, version: 2, domains: [] }).problems[0]).toMatch(
      /^version/,
    );
    expect(t.v9.templateCount + t.ipfix.templateCount).toBe(0);
  });

  it('skips entries a template off the wire could not be, and keeps the rest', () => {
    const good = { id: 300, kind: 'data', scopeCount: 0, updatedMs: T0, fields: [[8, 4]] };
    const domain = (protocol: string, exporter: string, templates: unknown[]) => ({
      protocol,
      exporter,
      domain: 0,
      samplingRate: 0,
      samplers: [],
      systemInitMs: 0,
      templates,
    });
    const t = new FlowTemplates({ maxFieldsPerTemplate: 3 });
    const result = t.importTemplates({
      format: TEMPLATE_STATE_FORMAT,
      version: 1,
      domains: [
        domain('ipfix', '192.0.2.1', [
          good,
          { ...good, id: 100 },
          { ...good, id: 301, fields: [] },
          { ...good, id: 302, fields: [[8, 0]] },
          {
            ...good,
            id: 303,
            fields: [
              [8, 4],
              [12, 4],
              [1, 4],
              [2, 4],
            ],
          },
          { ...good, id: 304, kind: 'options', scopeCount: 0 },
          { ...good, id: 305, fields: [[0x8001, 4]] },
        ]),
        domain('netflow-v9', '192.0.2.1', [
          { ...good, id: 306, fields: [[8, 65535]] },
          { ...good, id: 307, fields: [[8, 4, 9]] },
          good,
        ]),
        domain('ipfix', 'not-an-address', [good]),
      ],
    });
    expect(result.templates).toBe(2);
    expect(result.skipped).toBe(9);
    expect(result.problems).toHaveLength(9);
    expect(result.problems[0]).toBe(
      'ipfix exporter 192.0.2.1 domain 0 template 100: template id 100 is reserved; ids start at 256',
    );
  });

  it('keeps a live template refreshed after the file was written', () => {
    const templates = new FlowTemplates();
    const ipfix = new IpfixDecoder(templates.ipfix);
    ipfix.decode(
      encodeIpfix({}, [{ templates: [flowV6] }]),
      testDecodeContext({ arrivalMs: T0 }),
      new FlowBatch(4),
    );
    const file = templates.exportTemplates();
    // Redefined on the wire later than the file.
    ipfix.decode(
      encodeIpfix({}, [{ templates: [{ id: flowV6.id, fields: flowV4.fields }] }]),
      testDecodeContext({ arrivalMs: T0 + 1000 }),
      new FlowBatch(4),
    );
    expect(templates.importTemplates(file).templates).toBe(0);
    const live = templates.ipfix.findExporter('192.0.2.1')!.domains.get(0)!.templates.get(flowV6.id)!;
    expect(live.definition.ids.length).toBe(flowV4.fields.length);
  });

  it('is what createDecoderTable uses when given, so the appliance can persist it', () => {
    const templates = new FlowTemplates();
    const table = createDecoderTable({ defaultSamplingRate: 1, exporters: { allow: [] } }, { templates });
    const out = new FlowBatch(16);
    table.decode(v9Corpus[0]!, '192.0.2.9', T0, out, () => {});
    table.decode(
      encodeNetflowV9({ sourceId: 4 }, [{ templates: [flowV4] }]),
      '::ffff:192.0.2.9',
      T0,
      out,
      () => {},
    );
    expect(templates.v9.templateCount).toBe(4);
    expect(templates.summary()).toEqual([
      {
        protocol: 'netflow-v9',
        exporter: '192.0.2.9',
        domain: 1,
        dataTemplates: 2,
        optionsTemplates: 1,
        samplingRate: 0,
        samplers: 0,
        heldSets: 0,
      },
      {
        protocol: 'netflow-v9',
        exporter: '192.0.2.9',
        domain: 4,
        dataTemplates: 1,
        optionsTemplates: 0,
        samplingRate: 0,
        samplers: 0,
        heldSets: 0,
      },
    ]);
  });
});
