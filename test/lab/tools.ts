/**
 * The lab's external tools and how to get them. A test that drives a real exporter calls
 * `requireTool` first: a missing tool fails the test with the command that installs it,
 * because a test that skips itself silently proves nothing.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Debian's python, which has python3-scapy; a pyenv python3 earlier on PATH does not. */
export const PYTHON = '/usr/bin/python3';

interface ToolInfo {
  /** Debian package that provides it. */
  apt: string;
  /** An executable to find on PATH (or in the sbin directories), or a module Debian's python imports. */
  command?: string;
  pythonModule?: string;
  /** What else to do before installing, when plain apt-get is not enough. */
  before?: string;
}

const TOOLS: Readonly<Record<string, ToolInfo>> = {
  softflowd: { apt: 'softflowd', command: 'softflowd' },
  'python3-scapy': { apt: 'python3-scapy', pythonModule: 'scapy' },
  scapy: { apt: 'python3-scapy', pythonModule: 'scapy' },
  tshark: {
    apt: 'tshark',
    command: 'tshark',
    before: 'echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections',
  },
  dumpcap: {
    apt: 'tshark',
    command: 'dumpcap',
    before: 'echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections',
  },
  pmacctd: { apt: 'pmacct', command: 'pmacctd' },
  nfacctd: { apt: 'pmacct', command: 'nfacctd' },
  sfacctd: { apt: 'pmacct', command: 'sfacctd' },
  nfcapd: { apt: 'nfdump', command: 'nfcapd' },
  nfreplay: { apt: 'nfdump', command: 'nfreplay' },
  tcpreplay: { apt: 'tcpreplay', command: 'tcpreplay' },
  fprobe: { apt: 'fprobe', command: 'fprobe' },
};

// Exporters live in sbin, which a non-root PATH often lacks.
const EXTRA_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

export function findExecutable(command: string): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter).filter(Boolean), ...EXTRA_DIRS];
  for (const dir of dirs) {
    const candidate = join(dir, command);
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this directory.
    }
  }
  return undefined;
}

function pythonHasModule(module: string): boolean {
  const result = spawnSync(PYTHON, ['-c', `import ${module}`], { stdio: 'ignore', timeout: 30_000 });
  return result.status === 0;
}

/**
 * Returns the tool's path (an executable, or PYTHON for a python module), or throws an error
 * naming the Debian package to install. `name` is a key of the table above (an executable or
 * "python3-scapy"); any other name is taken as an executable from the package of that name.
 */
export function requireTool(name: string): string {
  const info = TOOLS[name] ?? { apt: name, command: name };
  if (info.pythonModule !== undefined) {
    if (pythonHasModule(info.pythonModule)) return PYTHON;
  } else {
    const found = findExecutable(info.command ?? name);
    if (found !== undefined) return found;
  }
  const what =
    info.pythonModule !== undefined
      ? `the python module "${info.pythonModule}" (for ${PYTHON})`
      : `the program "${info.command ?? name}"`;
  const steps = [
    ...(info.before ? [info.before] : []),
    'apt-get update',
    `apt-get install -y --no-install-recommends ${info.apt}`,
  ];
  throw new Error(
    `${name} is required by this test and missing: ${what} was not found. ` +
      `Install the Debian package ${info.apt} (as root): ${steps.join(' && ')}`,
  );
}
