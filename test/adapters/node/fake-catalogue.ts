/** A small action catalogue for tests of the node adapter's logic, the rule API and previews. */
import type { ActionCatalogue, ActionEntry } from '../../../adapters/node/catalogue.js';
import { FloodgateError } from '../../../core/errors.js';

/** drop-port: one command filled from the incident's first source port; its undo deletes it. */
export const dropPort: ActionEntry = {
  id: 'test.drop-port',
  group: 'test',
  title: 'drop a UDP source port',
  description: '',
  venue: 'node',
  params: [{ name: 'port', kind: 'port', description: '', required: true, fromIncident: 'sourcePorts' }],
  risk: 'low',
  riskNote: '',
  commandTemplate: 'fw add {port}',
  undoTemplate: 'fw del {port}',
  isBroad: (params) => params['port'] === undefined,
  preview(params, incident, tag) {
    const port = String(params['port'] ?? incident.sourcePorts[0]);
    if (!/^\d{1,5}$/.test(port) || Number(port) > 65535) {
      throw new FloodgateError(
        'FG_ERR_NODE_PARAM',
        `test.drop-port: port ${JSON.stringify(port)} is not 0-65535`,
      );
    }
    return {
      apply: [`fw add ${port} ${incident.target} ${tag}`],
      undo: [`fw del ${port} ${incident.target} ${tag}`],
    };
  },
  async apply(params, incident, tag, venue) {
    const port = String(params['port'] ?? incident.sourcePorts[0]);
    const argv = ['fw', 'add', port, incident.target, tag];
    const r = await venue.runner!.run(argv);
    const outcome = {
      command: argv.join(' '),
      ok: r.exitCode === 0,
      code: r.exitCode,
      output: r.stdout,
      ms: 1,
    };
    if (!outcome.ok) {
      throw new FloodgateError('FG_ERR_EXEC_FAILED', `fw add exited ${r.exitCode}`, { outcomes: [outcome] });
    }
    const undo = ['fw', 'del', port, incident.target, tag];
    return {
      applied: [outcome.command],
      undoTexts: [undo.join(' ')],
      outcomes: [outcome],
      undo: { argv: undo },
    };
  },
  async undo(record, venue) {
    const argv = record.undo['argv'] as string[];
    const r = await venue.runner!.run(argv);
    return {
      wasPresent: r.exitCode === 0,
      outcomes: [{ command: argv.join(' '), ok: true, code: r.exitCode, output: '', ms: 1 }],
    };
  },
  /** Runs the applied command again; the fake node answers "added" when the rule had gone missing. */
  async reassert(record, venue) {
    const argv = record.applied[0]!.split(' ');
    const r = await venue.runner!.run(argv);
    return {
      restored: r.stdout === 'added',
      outcomes: [
        { command: argv.join(' '), ok: r.exitCode === 0, code: r.exitCode, output: r.stdout, ms: 1 },
      ],
      record,
    };
  },
};

export const fakeCatalogue: ActionCatalogue = {
  entries: () => [dropPort],
  get: (id) => (id === dropPort.id ? dropPort : undefined),
};
