/**
 * A second, independent sFlow v5 decoder for lab tests: tshark decodes the datagrams a sink
 * received, including the sampled packet headers (Ethernet, IPv4/IPv6, TCP/UDP/ICMP), and
 * this module reads each flow sample into the fields the normalised record has, plus
 * frame_length and stripped for the documented byte adjustment. Samples stay grouped by
 * datagram, in order, so a test can compare them with the rows each datagram gave.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Json, type TsharkNode, tsharkLayers, writeDatagramPcap } from './tshark-flows.js';

export interface TsharkSflowSample {
  /** The datagram's sub-agent id (Floodgate's sourceId for sFlow). */
  sourceId: number;
  samplingRate: number;
  /** ifIndex, or 0 when the interface word names none (format ≠ 0, or 0x3fffffff: internal). */
  inputIf: number;
  outputIf: number;
  src: string;
  dst: string;
  /** IPv4 protocol, or the IPv6 next header (the captures here have no extension headers). */
  protocol: number;
  /** IPv4 total length, or 40 + IPv6 payload length. */
  ipLength: number;
  srcPort: number;
  dstPort: number;
  tcpFlags: number;
  icmpType: number;
  icmpCode: number;
  /** sFlow's frame_length: the frame on the wire, FCS included. */
  frameLength: number;
  stripped: number;
}

const INTERFACE_INTERNAL = 0x3fffffff;

function isNode(v: Json | undefined): v is TsharkNode {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A layer or field; repeated ones (an ICMP error's inner IP header) give the outermost. */
function first(node: TsharkNode, key: string): Json | undefined {
  const v = node[key];
  return Array.isArray(v) ? v[0] : v;
}

function layer(node: TsharkNode, key: string): TsharkNode | undefined {
  const v = first(node, key);
  return isNode(v) ? v : undefined;
}

function num(node: TsharkNode | undefined, key: string): number | undefined {
  if (!node) return undefined;
  const v = first(node, key);
  return typeof v === 'string' ? Number(v) : undefined; // Number() reads "0x0002" as hex too
}

function str(node: TsharkNode | undefined, key: string): string {
  const v = node ? first(node, key) : undefined;
  return typeof v === 'string' ? v : '';
}

/** The ifIndex an interface word names: the compact format bits and the internal value say none. */
function ifIndex(sample: TsharkNode, which: 'input' | 'output'): number {
  const tree = layer(sample, `sflow.flow_sample.${which}_interface_tree`);
  const format = num(tree, `sflow.flow_sample.${which}_interface_format`) ?? 0;
  const value = num(tree, `sflow.flow_sample.${which}_interface_value`);
  const word = value ?? num(sample, `sflow.flow_sample.${which}_interface`) ?? 0;
  return format !== 0 || word === INTERFACE_INTERNAL ? 0 : word;
}

function sample(sourceId: number, s: TsharkNode): TsharkSflowSample {
  const raw = layer(s, 'Raw packet header');
  if (!raw) throw new Error(`tshark: a flow sample without a raw packet header: ${JSON.stringify(s)}`);
  const headers = layer(raw, 'sflow_245.header_tree') ?? {};
  const ip4 = layer(headers, 'ip');
  const ip6 = layer(headers, 'ipv6');
  const udp = layer(headers, 'udp');
  const tcp = layer(headers, 'tcp');
  const icmp = layer(headers, 'icmp') ?? layer(headers, 'icmpv6');
  const ports = udp ?? tcp;
  const prefix = udp ? 'udp' : 'tcp';
  const icmpPrefix = layer(headers, 'icmp') ? 'icmp' : 'icmpv6';
  return {
    sourceId,
    samplingRate: num(s, 'sflow.flow_sample.sampling_rate') ?? 0,
    inputIf: ifIndex(s, 'input'),
    outputIf: ifIndex(s, 'output'),
    src: ip4 ? str(ip4, 'ip.src') : str(ip6, 'ipv6.src'),
    dst: ip4 ? str(ip4, 'ip.dst') : str(ip6, 'ipv6.dst'),
    protocol: (ip4 ? num(ip4, 'ip.proto') : num(ip6, 'ipv6.nxt')) ?? 0,
    ipLength: ip4 ? (num(ip4, 'ip.len') ?? 0) : 40 + (num(ip6, 'ipv6.plen') ?? 0),
    srcPort: num(ports, `${prefix}.srcport`) ?? 0,
    dstPort: num(ports, `${prefix}.dstport`) ?? 0,
    tcpFlags: (num(tcp, 'tcp.flags') ?? 0) & 0xff,
    icmpType: num(icmp, `${icmpPrefix}.type`) ?? 0,
    icmpCode: num(icmp, `${icmpPrefix}.code`) ?? 0,
    frameLength: num(raw, 'sflow_245.header.frame_length') ?? 0,
    stripped: num(raw, 'sflow_245.header.payload_stripped') ?? 0,
  };
}

/** Decodes `datagrams` (sent to UDP `port`) with tshark; the flow samples of each, in order. */
export async function tsharkSflowSamples(
  datagrams: readonly { data: Uint8Array; arrivalMs: number; fromPort: number }[],
  port: number,
): Promise<TsharkSflowSample[][]> {
  const dir = mkdtempSync(join(tmpdir(), 'fg-tshark-sflow-'));
  try {
    const layers = await tsharkLayers(writeDatagramPcap(datagrams, port, dir), port, 'sflow', 'sflow');
    return layers.map((sflow) => {
      if (!sflow) return [];
      const sourceId = num(sflow, 'sflow_245.sub_agent_id') ?? 0;
      const samples: TsharkSflowSample[] = [];
      for (const [key, value] of Object.entries(sflow)) {
        const isFlowSample = key.startsWith('Flow sample') || key.startsWith('Expanded flow sample');
        if (isFlowSample && isNode(value)) samples.push(sample(sourceId, value));
      }
      return samples;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
