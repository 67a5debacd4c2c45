/**
 * Parses what `birdc show route ... all` prints (BIRD 2.0): a `Table NAME:` header, then per
 * route a first line (network, then the route's kind and `[protocol time ...]`) and indented
 * attribute lines (`\tType: static univ`, `\tBGP.community: (65535,666)`). Networks of flow routes
 * are the `flow4 { ... }` text itself. Further routes for the same network start with blanks
 * instead of the network; they are kept, under the network above them.
 */

export interface BirdRoute {
  table: string;
  /** `203.0.113.66/32`, `2001:db8::66/128`, or `flow4 { dst 203.0.113.5/32; proto 17; }`. */
  network: string;
  /** What follows the network on the first line: `blackhole [fg_rtbh4 15:48:19.043] * (200)`. */
  summary: string;
  /** The protocol in the brackets: `fg_rtbh4`. */
  protocol: string;
  /** Attribute lines by name: `BGP.community` -> `(65535,666) (65000,1)`. */
  attributes: Record<string, string>;
}

const CODE_LINE = /^\d{4}[ -]/;

/**
 * Strips what `birdc -v` adds: a reply code (`1007-`, `0000 `) or, on lines continuing a reply,
 * five blanks. Without -v neither is there (a network line starts in column 0, an attribute line
 * with a tab, a further route for the same network with more than five blanks).
 */
function withoutCodes(line: string): string {
  if (CODE_LINE.test(line)) return line.slice(5);
  return line.startsWith('     ') ? line.slice(5) : line;
}

function flowNetworkEnd(line: string): number {
  // `flow4 { ... }` holds no nested braces: the network ends at the first closing brace.
  const close = line.indexOf('}');
  return close < 0 ? -1 : close + 1;
}

export function parseBirdRoutes(text: string): BirdRoute[] {
  const routes: BirdRoute[] = [];
  let table = '';
  let current: BirdRoute | undefined;
  let lastNetwork = '';
  for (const raw of text.split('\n')) {
    const line = withoutCodes(raw.replace(/\r$/, ''));
    if (line.trim() === '' || line.startsWith('BIRD ')) continue;
    const header = /^Table (\S+):$/.exec(line.trim());
    if (header) {
      table = header[1]!;
      current = undefined;
      continue;
    }
    if (line.startsWith('\t')) {
      const m = /^\t([A-Za-z0-9_.]+):\s?(.*)$/.exec(line);
      if (m && current) current.attributes[m[1]!] = m[2]!.trim();
      continue;
    }
    let network: string;
    let rest: string;
    if (/^flow[46] \{/.test(line)) {
      const end = flowNetworkEnd(line);
      if (end < 0) continue;
      network = line.slice(0, end);
      rest = line.slice(end).trim();
    } else if (/^\s/.test(line)) {
      network = lastNetwork;
      rest = line.trim();
    } else {
      const space = line.search(/\s/);
      network = space < 0 ? line : line.slice(0, space);
      rest = space < 0 ? '' : line.slice(space).trim();
    }
    const protocol = /\[(\S+)/.exec(rest)?.[1] ?? '';
    current = { table, network, summary: rest, protocol, attributes: {} };
    lastNetwork = network;
    routes.push(current);
  }
  return routes;
}

/** The standard communities of a route as `ASN:VALUE`, from `BGP.community: (65535,666) (65000,1)`. */
export function routeCommunities(route: BirdRoute): string[] {
  const text = route.attributes['BGP.community'] ?? '';
  return [...text.matchAll(/\((\d+),(\d+)\)/g)].map((m) => `${m[1]}:${m[2]}`);
}

/** The generic extended communities as `[high32, low32]`, from `(generic, 0x80060000, 0x0)`. */
export function routeExtCommunities(route: BirdRoute): [number, number][] {
  const text = route.attributes['BGP.ext_community'] ?? '';
  return [...text.matchAll(/\(generic, (0x[0-9a-f]+), (0x[0-9a-f]+)\)/gi)].map((m) => [
    Number(m[1]),
    Number(m[2]),
  ]);
}
