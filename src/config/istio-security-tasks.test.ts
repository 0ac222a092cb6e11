// The manifests of Istio's security tasks (reference §3, TASK-11..15, and authz-custom) load
// without errors, each step together with its workloads, with exactly the warnings Istio itself
// gives for them, and their typed form says what the task expects.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from './load-config.js';
import type { LoadResult } from './load-config.js';

const DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test/fixtures/config/istio-security');
const TASKS = fs.readdirSync(DIR).filter((f) => f.startsWith('task-') && f.endsWith('.yaml')).sort();

/**
 * The warnings a step gives on purpose: Istio's own validation warns that these DENY rules use
 * only HTTP attributes, so they deny all TCP traffic to the workload (AZ-10).
 */
const EXPECTED_WARNINGS: Readonly<Record<string, readonly string[]>> = {
  'task-15-step1-deny-get.yaml': ['deny-all-tcp'],
  'task-15-step2-deny-get-unless-admin.yaml': ['deny-all-tcp'],
  'task-15-step3-allow-path-ip.yaml': ['deny-all-tcp'],
};

function summary(r: LoadResult): string[] {
  return r.diagnostics.map((d) => `${d.severity}:${d.code}@${path.basename(d.file)}:${d.line}:${d.col} ${d.message}`);
}

async function loadTask(file: string): Promise<LoadResult> {
  const workloads = file.startsWith('task-12-') ? 'bookinfo.yaml' : 'workloads.yaml';
  return loadConfig([path.join(DIR, workloads), path.join(DIR, file)]);
}

test('the workloads of the security tasks load without any finding', async () => {
  for (const f of ['workloads.yaml', 'bookinfo.yaml']) assert.deepEqual(summary(await loadConfig([path.join(DIR, f)])), [], f);
});

for (const file of TASKS) {
  test(`${file} loads without errors, with only Istio's own warnings`, async () => {
    const r = await loadTask(file);
    assert.deepEqual(summary({ ...r, diagnostics: r.diagnostics.filter((d) => d.severity === 'error') }), []);
    assert.deepEqual(r.diagnostics.map((d) => d.code), EXPECTED_WARNINGS[file] ?? [], summary(r).join('\n'));
  });
}

test('the typed security tasks carry what the tasks expect (modes, principals, claims, IPs, providers)', async () => {
  const store = async (file: string) => (await loadTask(file)).store;
  const strict = await store('task-11-step1-namespace-strict.yaml');
  assert.deepEqual(strict.get('PeerAuthentication', 'foo', 'default')?.spec, { mtls: { mode: 'STRICT' }, portLevelMtls: [] });
  const nothing = (await store('task-12-step1-allow-nothing.yaml')).get('AuthorizationPolicy', 'default', 'allow-nothing');
  assert.deepEqual([nothing?.spec.action, nothing?.spec.rules, nothing?.spec.selector], ['ALLOW', [], undefined]);
  const ratings = (await store('task-12-step3-all-viewers.yaml')).get('AuthorizationPolicy', 'default', 'ratings-viewer');
  assert.deepEqual(ratings?.spec.rules[0].from[0].source.principals, ['cluster.local/ns/default/sa/bookinfo-reviews']);
  const jwt = await store('task-13-step3-require-group.yaml');
  assert.equal(jwt.get('RequestAuthentication', 'foo', 'jwt-example')?.spec.jwtRules[0].issuer, 'testing@secure.istio.io');
  assert.deepEqual(jwt.get('AuthorizationPolicy', 'foo', 'require-jwt')?.spec.rules[0].when[0].attribute, { name: 'request.auth.claims', keys: ['groups'] });
  const ingress = (await store('task-14-step1-allow-ipblocks.yaml')).get('AuthorizationPolicy', 'istio-system', 'ingress-policy');
  assert.deepEqual(ingress?.spec.rules[0].from[0].source.ipBlocks, ['1.2.3.4', '5.6.7.0/24']);
  const deny = (await store('task-15-step3-allow-path-ip.yaml')).list('AuthorizationPolicy');
  assert.deepEqual(deny.map((p) => p.spec.action), ['DENY', 'ALLOW']);
  assert.deepEqual(deny[0].spec.rules[0].when[0].notValues, ['admin']);
  const custom = await store('task-ext-authz-custom.yaml');
  assert.deepEqual(custom.list('MeshConfig')[0]?.spec.extensionProviders.map((p) => [p.name, p.type]), [['sample-ext-authz-grpc', 'envoyExtAuthzGrpc'], ['sample-ext-authz-http', 'envoyExtAuthzHttp']]);
  assert.deepEqual(custom.get('AuthorizationPolicy', 'foo', 'ext-authz')?.spec.provider, { name: 'sample-ext-authz-http' });
});
