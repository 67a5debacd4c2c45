/**
 * Valid NetFlow v9 and IPFIX datagrams covering every construct the decoders read (templates,
 * options, variable-length and enterprise fields, withdrawals, padding), for fuzz tests to
 * damage and for the state tests to replay.
 */
import { IE } from '../../../collectors/template/information-elements.js';
import {
  encodeIpfix,
  encodeNetflowV9,
  type RecordValues,
  type TemplateSpec,
  VARIABLE,
} from '../../helpers/template-flows.js';

export const flowV4: TemplateSpec = {
  id: 1024,
  fields: [
    { id: IE.sourceIPv4Address, length: 4 },
    { id: IE.destinationIPv4Address, length: 4 },
    { id: IE.flowStartSysUpTime, length: 4 },
    { id: IE.flowEndSysUpTime, length: 4 },
    { id: IE.octetDeltaCount, length: 4 },
    { id: IE.packetDeltaCount, length: 4 },
    { id: IE.sourceTransportPort, length: 2 },
    { id: IE.destinationTransportPort, length: 2 },
    { id: IE.protocolIdentifier, length: 1 },
    { id: IE.samplerId, length: 1 },
  ],
};

export const flowV6: TemplateSpec = {
  id: 2048,
  fields: [
    { id: IE.sourceIPv6Address, length: 16 },
    { id: IE.destinationIPv6Address, length: 16 },
    { id: IE.flowStartMilliseconds, length: 8 },
    { id: IE.flowEndMilliseconds, length: 8 },
    { id: IE.octetDeltaCount, length: 8 },
    { id: IE.packetDeltaCount, length: 8 },
    { id: IE.icmpTypeCodeIPv6, length: 2 },
    { id: IE.protocolIdentifier, length: 1 },
  ],
};

/** IPFIX only: variable-length and enterprise fields. */
export const flowVariable: TemplateSpec = {
  id: 3000,
  fields: [
    { id: IE.destinationIPv4Address, length: 4 },
    { id: 82, length: VARIABLE },
    { id: 7, length: 2, enterprise: 9, name: 'pen' },
    { id: IE.packetDeltaCount, length: 2 },
    { id: 300, length: VARIABLE, enterprise: 29305, name: 'rev' },
  ],
};

export const samplingOptions: TemplateSpec = {
  id: 256,
  scopeCount: 1,
  fields: [
    { id: IE.samplerId, length: 1 },
    { id: IE.samplingInterval, length: 4 },
    { id: IE.systemInitTimeMilliseconds, length: 8 },
  ],
};

const v4Record = (i: number): RecordValues => ({
  [IE.sourceIPv4Address]: `198.18.0.${i % 256}`,
  [IE.destinationIPv4Address]: '203.0.113.10',
  [IE.flowStartSysUpTime]: 3_590_000,
  [IE.flowEndSysUpTime]: 3_599_000,
  [IE.octetDeltaCount]: 500 * (i + 1),
  [IE.packetDeltaCount]: i + 1,
  [IE.sourceTransportPort]: 123,
  [IE.destinationTransportPort]: 40_000 + i,
  [IE.protocolIdentifier]: 17,
  [IE.samplerId]: i % 3,
});

const v6Record = (i: number): RecordValues => ({
  [IE.sourceIPv6Address]: `2001:db8::${i + 1}`,
  [IE.destinationIPv6Address]: '2001:db8:1::10',
  [IE.flowStartMilliseconds]: 1_699_999_990_000,
  [IE.flowEndMilliseconds]: 1_699_999_999_000,
  [IE.octetDeltaCount]: 64,
  [IE.packetDeltaCount]: 1,
  [IE.icmpTypeCodeIPv6]: 128 * 256,
  [IE.protocolIdentifier]: 58,
});

const variableRecord = (i: number): RecordValues => ({
  [IE.destinationIPv4Address]: '192.0.2.7',
  '82': 'x'.repeat(i * 40),
  pen: 1,
  [IE.packetDeltaCount]: i,
  rev: new Uint8Array(i % 2 === 0 ? 3 : 260),
});

const samplerRecords: RecordValues[] = [0, 1, 2].map((s) => ({
  [IE.samplerId]: s,
  [IE.samplingInterval]: 10 ** s,
  [IE.systemInitTimeMilliseconds]: 1_699_990_000_000,
}));

const records = <T>(n: number, f: (i: number) => T) => Array.from({ length: n }, (_, i) => f(i));

export const v9Corpus: Uint8Array[] = [
  encodeNetflowV9({ sourceId: 1 }, [
    { templates: [flowV4, flowV6] },
    {
      templates: [{ ...samplingOptions, fields: [{ id: 1, length: 4 }, ...samplingOptions.fields] }],
      options: true,
    },
  ]),
  encodeNetflowV9({ sourceId: 1 }, [
    {
      template: { ...samplingOptions, fields: [{ id: 1, length: 4 }, ...samplingOptions.fields] },
      records: samplerRecords,
      padding: 2,
    },
    { template: flowV4, records: records(5, v4Record), padding: 3 },
  ]),
  encodeNetflowV9({ sourceId: 1 }, [{ template: flowV6, records: records(3, v6Record) }]),
  encodeNetflowV9({ sourceId: 2 }, [
    { templates: [flowV4] },
    { template: flowV4, records: records(2, v4Record) },
    { template: flowV6, records: records(1, v6Record) },
  ]),
];

export const ipfixCorpus: Uint8Array[] = [
  encodeIpfix({ domain: 1 }, [
    { templates: [flowV4, flowV6, flowVariable], padding: 2 },
    { templates: [samplingOptions], options: true },
  ]),
  encodeIpfix({ domain: 1 }, [
    { template: samplingOptions, records: samplerRecords },
    { template: flowV4, records: records(5, v4Record), padding: 1 },
    { template: flowVariable, records: records(4, variableRecord) },
  ]),
  encodeIpfix({ domain: 1 }, [{ template: flowV6, records: records(3, v6Record) }]),
  encodeIpfix({ domain: 1 }, [{ withdraw: [flowV4.id, 2] }, { withdraw: [3], options: true }]),
  encodeIpfix({ domain: 7 }, [
    { template: flowVariable, records: records(2, variableRecord) },
    { templates: [flowVariable] },
  ]),
];
