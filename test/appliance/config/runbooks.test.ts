/** Runbooks in floodgate.yaml: what they name must exist elsewhere in the file, errors carry their line. */
import { describe, expect, it } from 'vitest';
import { ConfigError, formatProblem, parseConfigText } from '../../../appliance/config/load.js';

function problemsOf(text: string): string[] {
  try {
    parseConfigText(text, 'test.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems.map(formatProblem);
  }
  throw new Error('expected the configuration to be refused');
}

describe('runbooks in floodgate.yaml', () => {
  it('accepts runbooks naming configured adapters and host groups', () => {
    const config = parseConfigText(
      [
        'detection:',
        '  networks: [{ prefix: 203.0.113.0/24 }]',
        '  hostGroups: [{ name: web, prefixes: [203.0.113.0/28] }]',
        'adapters: [{ name: edge, type: dry-run }]',
        'runbooks:',
        '  - name: web',
        '    match: { hostGroups: [web] }',
        '    tiers: [{ intents: [flowspec], adapters: [edge] }]',
        'dispatch: { onShutdown: withdraw }',
      ].join('\n'),
      'ok.yaml',
    );
    expect(config.runbooks[0]!.tiers[0]!.adapters).toEqual(['edge']);
    expect(config.dispatch).toEqual({
      onShutdown: 'withdraw',
      retry: { firstSeconds: 5, maxSeconds: 300, maxAttempts: 0 },
      healthCheckSeconds: 30,
    });
  });

  it('refuses unknown adapters and host groups, naming the line', () => {
    const problems = problemsOf(
      [
        'adapters: [{ name: edge, type: dry-run }]', // 1
        'mitigation:', // 2
        '  rtbh:', // 3
        '    upstreams: [{ name: transit, communities: ["64500:666"], adapters: [edge-b] }]', // 4
        'runbooks:', // 5
        '  - name: web', // 6
        '    match:', // 7
        '      hostGroups: [web]', // 8
        '    tiers:', // 9
        '      - intents: [flowspec]', // 10
        '        adapters: [exabgp]', // 11
      ].join('\n'),
    );
    expect(problems).toEqual([
      'runbooks[0].tiers[0].adapters[0]: runbook web names adapter "exabgp", which is not under adapters (configured: edge) (line 11)',
      'runbooks[0].match.hostGroups[0]: host group "web" is not defined under detection.hostGroups (line 8)',
      'mitigation.rtbh.upstreams[0].adapters[0]: upstream transit names adapter "edge-b", which is not under adapters (configured: edge) (line 4)',
    ]);
  });

  it('refuses a retry schedule that starts above its maximum', () => {
    expect(problemsOf('dispatch: { retry: { firstSeconds: 600, maxSeconds: 60 } }')).toEqual([
      'dispatch.retry: firstSeconds must not exceed maxSeconds (line 1)',
    ]);
  });
});
