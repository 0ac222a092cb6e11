// The manifests of Istio's traffic-management tasks (reference §3, TASK-01..10) load without
// errors, each step together with Bookinfo, and their typed form says what the task expects.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from './load-config.js';
import type { LoadResult } from './load-config.js';

const DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test/fixtures/config/istio-tasks');
const BOOKINFO = path.join(DIR, 'bookinfo.yaml');
const TASKS = fs.readdirSync(DIR).filter((f) => f.startsWith('task-') && f.endsWith('.yaml')).sort();

/** Bookinfo's own finding: destination-rule-all names versions that bookinfo.yaml does not deploy. */
const BOOKINFO_WARNINGS = ['subset-selects-nothing ratings v2', 'subset-selects-nothing ratings v2-mysql', 'subset-selects-nothing ratings v2-mysql-vm', 'subset-selects-nothing details v2'];

function summary(r: LoadResult): string[] {
  return r.diagnostics.map((d) => `${d.severity}:${d.code}@${path.basename(d.file)}:${d.line}:${d.col} ${d.message}`);
}

async function loadTask(file: string): Promise<LoadResult> {
  return loadConfig([BOOKINFO, path.join(DIR, file)]);
}

test('Bookinfo with its prerequisites loads; only the undeployed subsets of destination-rule-all warn', async () => {
  const r = await loadConfig([BOOKINFO]);
  assert.equal(r.diagnostics.length, 4, summary(r).join('\n'));
  assert.deepEqual(r.diagnostics.map((d) => d.severity), ['warning', 'warning', 'warning', 'warning']);
  assert.deepEqual(
    r.diagnostics.map((d) => `${d.code} ${d.message.includes('ratings') ? 'ratings' : 'details'} ${/subset (\S+)/.exec(d.message)?.[1]}`),
    BOOKINFO_WARNINGS,
  );
});

for (const file of TASKS) {
  test(`${file} loads with Bookinfo without errors or new warnings`, async () => {
    const r = await loadTask(file);
    const own = r.diagnostics.filter((d) => !(d.code === 'subset-selects-nothing' && path.basename(d.file) === 'bookinfo.yaml'));
    assert.deepEqual(summary({ ...r, diagnostics: own }), []);
  });
}

test('the typed tasks carry what the tasks expect (durations in ms, percentages, weights, limits)', async () => {
  const vs = async (file: string, name: string) => (await loadTask(file)).store.get('VirtualService', 'default', name);
  const delay = await vs('task-02-ratings-test-delay.yaml', 'ratings');
  assert.deepEqual(delay?.spec.http[0].fault?.delay, { fixedDelay: { ms: 7000, text: '7s' }, percentage: { value: 100 } });
  assert.deepEqual(delay?.spec.http[0].match[0].headers, { 'end-user': { exact: 'jason' } });
  const abort = await vs('task-02-ratings-test-abort.yaml', 'details');
  assert.deepEqual(abort?.spec.http[0].fault?.abort, { httpStatus: 555, percentage: { value: 100 } });
  const timeout = await vs('task-05-request-timeouts.yaml', 'reviews');
  assert.deepEqual(timeout?.spec.http[0].timeout, { ms: 500, text: '0.5s' });
  const tcp = await vs('task-04-tcp-echo-20-v2.yaml', 'tcp-echo');
  assert.deepEqual(tcp?.spec.tcp[0].route.map((d) => [d.destination.subset, d.weight]), [['v1', 80], ['v2', 20]]);
  const mirror = await vs('task-07-mirroring.yaml', 'httpbin');
  assert.deepEqual([mirror?.spec.http[0].mirror, mirror?.spec.http[0].mirrorPercentage], [{ host: 'httpbin', subset: 'v2' }, { value: 100 }]);
  const breaker = (await loadTask('task-06-circuit-breaking.yaml')).store.get('DestinationRule', 'default', 'httpbin');
  assert.equal(breaker?.spec.trafficPolicy?.connectionPool?.tcp?.maxConnections, 1);
  assert.deepEqual(breaker?.spec.trafficPolicy?.outlierDetection?.baseEjectionTime, { ms: 180_000, text: '3m' });
  const gw = (await loadTask('task-09-secure-gateway.yaml')).store.get('Gateway', 'default', 'mygateway');
  assert.deepEqual(gw?.spec.servers.map((s) => [s.tls?.mode, s.tls?.credentialName]), [['SIMPLE', 'httpbin-credential'], ['SIMPLE', 'helloworld-credential']]);
  const egress = await loadTask('task-10-egress.yaml');
  assert.deepEqual(egress.store.list('MeshConfig')[0]?.spec.outboundTrafficPolicy, { mode: 'REGISTRY_ONLY' });
  assert.deepEqual(egress.store.list('ServiceEntry').map((se) => [se.spec.hosts[0], se.spec.resolution, se.spec.ports[0].protocol]), [['httpbin.org', 'DNS', 'HTTP'], ['www.google.com', 'DNS', 'HTTPS']]);
});
