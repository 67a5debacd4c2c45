/**
 * The simulation timeline as operators read it: one line per event with the simulated clock and
 * the time since the first datagram, the exact rendering of every intent indented under the tier
 * that fired or withdrew it.
 */
import type { AuditEntry } from '../../core/audit/chain.js';
import type { TimelineItem } from '../simulation.js';

type Detail = Record<string, unknown>;

function detailOf(entry: AuditEntry): Detail {
  return typeof entry.detail === 'object' && entry.detail !== null ? (entry.detail as Detail) : {};
}

function clock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

function offset(ms: number, firstMs: number): string {
  const s = (ms - firstMs) / 1000;
  return `+${s.toFixed(0)}s`.padStart(7);
}

function rate(value: unknown, unit: string): string {
  if (typeof value !== 'number') return '?';
  const steps = ['', 'k', 'M', 'G', 'T'];
  let v = value;
  let i = 0;
  while (v >= 1000 && i < steps.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toFixed(v >= 100 || i === 0 ? 0 : 1)}${steps[i]}${unit}`;
}

/** The words for one audit entry; undefined for entries a timeline leaves out. */
function describe(entry: AuditEntry): { text: string; indent: boolean } | undefined {
  const d = detailOf(entry);
  const via = entry.adapter === undefined ? '' : ` via ${entry.adapter}`;
  const command = entry.command ?? '';
  switch (entry.action) {
    case 'incident-open': {
      const current = (d['current'] ?? {}) as { pps?: number; bps?: number };
      return {
        text: `DETECTED ${String(d['family'])} on ${String(d['target'])}: ${rate(current.pps, ' pps')}, ${rate(current.bps, 'bit/s')}, severity ${String(d['severity'])} (${entry.incidentId})`,
        indent: false,
      };
    }
    case 'incident-close':
      return {
        text: `incident closed (${entry.incidentId})${typeof d['reason'] === 'string' ? `: ${d['reason']}` : ''}`,
        indent: false,
      };
    case 'escalate': {
      const cause = d['cause'];
      const head = cause === 'escalated' ? 'ESCALATED to' : cause === 'resumed' ? 'fired again:' : 'FIRED';
      return { text: `${head} ${entry.rule} [${String(d['mode'])}]: ${String(d['reason'])}`, indent: false };
    }
    case 'de-escalate':
      return { text: `WITHDRAWING ${entry.rule}: ${String(d['reason'])}`, indent: false };
    case 'apply':
      return { text: `applied${via}: ${command}`, indent: true };
    case 'withdraw':
      return { text: `withdrawn${via}: ${command}`, indent: true };
    case 'plan':
      return d['mode'] === 'manual'
        ? { text: `pending approval${via}: ${command}  (${String(d['approveWith'])})`, indent: true }
        : { text: `would apply${via} (detect-only runbook): ${command}`, indent: true };
    case 'cancel':
      return { text: `cancelled${via} (never approved): ${command}`, indent: true };
    case 'refuse':
      return { text: `REFUSED${via} ${String(d['code'])}: ${String(d['reason'])}`, indent: true };
    case 'fail':
      return { text: `FAILED${via} (${String(d['during'])}): ${String(d['error'])}`, indent: true };
    case 'approve':
      return { text: `approved by ${entry.actor}${via}: ${command}`, indent: true };
    case 'notify': {
      const channels = Array.isArray(d['channels']) ? (d['channels'] as string[]).join(', ') : '';
      return { text: `notify ${channels} (${String(d['stage'])}): ${String(d['message'])}`, indent: true };
    }
    case 'reconcile':
      return { text: `reconciled${via}: ${String(d['correction'] ?? d['error'])}`, indent: true };
    default:
      return undefined;
  }
}

export function formatTimeline(items: readonly TimelineItem[], firstMs: number): string[] {
  const lines: string[] = [];
  for (const item of items) {
    const atMs = item.kind === 'audit' ? item.entry.atMs : item.note.atMs;
    const prefix = `${clock(atMs)} ${offset(atMs, firstMs)}  `;
    if (item.kind === 'note') {
      lines.push(`${prefix}  · ${item.note.message}`);
      continue;
    }
    const text = describe(item.entry);
    if (text === undefined) continue;
    lines.push(`${prefix}${text.indent ? '    ' : ''}${text.text}`);
  }
  return lines;
}
