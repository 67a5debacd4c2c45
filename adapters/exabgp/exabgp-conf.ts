/**
 * exabgp.conf for one ExaBGP adapter instance: a `process` block that runs Floodgate's helper, and
 * one `neighbor` block per configured peer with the families the adapter's capabilities need.
 * Pure: the caller passes the helper's command line. The syntax is ExaBGP 4.2's, checked by
 * ExaBGP itself in the interop lab.
 */
import { FloodgateError } from '../../core/errors.js';
import type { ExabgpConfig } from './config.js';

export interface ExabgpConfInput {
  adapterName: string;
  config: ExabgpConfig;
  /** How ExaBGP starts the helper (see helperArgv). */
  helperArgv: readonly string[];
}

/** ExaBGP's process name for an adapter instance. */
export function exabgpProcessName(adapterName: string): string {
  return `floodgate-${adapterName.replace(/[^A-Za-z0-9_-]/g, '-')}`;
}

/** A token of ExaBGP's config language: bare when safe, else double-quoted (no quote inside). */
function token(what: string, value: string): string {
  if (/^[A-Za-z0-9_./:=+@%-]+$/.test(value)) return value;
  if (/["\r\n\\]/.test(value)) {
    throw new FloodgateError(
      'FG_ERR_CONFIG_INVALID',
      `${what} ${JSON.stringify(value)} cannot be written into exabgp.conf (quote, backslash or newline)`,
      {
        what,
      },
    );
  }
  return `"${value}"`;
}

/** The `family { }` entries the declared capabilities need. */
export function familiesFor(capabilities: readonly string[]): string[] {
  const has = (c: string) => capabilities.includes(c);
  const families: string[] = [];
  if (has('rtbh4') || has('scrubbing')) families.push('ipv4 unicast');
  if (has('rtbh6') || has('scrubbing')) families.push('ipv6 unicast');
  if (has('flowspec4')) families.push('ipv4 flow');
  if (has('flowspec6')) families.push('ipv6 flow');
  return families;
}

export function renderExabgpConf(input: ExabgpConfInput): string {
  const { adapterName, config } = input;
  const at = `adapters[name=${adapterName}].config`;
  const problems: string[] = [];
  if (config.neighbors.length === 0) {
    problems.push(`${at}.neighbors: list the peers ExaBGP should have (address, peerAs, localAddress)`);
  }
  config.neighbors.forEach((n, i) => {
    const where = `${at}.neighbors[${i}]`;
    if (n.peerAs === undefined) problems.push(`${where}.peerAs: needed to write exabgp.conf`);
    if (n.localAddress === undefined) problems.push(`${where}.localAddress: needed to write exabgp.conf`);
    if ((n.localAs ?? config.localAs) === undefined)
      problems.push(`${where}.localAs (or ${at}.localAs): needed to write exabgp.conf`);
    if ((n.routerId ?? config.routerId) === undefined)
      problems.push(`${where}.routerId (or ${at}.routerId): needed to write exabgp.conf`);
  });
  if (problems.length > 0) {
    throw new FloodgateError(
      'FG_ERR_CONFIG_INVALID',
      `cannot write exabgp.conf for adapter "${adapterName}": ${problems.join('; ')}`,
      {
        adapter: adapterName,
        issues: problems,
      },
    );
  }

  const processName = exabgpProcessName(adapterName);
  const run = input.helperArgv.map((a) => token('helper command argument', a)).join(' ');
  const families = familiesFor(config.capabilities);
  const lines: string[] = [
    `# exabgp.conf for Floodgate adapter "${adapterName}", written by "floodgate exabgp-config".`,
    '# ExaBGP runs the helper below; it connects to the adapter on the unix socket and relays',
    "# commands. Keep ExaBGP's exabgp.api.ack=true (its default): every command is answered.",
    '',
    `process ${processName} {`,
    `    run ${run};`,
    '    encoder text;',
    '}',
  ];
  for (const n of config.neighbors) {
    lines.push('', `neighbor ${n.address} {`);
    if (n.description !== undefined) lines.push(`    description ${token('description', n.description)};`);
    lines.push(
      `    router-id ${n.routerId ?? config.routerId};`,
      `    local-address ${n.localAddress};`,
      `    local-as ${n.localAs ?? config.localAs};`,
      `    peer-as ${n.peerAs};`,
    );
    if (n.port !== undefined) lines.push(`    connect ${n.port};`);
    if (n.multihop !== undefined) lines.push(`    outgoing-ttl ${n.multihop};`);
    if (n.md5Password !== undefined) lines.push(`    md5-password ${token('md5Password', n.md5Password)};`);
    lines.push('    family {', ...families.map((f) => `        ${f};`), '    }');
    lines.push(
      '    api {',
      `        processes [ ${processName} ];`,
      '        neighbor-changes;',
      '    }',
      '}',
    );
  }
  return `${lines.join('\n')}\n`;
}
