/**
 * An in-process stand-in for gobgpd's gRPC API, served from our own gobgp.proto: a global RIB
 * keyed by family and NLRI (as gobgpd keys local paths), AddPath replacing, DeletePath by path
 * (or, like gobgpd, everything when neither path nor uuid is given: counted, so tests can prove
 * the adapter never asks for that), ListPath streaming. The real gobgpd is exercised in
 * test/interop.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { gobgpService } from '../../../adapters/gobgp/api-client.js';
import type { ApiFamily, ApiPath } from '../../../adapters/gobgp/api-codec.js';

export interface FakeGobgpd {
  api: string;
  rib: Map<string, ApiPath>;
  calls: { method: string; request: unknown }[];
  deleteAllCalls: number;
  /** Makes the next call of this method fail with UNAVAILABLE. */
  failNext(method: 'AddPath' | 'DeletePath' | 'ListPath' | 'GetBgp'): void;
  /** Adds a path as if a BGP peer had sent it. */
  addFromPeer(path: ApiPath, neighbor: string): void;
  close(): Promise<void>;
}

function familyKey(f: ApiFamily | undefined): string {
  return `${f?.afi}/${f?.safi}`;
}

function pathKey(family: ApiFamily | undefined, path: ApiPath): string {
  return `${familyKey(family)} ${JSON.stringify(path.nlri)}`;
}

export async function startFakeGobgpd(): Promise<FakeGobgpd> {
  const dir = mkdtempSync(join(tmpdir(), 'fg-fake-gobgpd-'));
  const api = `unix://${join(dir, 'gobgpd.sock')}`;
  const rib = new Map<string, ApiPath>();
  const calls: { method: string; request: unknown }[] = [];
  const failing = new Set<string>();
  const state = { deleteAllCalls: 0 };
  const fail = (method: string): grpc.ServiceError | null => {
    if (!failing.delete(method)) return null;
    const e = new Error('fake gobgpd: unavailable') as grpc.ServiceError;
    e.code = grpc.status.UNAVAILABLE;
    e.details = 'fake gobgpd: unavailable';
    return e;
  };

  const server = new grpc.Server();
  server.addService(gobgpService().service, {
    GetBgp(call: grpc.ServerUnaryCall<object, object>, cb: grpc.sendUnaryData<object>) {
      calls.push({ method: 'GetBgp', request: call.request });
      const e = fail('GetBgp');
      if (e) return cb(e);
      cb(null, { global: { asn: 65001, router_id: '192.0.2.254', listen_port: 179 } });
    },
    AddPath(call: grpc.ServerUnaryCall<{ path: ApiPath }, object>, cb: grpc.sendUnaryData<object>) {
      calls.push({ method: 'AddPath', request: call.request });
      const e = fail('AddPath');
      if (e) return cb(e);
      const path = call.request.path;
      const hasNextHop = path.pattrs.some((a) => /NextHopAttribute|MpReachNLRIAttribute/.test(a['@type']));
      if (!hasNextHop) {
        return cb({ code: grpc.status.UNKNOWN, details: 'nexthop not found' } as grpc.ServiceError);
      }
      rib.set(pathKey(path.family, path), {
        ...path,
        neighbor_ip: '<nil>',
        age: { seconds: 1_763_700_000, nanos: 0 },
      });
      cb(null, { uuid: randomBytes(16) });
    },
    DeletePath(
      call: grpc.ServerUnaryCall<{ family: ApiFamily; path?: ApiPath; uuid?: Buffer }, object>,
      cb: grpc.sendUnaryData<object>,
    ) {
      calls.push({ method: 'DeletePath', request: call.request });
      const e = fail('DeletePath');
      if (e) return cb(e);
      const { path, family } = call.request;
      if (path?.nlri) {
        rib.delete(pathKey(path.family ?? family, path));
      } else {
        state.deleteAllCalls++;
        for (const [k, p] of rib) if (familyKey(p.family) === familyKey(family)) rib.delete(k);
      }
      cb(null, {});
    },
    ListPath(
      call: grpc.ServerWritableStream<{ family: ApiFamily; prefixes?: { prefix: string }[] }, object>,
    ) {
      calls.push({ method: 'ListPath', request: call.request });
      const e = fail('ListPath');
      if (e) {
        call.emit('error', e);
        return;
      }
      const wanted = (call.request.prefixes ?? []).map((p) => p.prefix);
      for (const path of rib.values()) {
        if (familyKey(path.family) !== familyKey(call.request.family)) continue;
        const prefix = `${String(path.nlri.prefix)}/${String(path.nlri.prefix_len)}`;
        if (wanted.length > 0 && !wanted.includes(prefix)) continue;
        call.write({ destination: { prefix, paths: [path] } });
      }
      call.end();
    },
  });
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(api, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
  );
  return {
    api,
    rib,
    calls,
    get deleteAllCalls() {
      return state.deleteAllCalls;
    },
    failNext: (method) => failing.add(method),
    addFromPeer(path, neighbor) {
      rib.set(`peer ${neighbor} ${pathKey(path.family, path)}`, { ...path, neighbor_ip: neighbor });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        });
      }),
  };
}
