// The access logs the generators write on every HTTP connection manager and TCP proxy (TEL-04,
// §2.10, TASK-17), as Istio's AccessLogBuilder does: MeshConfig alone (accessLogFile, Strait's
// default /dev/stdout; accessLogEncoding TEXT/JSON; accessLogFormat), or the Telemetry API
// (the built-in envoy provider, envoyFileAccessLog providers, filter.expression as Envoy's CEL
// filter, disabled per workload, match.mode CLIENT = sidecar outbound and gateways, SERVER =
// sidecar inbound); and the result survives the protobuf encoding of the gRPC ADS stream.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ISTIO_JSON_FORMAT, ISTIO_TEXT_FORMAT } from '../../src/telemetry/access-log/format.js';
import { decodeResource, encodeResource } from '../../src/xds/codec.js';
import { CEL_ACCESS_LOG_FILTER, CEL_EXPRESSION_FILTER_TYPE, FILE_ACCESS_LOG_TYPE, HCM_FILTER_NAME, TCP_PROXY_FILTER_NAME, TYPE_URL } from '../../src/xds/resources.js';
import type { AccessLog, Listener } from '../../src/xds/resources.js';
import type { ProxyResources } from '../../src/controlplane/generate/generate.js';
import { GATEWAY_POD, pod, resourcesFor, yaml } from './mesh.js';
import { DEFAULT_MESH_CONFIG } from '../../src/controlplane/model/mesh-snapshot.js';
import type { Workload } from '../../src/registry/registry.js';

const SERVICES = yaml`
  apiVersion: v1
  kind: Service
  metadata: { name: httpbin, namespace: default }
  spec: { selector: { app: httpbin }, ports: [{ name: http, port: 8000, targetPort: 80 }, { name: tcp-echo, port: 9000 }] }
  ---
  apiVersion: v1
  kind: Service
  metadata: { name: sleep, namespace: default }
  spec: { selector: { app: sleep }, ports: [{ name: http, port: 80 }] }
  ---
  apiVersion: networking.istio.io/v1
  kind: Gateway
  metadata: { name: gw, namespace: default }
  spec:
    selector: { istio: ingressgateway }
    servers:
    - { port: { number: 80, name: http, protocol: HTTP }, hosts: ["*"] }
    - { port: { number: 31400, name: tcp, protocol: TCP }, hosts: ["*"] }
  ---
  apiVersion: networking.istio.io/v1
  kind: VirtualService
  metadata: { name: httpbin, namespace: default }
  spec:
    hosts: ["*"]
    gateways: [gw]
    http: [{ route: [{ destination: { host: httpbin, port: { number: 8000 } } }] }]
    tcp: [{ match: [{ port: 31400 }], route: [{ destination: { host: httpbin, port: { number: 9000 } } }] }]
  ---
`;

const HTTPBIN = pod('httpbin-0', 'default', '127.0.3.2', { labels: { app: 'httpbin', version: 'v1' }, ports: [{ port: 80, name: 'http' }, { port: 9000, name: 'tcp-echo' }] });
const SLEEP = pod('sleep-0', 'default', '127.0.3.3', { labels: { app: 'sleep' }, ports: [{ port: 80, name: 'http' }] });
const PODS = [HTTPBIN, SLEEP];

const meshConfig = (mesh: string) => `apiVersion: v1
kind: ConfigMap
metadata: { name: istio, namespace: istio-system }
data:
  mesh: |-
${mesh.split('\n').map((l) => `    ${l}`).join('\n')}
---
`;

const telemetry = (name: string, namespace: string, spec: string) => `apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: ${name}, namespace: ${namespace} }
spec:
${spec.split('\n').map((l) => `  ${l}`).join('\n')}
---
`;

type Side = 'inbound-http' | 'inbound-tcp' | 'outbound-http' | 'outbound-tcp' | 'gateway-http' | 'gateway-tcp';

/** The access logs of one kind of chain, read from the HCM or the tcp_proxy. */
function logsOf(res: ProxyResources, side: Side): AccessLog[] | undefined {
  const listener = (l: Listener | undefined) => {
    assert.ok(l, `a listener for ${side}`);
    return l;
  };
  let l: Listener;
  let chain = 0;
  switch (side) {
    case 'inbound-http':
      l = listener(res.listeners.find((x) => x.name === 'inbound_0.0.0.0_80'));
      break;
    case 'inbound-tcp':
      l = listener(res.listeners.find((x) => x.name === 'inbound_0.0.0.0_9000'));
      break;
    case 'outbound-http':
      l = listener(res.listeners.find((x) => x.name === 'virtualOutbound'));
      break;
    case 'outbound-tcp':
      l = listener(res.listeners.find((x) => x.name === 'virtualOutbound'));
      chain = l.filterChains.findIndex((c) => c.name?.startsWith('outbound_tcp_9000_'));
      break;
    case 'gateway-http':
      l = listener(res.listeners.find((x) => x.address.socketAddress.portValue === 8080));
      break;
    case 'gateway-tcp':
      l = listener(res.listeners.find((x) => x.address.socketAddress.portValue === 31400));
      break;
  }
  const filters = l.filterChains[chain]!.filters;
  const hcm = filters.find((f) => f.name === HCM_FILTER_NAME);
  const tcp = filters.find((f) => f.name === TCP_PROXY_FILTER_NAME);
  const cfg = (hcm ?? tcp)!.typedConfig as { accessLog?: AccessLog[] };
  return cfg.accessLog;
}

const ALL_SIDES: readonly Side[] = ['inbound-http', 'inbound-tcp', 'outbound-http', 'outbound-tcp', 'gateway-http', 'gateway-tcp'];

/** Every side's logs, for the sidecar of `w` (inbound/outbound) and the gateway. */
function everySide(manifests: string): Record<Side, AccessLog[] | undefined> {
  const input = { manifests: SERVICES + manifests, pods: PODS };
  const httpbin = resourcesFor(input, HTTPBIN);
  const sleep = resourcesFor(input, SLEEP);
  const gateway = resourcesFor(input, GATEWAY_POD);
  const byProxy = (side: Side): ProxyResources => (side.startsWith('inbound') ? httpbin : side.startsWith('outbound') ? sleep : gateway);
  return Object.fromEntries(ALL_SIDES.map((s) => [s, logsOf(byProxy(s), s)])) as Record<Side, AccessLog[] | undefined>;
}

const fileLog = (format: Record<string, unknown>, path = '/dev/stdout', extra: Partial<AccessLog> = {}): AccessLog => ({
  name: 'envoy.access_loggers.file',
  ...extra,
  typedConfig: { '@type': FILE_ACCESS_LOG_TYPE, path, logFormat: format },
});
const TEXT = { textFormatSource: { inlineString: ISTIO_TEXT_FORMAT } };
const JSON_LABELS = { jsonFormat: ISTIO_JSON_FORMAT };
const cel = (expression: string) => ({ filter: { extensionFilter: { name: CEL_ACCESS_LOG_FILTER, typedConfig: { '@type': CEL_EXPRESSION_FILTER_TYPE, expression } } } });

function assertSides(got: Record<Side, AccessLog[] | undefined>, expected: Partial<Record<Side, AccessLog[] | undefined>>, what: string): void {
  for (const side of ALL_SIDES) if (side in expected) assert.deepEqual(got[side], expected[side], `${what}: ${side}`);
}

test("MeshConfig alone: Strait's default /dev/stdout with Istio's text format on every HTTP and TCP chain; '' turns it off", () => {
  const on = everySide('');
  assertSides(on, Object.fromEntries(ALL_SIDES.map((s) => [s, [fileLog(TEXT)]])), 'default');
  const off = everySide(meshConfig('accessLogFile: ""'));
  assertSides(off, Object.fromEntries(ALL_SIDES.map((s) => [s, undefined])), "accessLogFile ''");
});

test('MeshConfig: accessLogEncoding JSON gives Istio\'s JSON labels; accessLogFormat replaces the text format or the labels', () => {
  assertSides(everySide(meshConfig('accessLogFile: /tmp/mesh.log\naccessLogEncoding: JSON')), { 'inbound-http': [fileLog(JSON_LABELS, '/tmp/mesh.log')], 'gateway-tcp': [fileLog(JSON_LABELS, '/tmp/mesh.log')] }, 'JSON');
  const labels = everySide(meshConfig(`accessLogFile: /dev/stdout\naccessLogEncoding: JSON\naccessLogFormat: '{"code": "%RESPONSE_CODE%", "id": "%REQ(X-REQUEST-ID)%"}'`));
  assertSides(labels, { 'outbound-http': [fileLog({ jsonFormat: { code: '%RESPONSE_CODE%', id: '%REQ(X-REQUEST-ID)%' } })] }, 'JSON labels');
  // A text format gets Istio's newline; one Strait cannot write falls back to Istio's (warned at load).
  assertSides(everySide(meshConfig('accessLogFormat: "%RESPONSE_CODE% %REQ(:PATH)%"')), { 'inbound-tcp': [fileLog({ textFormatSource: { inlineString: '%RESPONSE_CODE% %REQ(:PATH)%\n' } })] }, 'text');
  assertSides(everySide(meshConfig('accessLogFormat: "%NOT_A_COMMAND%"')), { 'inbound-http': [fileLog(TEXT)] }, 'unknown command');
  // Broken JSON: Istio's default labels, as Istio does.
  assertSides(everySide(meshConfig('accessLogEncoding: JSON\naccessLogFormat: "not json"')), { 'inbound-http': [fileLog(JSON_LABELS)] }, 'bad JSON');
});

test("TASK-17: a mesh-wide Telemetry with the built-in envoy provider turns logs on for every side when the mesh config has none; the built-in provider follows the mesh's encoding", () => {
  const mesh = telemetry('mesh-default', 'istio-system', 'accessLogging:\n- providers:\n  - name: envoy');
  assertSides(everySide(meshConfig('accessLogFile: ""') + mesh), Object.fromEntries(ALL_SIDES.map((s) => [s, [fileLog(TEXT)]])), 'envoy provider');
  assertSides(everySide(meshConfig('accessLogFile: ""\naccessLogEncoding: JSON') + mesh), Object.fromEntries(ALL_SIDES.map((s) => [s, [fileLog(JSON_LABELS)]])), 'envoy provider, JSON');
});

test('MeshConfig defaultProviders.accessLogging stands for a mesh-wide Telemetry; a Telemetry naming no provider inherits them', () => {
  const defaults = meshConfig('accessLogFile: ""\ndefaultProviders:\n  accessLogging: [envoy]');
  assertSides(everySide(defaults), Object.fromEntries(ALL_SIDES.map((s) => [s, [fileLog(TEXT)]])), 'defaultProviders');
  // Istio keeps a filter only for the providers its own entry names: here none, so no filter (warned at load).
  const unnamed = everySide(defaults + telemetry('ns', 'default', 'accessLogging:\n- filter: {expression: "response.code >= 500"}'));
  assertSides(unnamed, { 'inbound-http': [fileLog(TEXT)], 'gateway-http': [fileLog(TEXT)] }, 'a filter without providers');
  const named = everySide(defaults + telemetry('ns', 'default', 'accessLogging:\n- providers: [{name: envoy}]\n  filter: {expression: "response.code >= 500"}'));
  assertSides(named, { 'inbound-http': [fileLog(TEXT, '/dev/stdout', cel('response.code >= 500'))], 'gateway-http': [fileLog(TEXT)] }, 'a filter with its provider');
});

test('filter.expression becomes Envoy\'s CEL extension filter on every log of the workloads it covers', () => {
  const got = everySide(meshConfig('accessLogFile: ""') + telemetry('mesh-default', 'istio-system', 'accessLogging:\n- providers: [{name: envoy}]\n  filter:\n    expression: response.code >= 400'));
  assertSides(got, Object.fromEntries(ALL_SIDES.map((s) => [s, [fileLog(TEXT, '/dev/stdout', cel('response.code >= 400'))]])), 'filter');
});

test('disabled: true turns one workload off; the namespace and mesh Telemetries still log the others', () => {
  const manifests =
    meshConfig('accessLogFile: ""') +
    telemetry('mesh-default', 'istio-system', 'accessLogging:\n- providers: [{name: envoy}]') +
    telemetry('httpbin-quiet', 'default', 'selector: {matchLabels: {app: httpbin}}\naccessLogging:\n- disabled: true');
  assertSides(everySide(manifests), { 'inbound-http': undefined, 'inbound-tcp': undefined, 'outbound-http': [fileLog(TEXT)], 'gateway-http': [fileLog(TEXT)] }, 'disabled');
});

test('match.mode: SERVER logs sidecar inbound only; CLIENT logs sidecar outbound and the gateway (Istio treats gateways as clients)', () => {
  const server = everySide(meshConfig('accessLogFile: ""') + telemetry('mesh-default', 'istio-system', 'accessLogging:\n- providers: [{name: envoy}]\n  match: {mode: SERVER}'));
  assertSides(server, { 'inbound-http': [fileLog(TEXT)], 'inbound-tcp': [fileLog(TEXT)], 'outbound-http': undefined, 'outbound-tcp': undefined, 'gateway-http': undefined, 'gateway-tcp': undefined }, 'SERVER');
  const client = everySide(meshConfig('accessLogFile: ""') + telemetry('mesh-default', 'istio-system', 'accessLogging:\n- providers: [{name: envoy}]\n  match: {mode: CLIENT}'));
  assertSides(client, { 'inbound-http': undefined, 'inbound-tcp': undefined, 'outbound-http': [fileLog(TEXT)], 'outbound-tcp': [fileLog(TEXT)], 'gateway-http': [fileLog(TEXT)], 'gateway-tcp': [fileLog(TEXT)] }, 'CLIENT');
  // Server-side disabled over a mesh-wide log: the client side keeps logging (TASK-17's per-side control).
  const mixed = everySide(
    meshConfig('accessLogFile: ""') +
      telemetry('mesh-default', 'istio-system', 'accessLogging:\n- providers: [{name: envoy}]') +
      telemetry('httpbin-server-off', 'default', 'selector: {matchLabels: {app: httpbin}}\naccessLogging:\n- match: {mode: SERVER}\n  disabled: true'),
  );
  assertSides(mixed, { 'inbound-http': undefined, 'outbound-http': [fileLog(TEXT)] }, 'SERVER disabled');
});

test('envoyFileAccessLog providers: path, text format with a newline, JSON labels ({} = Istio\'s), omitEmptyValues; other kinds write nothing', () => {
  const mesh = meshConfig(`accessLogFile: ""
extensionProviders:
- name: text-file
  envoyFileAccessLog:
    path: /tmp/text.log
    logFormat: {text: "%RESPONSE_CODE% %REQ(X-REQUEST-ID)%"}
- name: json
  envoyFileAccessLog:
    logFormat: {labels: {code: "%RESPONSE_CODE%", flags: "%RESPONSE_FLAGS%"}}
    omitEmptyValues: true
- name: istio-json
  envoyFileAccessLog: {logFormat: {labels: {}}}
- name: otel-logs
  envoyOtelAls: {service: otel.istio-system.svc.cluster.local, port: 4317}`);
  const t = telemetry('mesh-default', 'istio-system', 'accessLogging:\n- providers: [{name: text-file}, {name: json}, {name: istio-json}, {name: otel-logs}]\n  filter: {expression: "response.code >= 500"}');
  const got = everySide(mesh + t);
  const f = cel('response.code >= 500');
  assertSides(
    got,
    {
      'inbound-http': [
        fileLog({ textFormatSource: { inlineString: '%RESPONSE_CODE% %REQ(X-REQUEST-ID)%\n' } }, '/tmp/text.log', f),
        fileLog({ jsonFormat: { code: '%RESPONSE_CODE%', flags: '%RESPONSE_FLAGS%' }, omitEmptyValues: true }, '/dev/stdout', f),
        fileLog(JSON_LABELS, '/dev/stdout', f),
      ],
    },
    'providers',
  );
});

test('the generated access logs (filter, JSON labels) survive the ADS protobuf encoding', () => {
  const input = {
    manifests: SERVICES + meshConfig('accessLogFile: ""\naccessLogEncoding: JSON') + telemetry('mesh-default', 'istio-system', "accessLogging:\n- providers: [{name: envoy}]\n  filter: {expression: \"response.code >= 400 || request.headers['x-debug'] == '1'\"}"),
    pods: PODS,
  } as const;
  for (const w of [HTTPBIN, SLEEP, GATEWAY_POD] as Workload[]) {
    const res = resourcesFor(input, w);
    for (const l of res.listeners) assert.deepEqual(decodeResource<Listener>(encodeResource(TYPE_URL.listener, l)), l, `${w.name} ${l.name}`);
  }
});

test("mesh mTLS clients send Istio's SNI (outbound_.<port>_.<subset>_.<host>), which servers log as %REQUESTED_SERVER_NAME% (TASK-17)", () => {
  const res = resourcesFor({ manifests: SERVICES, pods: PODS, mesh: { ...DEFAULT_MESH_CONFIG, meshMtls: true } }, SLEEP);
  const c = res.clusters.find((x) => x.name === 'outbound|8000||httpbin.default.svc.cluster.local');
  assert.ok(c, 'the httpbin cluster');
  const ts = c.transportSocketMatches?.find((m) => m.name === 'tlsMode-istio')?.transportSocket ?? c.transportSocket;
  assert.equal((ts?.typedConfig as { sni?: string } | undefined)?.sni, 'outbound_.8000_._.httpbin.default.svc.cluster.local');
});
