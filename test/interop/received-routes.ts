/**
 * What a receiving gobgpd got from a peer, read from its Adj-RIB-In in BGP wire form
 * (ListPath with nlri_binary / pattrs_binary) and decoded with Floodgate's own codecs: the
 * check is on the bytes a router receives, not on gobgpd's interpretation of them.
 */
import { toHex } from '../../adapters/bgp/bytes.js';
import { decodeCommunities } from '../../adapters/bgp/community.js';
import { decodeExtendedCommunities } from '../../adapters/bgp/extended-community.js';
import { decodeFlowSpecNlri } from '../../adapters/bgp/flowspec-nlri.js';
import {
  ATTR_COMMUNITIES,
  ATTR_EXTENDED_COMMUNITIES,
  ATTR_MP_REACH_NLRI,
  ATTR_NEXT_HOP,
  decodeMpReach,
  decodePathAttribute,
  type PathAttribute,
} from '../../adapters/bgp/path-attribute.js';
import type { BgpRoute } from '../../adapters/bgp/routes.js';
import type { GobgpClient } from '../../adapters/gobgp/api-client.js';
import { FAMILIES, type FamilyName } from '../../adapters/gobgp/api-codec.js';
import { formatAddressWords, type IpVersion } from '../../core/net/address.js';

export interface ReceivedRoute {
  route: BgpRoute;
  /** The NLRI exactly as received (FlowSpec: with its length byte). */
  nlriHex: string;
}

function attributes(binary: readonly Uint8Array[]): Map<number, PathAttribute> {
  const out = new Map<number, PathAttribute>();
  for (const b of binary) {
    const { attribute } = decodePathAttribute(new Uint8Array(b));
    out.set(attribute.type, attribute);
  }
  return out;
}

function addressText(bytes: Uint8Array, version: IpVersion): string {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const words: [number, number, number, number] =
    version === 4
      ? [0, 0, 0xffff, view.getUint32(0)]
      : [view.getUint32(0), view.getUint32(4), view.getUint32(8), view.getUint32(12)];
  return formatAddressWords(words);
}

/** A unicast NLRI: a bit length, then as few bytes as hold it. */
function unicastPrefix(nlri: Uint8Array, version: IpVersion): string {
  const length = nlri[0]!;
  const full = new Uint8Array(version === 4 ? 4 : 16);
  full.set(nlri.subarray(1, 1 + Math.ceil(length / 8)));
  return `${addressText(full, version)}/${length}`;
}

/** The routes gobgpd holds from `neighbor` for a family. */
export async function receivedRoutes(
  client: GobgpClient,
  neighbor: string,
  family: FamilyName,
): Promise<ReceivedRoute[]> {
  const version: IpVersion = family.startsWith('ipv4') ? 4 : 6;
  const paths = await client.listPath(FAMILIES[family], { table: 'ADJ_IN', neighbor, binary: true });
  const out: ReceivedRoute[] = [];
  for (const path of paths) {
    const nlri = new Uint8Array(path.nlri_binary ?? []);
    const attrs = attributes((path.pattrs_binary ?? []).map((b) => new Uint8Array(b)));
    if (family.endsWith('flowspec')) {
      const ext = attrs.get(ATTR_EXTENDED_COMMUNITIES);
      out.push({
        nlriHex: toHex(nlri),
        route: {
          kind: 'flowspec',
          nlri: decodeFlowSpecNlri(nlri, version).nlri,
          actions: ext ? decodeExtendedCommunities(ext.value) : [],
        },
      });
      continue;
    }
    const hop =
      version === 4
        ? attrs.get(ATTR_NEXT_HOP)?.value
        : (() => {
            const mp = attrs.get(ATTR_MP_REACH_NLRI);
            return mp ? decodeMpReach(mp.value).nextHop.subarray(0, 16) : undefined;
          })();
    const communities = attrs.get(ATTR_COMMUNITIES);
    out.push({
      nlriHex: toHex(nlri),
      route: {
        kind: 'rtbh',
        version,
        prefix: unicastPrefix(nlri, version),
        nextHop: hop ? addressText(hop, version) : '',
        communities: communities ? decodeCommunities(communities.value).sort((a, b) => a - b) : [],
      },
    });
  }
  return out;
}
