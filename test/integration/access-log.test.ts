// Access logs through real proxies on loopback (§2.10, TEL-04), with Istio's JSON labels:
// a client-side proxy (a sidecar's outbound listener) in front of a server-side proxy (an
// inbound listener) in front of a real upstream, so one request leaves a line on each side.
//
// - Both lines carry the same x-request-id, the code, flags "-" (a string, as Envoy writes
//   %RESPONSE_FLAGS%), and response_code_details via_upstream.
// - Every local reply (no route, direct response, unknown cluster, connection failure, timeout,
//   a malformed request, the client going away) fills response_flags and response_code_details:
//   never "-"/null for details.
// - A CEL filter (Telemetry filter.expression) logs only the requests it selects.
// - A TCP proxy logs its connections, with flags filled.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { ISTIO_JSON_FORMAT } from '../../src/telemetry/access-log/format.js';
import { MemorySink } from '../../src/telemetry/access-log/sink.js';
import { CEL_ACCESS_LOG_FILTER, CEL_EXPRESSION_FILTER_TYPE, FILE_ACCESS_LOG_TYPE, TCP_PROXY_TYPE } from '../../src/xds/resources.js';
import type { AccessLog, AccessLogFilter, Route, TypedConfig } from '../../src/xds/resources.js';
import { eventually, request, startUpstream } from '../helpers/http.js';
import type { TestUpstream } from '../helpers/http.js';
import { rawExchange } from '../helpers/raw-http.js';
import { httpChain, loopbackListener, startStaticProxy, staticCluster } from '../helpers/proxy.js';
import type { RunningProxy } from '../helpers/proxy.js';

const jsonLog = (filter?: AccessLogFilter): AccessLog => ({
  name: 'envoy.access_loggers.file',
  ...(filter ? { filter } : {}),
  typedConfig: { '@type': FILE_ACCESS_LOG_TYPE, path: '/dev/stdout', logFormat: { jsonFormat: ISTIO_JSON_FORMAT } },
});
const cel = (expression: string): AccessLogFilter => ({ extensionFilter: { name: CEL_ACCESS_LOG_FILTER, typedConfig: { '@type': CEL_EXPRESSION_FILTER_TYPE, expression } } });

let upstream: TestUpstream;
let server: RunningProxy;
let client: RunningProxy;
let deadPort: number;
const serverLog = new MemorySink();
const clientLog = new MemorySink();
const failingOnly = new MemorySink();
const tcpLog = new MemorySink();

type Line = Record<string, unknown>;
const parse = (sink: MemorySink): Line[] => sink.lines.map((l) => JSON.parse(l) as Line);

before(async () => {
  upstream = await startUpstream((r, res) => {
    const delay = Number(/ms=(\d+)/.exec(r.url)?.[1] ?? 0);
    setTimeout(() => {
      if (res.destroyed) return;
      res.writeHead(Number(/status\/(\d+)/.exec(r.url)?.[1] ?? 200), { 'content-type': 'text/plain' });
      res.end('teapot');
    }, delay);
  });
  // A port nobody listens on: connections are refused (UF).
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  deadPort = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));

  // The server side: an inbound listener to the workload.
  server = await startStaticProxy([loopbackListener('inbound', [httpChain('inbound_0.0.0.0_80', [{ name: 'default', match: { prefix: '/' }, route: { cluster: 'inbound|80||', timeout: '0s' } }], { accessLog: [jsonLog()] })])], [staticCluster('inbound|80||', upstream.port)]);
  const routes: Route[] = [
    { name: 'httpbin', match: { prefix: '/status/' }, route: { cluster: 'outbound|8000||httpbin', timeout: '0s' } },
    { name: 'slow', match: { prefix: '/slow' }, route: { cluster: 'outbound|8000||httpbin', timeout: '0.05s' } },
    { name: 'direct', match: { prefix: '/direct' }, directResponse: { status: 200, body: { inlineString: 'hi' } } },
    { name: 'dead', match: { prefix: '/dead' }, route: { cluster: 'dead', timeout: '0s' } },
    { name: 'missing', match: { prefix: '/missing' }, route: { cluster: 'no-such-cluster', timeout: '0s' } },
  ];
  // The client side: useRemoteAddress false and generated request ids, as a sidecar's outbound listener.
  const tcp = { '@type': TCP_PROXY_TYPE, statPrefix: 'tcp', cluster: 'dead', accessLog: [jsonLog()] } as unknown as TypedConfig;
  client = await startStaticProxy(
    [
      loopbackListener('outbound', [httpChain('outbound_0.0.0.0_15001', routes, { accessLog: [jsonLog(), jsonLog(cel('response.code >= 400'))] })]),
      loopbackListener('tcp', [{ filters: [{ name: 'envoy.filters.network.tcp_proxy', typedConfig: tcp }] }]),
    ],
    [staticCluster('outbound|8000||httpbin', server.port(), {}), staticCluster('dead', deadPort, { connectTimeout: '0.5s' })],
  );
  for (const l of server.proxy.listeners.list()) for (const a of l.manager!.config.accessLogs) a.sink = serverLog;
  for (const l of client.proxy.listeners.list()) {
    if (l.manager) l.manager.config.accessLogs.forEach((a, i) => (a.sink = i === 0 ? clientLog : failingOnly));
  }
  // The TCP listener's logs hang off its chain's tcp_proxy config.
  for (const l of client.proxy.listeners.list()) {
    for (const c of l.chains) if (c.spec.network.kind === 'tcp') for (const a of c.spec.network.tcp.accessLogs) a.sink = tcpLog;
  }
});

after(async () => {
  await client?.stop();
  await server?.stop();
  await upstream?.close();
});

test('one request, a line on each side: the same x-request-id, the code, flags "-", details via_upstream, Istio\'s JSON keys', async () => {
  const before = { c: clientLog.lines.length, s: serverLog.lines.length };
  const res = await request(`http://127.0.0.1:${client.port('outbound')}`, { path: '/status/418', headers: { host: 'httpbin:8000', 'user-agent': 'curl/8.5.0' } });
  assert.equal(res.status, 418);
  await eventually(() => clientLog.lines.length > before.c && serverLog.lines.length > before.s, 'a line on both sides');
  const c = parse(clientLog).at(-1)!;
  const s = parse(serverLog).at(-1)!;
  assert.deepEqual(Object.keys(c).sort(), Object.keys(ISTIO_JSON_FORMAT).sort());
  for (const line of [c, s]) {
    assert.equal(line.response_code, 418);
    assert.equal(line.response_flags, '-');
    assert.equal(line.response_code_details, 'via_upstream');
    assert.equal(line.method, 'GET');
    assert.equal(line.path, '/status/418');
    assert.equal(line.user_agent, 'curl/8.5.0');
  }
  assert.match(String(c.request_id), /^[0-9a-f-]{36}$/);
  assert.equal(s.request_id, c.request_id, 'both sides log the x-request-id the client side generated');
  assert.equal(c.upstream_cluster, 'outbound|8000||httpbin');
  assert.equal(s.upstream_cluster, 'inbound|80||');
  assert.equal(c.route_name, 'httpbin');
});

test('local replies always fill response_flags and response_code_details', async () => {
  const base = `http://127.0.0.1:${client.port('outbound')}`;
  const cases: [string, number, string, RegExp][] = [
    ['/nowhere', 404, 'NR', /^route_not_found$/],
    ['/direct', 200, '-', /^direct_response$/],
    ['/dead', 503, 'UF', /^upstream_reset_before_response_started\{/],
    ['/missing', 503, 'NC', /^cluster_not_found$/],
    ['/slow?ms=2000', 504, 'UT', /^response_timeout$/],
  ];
  for (const [path, code, flags, details] of cases) {
    const before = clientLog.lines.length;
    const res = await request(base, { path, headers: { host: 'httpbin:8000' } });
    assert.equal(res.status, code, path);
    await eventually(() => clientLog.lines.length > before, `the log line of ${path}`);
    const line = parse(clientLog).at(-1)!;
    assert.equal(line.response_code, code, path);
    assert.equal(line.response_flags, flags, path);
    assert.match(String(line.response_code_details), details, path);
  }
  // A request the codec refuses (client-error.ts) is logged with its details too.
  const before = clientLog.lines.length;
  const raw = await rawExchange(client.port('outbound'), Buffer.from('GET / HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n', 'latin1'));
  assert.equal(raw.status, 400);
  await eventually(() => clientLog.lines.length > before, 'the log line of the malformed request');
  const bad = parse(clientLog).at(-1)!;
  assert.equal(bad.response_code, 400);
  assert.notEqual(bad.response_code_details, null);
  assert.notEqual(bad.response_code_details, '-');
});

test('the client going away before the response: DC with downstream_remote_disconnect', async () => {
  const before = clientLog.lines.length;
  const socket = net.connect(client.port('outbound'), '127.0.0.1');
  await new Promise<void>((r) => socket.once('connect', () => r()));
  socket.write('GET /status/200?ms=300 HTTP/1.1\r\nHost: httpbin:8000\r\n\r\n');
  await new Promise((r) => setTimeout(r, 50));
  socket.destroy();
  await eventually(() => parse(clientLog).slice(before).some((l) => l.path === '/status/200?ms=300'), 'the log line of the abandoned request');
  const line = parse(clientLog).slice(before).find((l) => l.path === '/status/200?ms=300')!;
  assert.match(String(line.response_flags), /DC/);
  assert.equal(line.response_code_details, 'downstream_remote_disconnect');
});

test('a CEL filter (response.code >= 400) logs only failing requests', async () => {
  const base = `http://127.0.0.1:${client.port('outbound')}`;
  const all = clientLog.lines.length;
  const failing = failingOnly.lines.length;
  for (const path of ['/status/200', '/status/503', '/status/204', '/status/404', '/nowhere']) await request(base, { path, headers: { host: 'httpbin:8000' } });
  await eventually(() => clientLog.lines.length >= all + 5, 'every request in the unfiltered log');
  await eventually(() => failingOnly.lines.length >= failing + 3, 'the failing requests in the filtered log');
  assert.deepEqual(parse(failingOnly).slice(failing).map((l) => `${l.response_code} ${l.path}`), ['503 /status/503', '404 /status/404', '404 /nowhere']);
});

test('a TCP proxy logs its connections with flags filled', async () => {
  const before = tcpLog.lines.length;
  const s = net.connect(client.port('tcp'), '127.0.0.1');
  await new Promise<void>((resolve) => s.on('close', () => resolve()).on('error', () => undefined));
  await eventually(() => tcpLog.lines.length > before, 'the TCP log line');
  const line = parse(tcpLog).at(-1)!;
  assert.equal(line.response_flags, 'UF');
  assert.equal(line.upstream_cluster, 'dead');
});
