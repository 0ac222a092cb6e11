// A proxy loads only the packages its config needs (each costs it resident memory, issue 7): a
// static bootstrap without jwt_authn, OpenTelemetry tracing, a control plane or a workload
// identity must not load jose, @opentelemetry/*, @grpc/grpc-js, @peculiar/x509 or yaml. Those
// load on demand, and the test shows that a config using one (here an ADS server) loads it.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { eventually } from '../helpers/http.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const REGISTER = fileURLToPath(new URL('../helpers/package-log-register.mjs', import.meta.url));
const ON_DEMAND = ['jose', '@grpc/grpc-js', '@peculiar/x509', 'yaml'];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strait-footprint-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Runs a proxy until `ready` matches its output; the packages it loaded by then. */
async function packagesOf(bootstrap: object, ready: RegExp): Promise<Set<string>> {
  const file = path.join(dir, `b${Math.random().toString(36).slice(2)}.json`);
  fs.writeFileSync(file, JSON.stringify(bootstrap));
  const p = spawn(process.execPath, ['--import', 'tsx', '--import', REGISTER, MAIN, 'proxy', '--bootstrap', file, '--access-log', 'off'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  try {
    await eventually(() => ready.test(out), `${ready} in the proxy's output`, 60_000);
  } finally {
    p.kill('SIGKILL');
  }
  return new Set([...out.matchAll(/^PACKAGE (\S+)$/gm)].map((m) => m[1]!));
}

const listener = {
  name: 'edge',
  address: { socketAddress: { address: '127.0.0.1', portValue: 0 } },
  filterChains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', typedConfig: {
    '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
    statPrefix: 'edge',
    routeConfig: { name: 'r', virtualHosts: [{ name: 'all', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'origin' } }] }] },
    httpFilters: [{ name: 'envoy.filters.http.router', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }],
  } }] }],
};
const origin = { name: 'origin', type: 'STATIC', connectTimeout: '1s', loadAssignment: { clusterName: 'origin', endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: 9 } } } }] }] } };

test('a static gateway loads none of the on-demand packages', async () => {
  const loaded = await packagesOf({ node: { id: 'router~127.0.0.1~gw.test~test.svc.cluster.local' }, staticResources: { listeners: [listener], clusters: [origin] } }, /listener edge on/);
  // The check can see packages: protobufjs (config validation) is always there.
  assert.ok(loaded.has('protobufjs'), [...loaded].join(', '));
  for (const p of ON_DEMAND) assert.equal(loaded.has(p), false, `${p} loaded: ${[...loaded].join(', ')}`);
  assert.deepEqual([...loaded].filter((p) => p.startsWith('@opentelemetry/')), []);
});

test('a proxy with a control plane loads the gRPC client when it connects', async () => {
  const loaded = await packagesOf({ node: { id: 'router~127.0.0.1~gw.test~test.svc.cluster.local' }, dynamicResources: { adsServer: '127.0.0.1:9' } }, /^PACKAGE @grpc\/grpc-js$/m);
  assert.ok(loaded.has('@grpc/grpc-js'));
  // Still nothing it does not use.
  assert.equal(loaded.has('jose'), false);
});
