/**
 * The node adapter's node list: where each node is and as whom its commands run, with the
 * combinations that cannot mean anything refused at start-up.
 */
import { describe, expect, it } from 'vitest';
import { nodeConfigSchema } from '../../../adapters/node/config.js';
import { defaultRunner } from '../../../adapters/node/node-adapter.js';

const ssh = {
  host: '192.0.2.21',
  user: 'floodgate',
  privateKeyFile: '/etc/floodgate/id_ed25519',
  hostKey: `SHA256:${'A'.repeat(43)}`,
};

function problems(nodes: unknown[]): string[] {
  const r = nodeConfigSchema.safeParse({ nodes });
  return r.success ? [] : r.error.issues.map((i) => i.message);
}

describe('node adapter configuration', () => {
  it("defaults to the appliance host itself, as Floodgate's own user", () => {
    expect(nodeConfigSchema.parse({}).nodes).toEqual([{ name: 'local', serves: [], sudo: false }]);
  });

  it('refuses a node over ssh that also names a namespace, runAs or sudo, and a runAs that is no user name', () => {
    expect(problems([{ name: 'a', ssh, netns: 'ns1' }])).toEqual([
      'a node is reached over ssh or is a local network namespace, not both',
    ]);
    expect(problems([{ name: 'a', ssh, runAs: 'root' }])).toEqual([
      'over ssh the node runs commands as ssh.user (with ssh.sudo for root); runAs and sudo are for the appliance host',
    ]);
    expect(problems([{ name: 'a', runAs: '-u0' }])).toEqual([
      'must be a user name (letters, digits, "_", ".", "-")',
    ]);
    expect(problems([{ name: 'a', runAs: 'fwadmin', netns: 'tenant7' }])).toEqual([]);
  });

  it('a local node with runAs runs its commands as that user through sudo', async () => {
    const node = nodeConfigSchema.parse({ nodes: [{ name: 'a', runAs: 'nobody' }] }).nodes[0]!;
    const result = await defaultRunner(node, 5_000).run(['id', '-un']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toBe('nobody\n');
  });
});
