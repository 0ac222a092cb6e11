// TASK-17 (observability/logs/access-log) end to end on one real `strait up` with Istio's sleep
// and httpbin samples, requests sent from sleep through its sidecar as `kubectl exec sleep --
// curl` does. The mesh config starts as Istio's default profile (accessLogFile ""), so nothing
// is logged until the Telemetry API turns access logs on:
//
// 1. Telemetry mesh-default with the built-in `envoy` provider: `curl httpbin:8000/status/418`
//    writes one line in each proxy, in Istio's text format (§2.10): the client line names
//    outbound|8000||httpbin.default.svc.cluster.local, the server line inbound|8080|| with the
//    SNI outbound_.8000_._.httpbin.default.svc.cluster.local, both the same x-request-id, 418,
//    flags "-" and via_upstream.
// 2. filter.expression: a filter that is not CEL is refused with its position (the last good
//    config keeps serving), one outside Strait's subset is warned about with its position, and
//    `response.code >= 400` logs only failing requests.
// 3. disabled: true on httpbin's own Telemetry turns its proxy's log off; sleep's still logs.
// 4. accessLogEncoding: JSON: the built-in provider follows it, with Istio's JSON keys.
//
// What was not logged is shown by order, never by waiting: a proxy writes its lines in order, so
// once a later request's line is in a proxy's log, an earlier request's line would be there too.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { PodStatus } from '../../src/local/api-server.js';
import { ISTIO_JSON_FORMAT } from '../../src/telemetry/access-log/format.js';
import { accessLog, applyAndSync, ManifestDir, podNamed, readyPods, viaSidecar } from '../helpers/istio-tasks.js';
import { startMesh } from '../helpers/strait-up.js';
import type { RunningMesh } from '../helpers/strait-up.js';

const CLIENT_CLUSTER = 'outbound|8000||httpbin.default.svc.cluster.local';
const SERVER_SNI = 'outbound_.8000_._.httpbin.default.svc.cluster.local';

let files: ManifestDir;
let mesh: RunningMesh;
let sleep: PodStatus;
let httpbin: PodStatus;

/** The istio ConfigMap with a mesh config (accessLogFile "" is Istio's default profile). */
const meshConfig = (text: string) => `apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: istio-system}
data:
  mesh: |-
${text.split('\n').map((l) => `    ${l}`).join('\n')}
`;

const meshDefault = (filter?: string) => `apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata:
  name: mesh-default
  namespace: istio-system
spec:
  accessLogging:
  - providers:
    - name: envoy
${filter === undefined ? '' : `    filter:\n      expression: ${JSON.stringify(filter)}\n`}`;

const HTTPBIN_OFF = `apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata:
  name: httpbin-logs-off
  namespace: default
spec:
  selector:
    matchLabels:
      app: httpbin
  accessLogging:
  - disabled: true
`;

/** One field set of Istio's default text format (§2.10), in order. */
interface TextLine {
  method: string;
  path: string;
  protocol: string;
  code: number;
  flags: string;
  details: string;
  requestId: string;
  authority: string;
  upstreamHost: string;
  upstreamCluster: string;
  requestedServerName: string;
  route: string;
}

const TEXT_LINE =
  /^\[(\S+)\] "(\S+) (\S+) (\S+)" (\d+) (\S+) (\S+) (\S+) "([^"]*)" (\d+) (\d+) (\d+) (\S+) "([^"]*)" "([^"]*)" "([^"]*)" "([^"]*)" "([^"]*)" (\S+) (\S+) (\S+) (\S+) (\S+) (\S+)$/;

function parseText(line: string): TextLine {
  const m = TEXT_LINE.exec(line);
  assert.ok(m, `an access log line in Istio's text format: ${line}`);
  return {
    method: m[2]!,
    path: m[3]!,
    protocol: m[4]!,
    code: Number(m[5]),
    flags: m[6]!,
    details: m[7]!,
    requestId: m[16]!,
    authority: m[17]!,
    upstreamHost: m[18]!,
    upstreamCluster: m[19]!,
    requestedServerName: m[23]!,
    route: m[24]!,
  };
}

/** `curl httpbin:8000/status/<code>` from sleep, with a probe in the query to find its lines. */
async function curl(code: number): Promise<string> {
  const probe = randomUUID();
  const res = await viaSidecar(sleep, `http://httpbin:8000/status/${code}?probe=${probe}`, { headers: { 'user-agent': 'curl/8.5.0' } });
  assert.equal(res.status, code);
  return probe;
}

/** The proxy's line for a probe (waiting until it is there). */
async function lineOf(pod: PodStatus, probe: string): Promise<string> {
  const [line] = await accessLog(mesh, pod, [new RegExp(`probe=${probe}`)]);
  return line!;
}

/** Whether any line of the proxy's log mentions the probe (read once: only after a later line was seen). */
async function logged(pod: PodStatus, probe: string): Promise<boolean> {
  return (await mesh.logs(pod.name, 'istio-proxy')).some((l) => l.includes(`probe=${probe}`));
}

before(async () => {
  files = new ManifestDir('istio-logs');
  files.applyText(meshConfig('accessLogFile: ""'), 'Istio default profile');
  files.apply('examples/httpbin/httpbin.yaml', 'examples/sleep/sleep.yaml');
  mesh = await startMesh([files.dir]);
  [httpbin] = await readyPods(mesh, ['httpbin']);
  sleep = await podNamed(mesh, 'sleep');
});

after(async () => {
  await mesh?.stop();
  files?.remove();
});

test('TASK-17: off by default (accessLogFile ""); the Telemetry API turns it on: one line per proxy, the same x-request-id, Istio\'s fields', async () => {
  const before = await curl(418);
  await applyAndSync(mesh, () => files.applyText(meshDefault(), 'mesh-default'), 'Telemetry mesh-default (envoy provider)');
  const probe = await curl(418);
  const client = parseText(await lineOf(sleep, probe));
  const server = parseText(await lineOf(httpbin, probe));
  // The later request is in both logs: the earlier one, sent while logs were off, is in neither.
  assert.equal(await logged(sleep, before), false, 'nothing logged on the client side before the Telemetry');
  assert.equal(await logged(httpbin, before), false, 'nothing logged on the server side before the Telemetry');
  for (const l of [client, server]) {
    assert.equal(l.method, 'GET');
    assert.equal(l.path, `/status/418?probe=${probe}`);
    assert.equal(l.protocol, 'HTTP/1.1');
    assert.equal(l.code, 418);
    assert.equal(l.flags, '-');
    assert.equal(l.details, 'via_upstream');
    assert.equal(l.authority, 'httpbin:8000');
  }
  assert.match(client.requestId, /^[0-9a-f-]{36}$/);
  assert.equal(server.requestId, client.requestId, 'both sides log the same x-request-id');
  assert.equal(client.upstreamCluster, CLIENT_CLUSTER);
  assert.equal(client.upstreamHost, `${httpbin.ip}:8080`);
  assert.equal(server.upstreamCluster, 'inbound|8080||');
  assert.equal(server.requestedServerName, SERVER_SNI);
});

test('filter.expression: not CEL is refused with its position; CEL outside the subset is warned about with its position', async () => {
  const out = mesh.output.length;
  files.applyText(meshDefault('response.code >='), 'mesh-default');
  const rejected = await mesh.waitForOutput(/mesh-default\.yaml:\d+:\d+: error: .*filter\.expression.*valid CEL expression/);
  assert.match(rejected, /telemetry\.istio-system\.mesh-default\.yaml:12:19: error:/);
  await mesh.waitForOutput(/the new configuration has errors; the last good configuration keeps serving/);
  // The last good configuration still logs.
  const probe = await curl(200);
  await lineOf(sleep, probe);
  await applyAndSync(mesh, () => files.applyText(meshDefault('response.code + 0 >= 400'), 'mesh-default'), 'a filter outside the subset');
  const warned = mesh.output.slice(out).find((l) => /warning: .*character 1 of the filter: arithmetic \(\+\) is not evaluated by Strait/.test(l));
  assert.ok(warned, 'the unsupported part is warned about');
  assert.match(warned, /telemetry\.istio-system\.mesh-default\.yaml:12:19: warning:/);
});

test('filter.expression response.code >= 400: only failing requests are logged, on both sides', async () => {
  await applyAndSync(mesh, () => files.applyText(meshDefault('response.code >= 400'), 'mesh-default'), 'the response.code >= 400 filter');
  const ok = await curl(200);
  const teapot = await curl(418);
  const client = parseText(await lineOf(sleep, teapot));
  const server = parseText(await lineOf(httpbin, teapot));
  assert.equal(client.code, 418);
  assert.equal(server.requestId, client.requestId);
  assert.equal(await logged(sleep, ok), false, 'the 200 is not logged by sleep');
  assert.equal(await logged(httpbin, ok), false, 'the 200 is not logged by httpbin');
});

test('disabled: true for httpbin: its proxy logs nothing while sleep\'s still does', async () => {
  await applyAndSync(mesh, () => files.applyText(HTTPBIN_OFF, 'httpbin-logs-off'), 'Telemetry httpbin-logs-off');
  const quiet = await curl(418);
  assert.equal(parseText(await lineOf(sleep, quiet)).code, 418);
  // Turn httpbin's log back on and send another request: once it is logged, the quiet one would be too.
  await applyAndSync(mesh, () => files.deleteText(HTTPBIN_OFF), 'deleting httpbin-logs-off');
  const loud = await curl(418);
  await lineOf(httpbin, loud);
  assert.equal(await logged(httpbin, quiet), false, 'httpbin did not log while disabled');
});

test('accessLogEncoding JSON: the envoy provider writes Istio\'s JSON keys on both sides, the same request_id, flags "-", via_upstream', async () => {
  await applyAndSync(mesh, () => files.applyText(meshConfig('accessLogFile: ""\naccessLogEncoding: JSON'), 'mesh config, JSON'), 'accessLogEncoding JSON');
  const probe = await curl(418);
  const client = JSON.parse(await lineOf(sleep, probe)) as Record<string, unknown>;
  const server = JSON.parse(await lineOf(httpbin, probe)) as Record<string, unknown>;
  for (const l of [client, server]) {
    assert.deepEqual(Object.keys(l).sort(), Object.keys(ISTIO_JSON_FORMAT).sort());
    assert.equal(l.response_code, 418);
    assert.equal(l.response_flags, '-');
    assert.equal(l.response_code_details, 'via_upstream');
    assert.equal(l.path, `/status/418?probe=${probe}`);
    assert.equal(l.user_agent, 'curl/8.5.0');
  }
  assert.equal(server.request_id, client.request_id);
  assert.equal(client.upstream_cluster, CLIENT_CLUSTER);
  assert.equal(server.upstream_cluster, 'inbound|8080||');
  assert.equal(server.requested_server_name, SERVER_SNI);
});
