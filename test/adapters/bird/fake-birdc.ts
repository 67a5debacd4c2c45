/**
 * An in-memory stand-in for birdc and the BIRD behind it, for the BIRD adapter's unit tests: it
 * reads the adapter's include file when told to reconfigure and answers `show route protocol`
 * and `show protocols` from what it loaded, in BIRD 2.0.12's output format. It can be told to
 * refuse the next check or reload, or to be down. The real BIRD is in test/interop.
 */
import { readFileSync } from 'node:fs';
import type { BirdcResult, BirdcRunner } from '../../../adapters/bird/birdc.js';

export interface FakeBird {
  runner: BirdcRunner;
  /** Every argv the adapter ran, in order. */
  calls: string[][];
  /** Routes loaded per protocol: network -> statement. */
  loaded: Map<string, Map<string, string>>;
  failNextCheck(message: string): void;
  failNextConfigure(message: string): void;
  setDown(down: boolean): void;
  /** Drop every route but keep the protocols, as a BIRD restarted with an empty include file. */
  forget(): void;
  /** Drop the protocols too, as a BIRD whose configuration does not include the file. */
  unload(): void;
}

const ok = (stdout: string): BirdcResult => ({ code: 0, stdout, stderr: '', timedOut: false });
const failed = (stdout: string): BirdcResult => ({ code: 1, stdout, stderr: '', timedOut: false });

function parseInclude(text: string): Map<string, Map<string, string>> {
  const protocols = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const line of text.split('\n')) {
    const proto = /^protocol static (\S+) \{$/.exec(line);
    if (proto) {
      current = new Map();
      protocols.set(proto[1]!, current);
      continue;
    }
    const route = /^\s+route (.*)$/.exec(line);
    if (route && current) {
      const rest = route[1]!;
      const network = rest.startsWith('flow') ? rest.slice(0, rest.indexOf('}') + 1) : rest.split(' ')[0]!;
      current.set(network, line.trim());
    }
  }
  return protocols;
}

export function createFakeBird(includeFile: string): FakeBird {
  const calls: string[][] = [];
  // Loaded on first use, as a BIRD started with the include file in its configuration.
  let loadedNow: Map<string, Map<string, string>> | undefined;
  const current = (): Map<string, Map<string, string>> => {
    loadedNow ??= parseInclude(readFileSync(includeFile, 'utf8'));
    return loadedNow;
  };
  let checkFailure: string | undefined;
  let configureFailure: string | undefined;
  let down = false;
  const runner: BirdcRunner = async (args) => {
    calls.push([...args]);
    if (down)
      return {
        code: 1,
        stdout: '',
        stderr: 'Unable to connect to server control socket (/run/bird/bird.ctl): Connection refused\n',
        timedOut: false,
      };
    const words = args.filter((a) => a !== '-v');
    const head = '0001 BIRD 2.0.12 ready.\n';
    if (words[0] === 'configure' && words[1] === 'check') {
      readFileSync(includeFile, 'utf8');
      if (checkFailure !== undefined) {
        const message = checkFailure;
        checkFailure = undefined;
        return failed(`${head}0002-Reading configuration from /etc/bird/bird.conf\n8002 ${message}\n`);
      }
      return ok(`${head}0002-Reading configuration from /etc/bird/bird.conf\n0020 Configuration OK\n`);
    }
    if (words[0] === 'configure') {
      if (configureFailure !== undefined) {
        const message = configureFailure;
        configureFailure = undefined;
        return failed(`${head}0002-Reading configuration from /etc/bird/bird.conf\n8002 ${message}\n`);
      }
      loadedNow = parseInclude(readFileSync(includeFile, 'utf8'));
      return ok(`${head}0002-Reading configuration from /etc/bird/bird.conf\n0003 Reconfigured\n`);
    }
    if (words[0] === 'show' && words[1] === 'route' && words[2] === 'protocol') {
      const proto = words[3]!;
      const routes = current().get(proto);
      if (routes === undefined)
        return failed(
          'BIRD 2.0.12 ready.\nsyntax error, unexpected CF_SYM_UNDEFINED, expecting CF_SYM_KNOWN\n',
        );
      let out = 'BIRD 2.0.12 ready.\n';
      if (routes.size > 0) out += `Table ${proto.endsWith('4') ? 'ft4' : 'ft6'}:\n`;
      for (const network of routes.keys()) {
        const pad = network.startsWith('flow') ? '  ' : ' '.repeat(Math.max(1, 21 - network.length));
        out += `${network}${pad}${network.startsWith('flow') ? '' : 'blackhole '}[${proto} 12:00:00.000] * (200)\n\tType: static univ\n`;
      }
      return ok(out);
    }
    if (words[0] === 'show' && words[1] === 'protocols') {
      let out = 'BIRD 2.0.12 ready.\nName       Proto      Table      State  Since         Info\n';
      for (const proto of current().keys())
        out += `${proto.padEnd(10)} Static     ft4        up     12:00:00.000  \n`;
      return ok(out);
    }
    return failed('BIRD 2.0.12 ready.\nsyntax error\n');
  };
  return {
    runner,
    calls,
    get loaded() {
      return current();
    },
    failNextCheck: (m) => {
      checkFailure = m;
    },
    failNextConfigure: (m) => {
      configureFailure = m;
    },
    setDown: (d) => {
      down = d;
    },
    forget: () => {
      loadedNow = new Map([...current().keys()].map((p) => [p, new Map<string, string>()]));
    },
    unload: () => {
      loadedNow = new Map();
    },
  };
}
