/** Incidents and runners shared by the action unit tests. */

import type { CommandResult, CommandRunner } from '../../../../adapters/exec/command-runner.js';
import type { ActionIncident } from '../../../../adapters/node/actions/action-type.js';

export const INCIDENT_V4: ActionIncident = {
  incidentId: 'inc-test-v4',
  target: '203.0.113.5',
  ipVersion: 4,
  family: 'ntp_amplification',
  severity: 4,
  pps: 250_000,
  bps: 2_000_000_000,
  sources: ['198.51.100.7', '198.51.100.23'],
  sourcePorts: [123],
  destinationPorts: [80],
  protocols: [17],
};

export const INCIDENT_V6: ActionIncident = {
  ...INCIDENT_V4,
  incidentId: 'inc-test-v6',
  target: '2001:db8::5',
  ipVersion: 6,
  sources: ['2001:db8:bad::7', '2001:db8:bad::23'],
};

type Answer = Partial<CommandResult> | Error;

/**
 * A runner that answers from a function of the argv (default: exit 0, no output) and records
 * every argv it was asked to run.
 */
export function fakeRunner(answer: (argv: readonly string[]) => Answer = () => ({})): CommandRunner & {
  calls: string[][];
} {
  const calls: string[][] = [];
  return {
    where: 'fake',
    calls,
    async run(argv) {
      calls.push([...argv]);
      const a = answer(argv);
      if (a instanceof Error) throw a;
      return { exitCode: 0, stdout: '', stderr: '', durationMs: 1, ...a };
    },
    close: async () => {},
  };
}
