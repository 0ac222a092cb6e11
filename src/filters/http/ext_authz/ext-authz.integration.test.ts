// ext_authz through a real proxy listener, a real authorization server and a real upstream,
// configured exactly as the control plane configures Istio's CUSTOM action (the istio.io
// ext-authz task: provider `sample-ext-authz-http`, allow when `x-ext-authz: allow`): the CUSTOM
// RBAC shadow rule selects the requests, ext_authz asks the server, and what the client and the
// workload see follows the server's answer. Also: a server that never answers (timeout →
// status_on_error), one that is down, fail-open, a route with ExtAuthzPerRoute disabled, stats.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { EnvoyExtAuthzHttpProvider } from '../../../config/types.js';
import { customHttpFilters } from '../../../controlplane/generate/security/ext-authz.js';
import { ROUTER_FILTER_NAME, ROUTER_TYPE } from '../../../xds/resources.js';
import type { Route } from '../../../xds/resources.js';
import { request, startUpstream } from '../../../../test/helpers/http.js';
import type { RecordedRequest, TestUpstream } from '../../../../test/helpers/http.js';
import { httpChain, loopbackListener, startStaticProxy, staticCluster } from '../../../../test/helpers/proxy.js';
import type { RunningProxy } from '../../../../test/helpers/proxy.js';
import { EXT_AUTHZ_FILTER_NAME, EXT_AUTHZ_PER_ROUTE_TYPE_URL } from './config.js';

const SERVICE = 'ext-authz.foo.svc.cluster.local';

function provider(port: number, extra: Partial<EnvoyExtAuthzHttpProvider> = {}): EnvoyExtAuthzHttpProvider {
  return {
    service: SERVICE,
    port,
    failOpen: false,
    clearRouteCache: false,
    includeRequestHeadersInCheck: ['x-ext-authz'],
    includeAdditionalHeadersInCheck: { 'x-ext-authz-additional-header-override': 'from-proxy' },
    headersToUpstreamOnAllow: ['x-ext-authz-check-result'],
    headersToDownstreamOnDeny: ['x-ext-authz-check-result'],
    headersToDownstreamOnAllow: [],
    ...extra,
  };
}

/** [RBAC (CUSTOM shadow), ext_authz, router] for a CUSTOM policy on `/headers` and `/open/*`. */
function filters(p: EnvoyExtAuthzHttpProvider) {
  const custom = customHttpFilters([{ name: 'ext-authz', namespace: 'foo', action: 'CUSTOM', provider: 'sample-ext-authz-http', dryRun: false, rules: [{ to: [{ operation: { paths: ['/headers', '/open/*'] } }] }] }], {
    providers: [{ name: 'sample-ext-authz-http', type: 'envoyExtAuthzHttp', envoyExtAuthzHttp: p, path: [] }],
    lookup: (s) => ({ hostname: s }),
    trustDomains: ['cluster.local'],
  });
  return [...custom, { name: ROUTER_FILTER_NAME, typedConfig: { '@type': ROUTER_TYPE } }];
}

const routes: Route[] = [
  { name: 'open', match: { prefix: '/open/' }, route: { cluster: 'app', timeout: '0s' }, typedPerFilterConfig: { [EXT_AUTHZ_FILTER_NAME]: { '@type': EXT_AUTHZ_PER_ROUTE_TYPE_URL, disabled: true } } },
  { name: 'app', match: { prefix: '/' }, route: { cluster: 'app', timeout: '0s' } },
];

let app: TestUpstream;
let authz: TestUpstream;
let hanging: net.Server;
const hangingSockets = new Set<net.Socket>();
let closedPort: number;
let proxy: RunningProxy;

before(async () => {
  app = await startUpstream();
  // Istio's sample ext-authz server: allow when `x-ext-authz: allow`.
  authz = await startUpstream((r: RecordedRequest, res) => {
    if (r.headers['x-ext-authz'] === 'allow') {
      res.writeHead(200, { 'x-ext-authz-check-result': 'allowed', 'x-not-forwarded': 'x' });
      res.end();
      return;
    }
    res.writeHead(403, { 'x-ext-authz-check-result': 'denied', 'content-type': 'text/plain', 'x-not-forwarded': 'x' });
    res.end('denied by ext_authz for not found header `x-ext-authz: allow` in the request');
  });
  hanging = net.createServer((s) => {
    hangingSockets.add(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', r));
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  closedPort = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const hangingPort = (hanging.address() as net.AddressInfo).port;
  const timeout = { ms: 300, text: '300ms' };
  proxy = await startStaticProxy(
    [
      loopbackListener('custom', [httpChain('inbound_0.0.0.0_8000', routes, { httpFilters: filters(provider(8000)) })]),
      loopbackListener('hanging', [httpChain('hanging', routes, { httpFilters: filters(provider(8001, { timeout })) })]),
      loopbackListener('down', [httpChain('down', routes, { httpFilters: filters(provider(8002)) })]),
      loopbackListener('fail-open', [httpChain('fail_open', routes, { httpFilters: filters(provider(8001, { timeout, failOpen: true })) })]),
    ],
    [
      staticCluster('app', app.port),
      staticCluster(`outbound|8000||${SERVICE}`, authz.port),
      staticCluster(`outbound|8001||${SERVICE}`, hangingPort),
      staticCluster(`outbound|8002||${SERVICE}`, closedPort),
    ],
  );
});

after(async () => {
  await proxy.stop();
  for (const s of hangingSockets) s.destroy();
  await new Promise<void>((r) => hanging.close(() => r()));
  await app.close();
  await authz.close();
});

const url = (listener: string, path: string) => `http://127.0.0.1:${proxy.port(listener)}${path}`;

test('x-ext-authz: allow → 200; the server saw the original method and path, the allowed header and the added one; the workload gets the allowed result header', async () => {
  const before = authz.requests.length;
  const r = await request(url('custom', '/headers?x=1'), { method: 'POST', body: 'payload', headers: { 'x-ext-authz': 'allow', cookie: 'secret=1' } });
  assert.equal(r.status, 200);
  const check = authz.requests[before]!;
  assert.equal(check.method, 'POST');
  assert.equal(check.url, '/headers?x=1');
  assert.equal(check.headers['x-ext-authz'], 'allow');
  assert.equal(check.headers['x-ext-authz-additional-header-override'], 'from-proxy');
  assert.equal(check.headers.cookie, undefined);
  assert.equal(check.headers['content-length'], '0');
  assert.equal(check.body, '');
  const seen = app.requests[app.requests.length - 1]!;
  assert.equal(seen.headers['x-ext-authz-check-result'], 'allowed');
  assert.equal(seen.headers['x-not-forwarded'], undefined);
  assert.equal(seen.body, 'payload');
});

test('no x-ext-authz → the server’s 403, its body and its allowed header reach the client; the workload never sees the request', async () => {
  const seen = app.requests.length;
  const r = await request(url('custom', '/headers'), { headers: { 'x-ext-authz': 'deny' } });
  assert.equal(r.status, 403);
  assert.equal(r.body, 'denied by ext_authz for not found header `x-ext-authz: allow` in the request');
  assert.equal(r.headers['x-ext-authz-check-result'], 'denied');
  assert.equal(r.headers['x-not-forwarded'], undefined);
  assert.equal(r.headers['x-strait-flags'], 'UAEX');
  assert.equal(r.headers['x-strait-details'], 'ext_authz_denied');
  assert.equal(app.requests.length, seen);
});

test('a path no CUSTOM rule selects is not checked at all', async () => {
  const checks = authz.requests.length;
  assert.equal((await request(url('custom', '/ip'))).status, 200);
  assert.equal(authz.requests.length, checks);
});

test('ExtAuthzPerRoute disabled: /open/* is selected by the rule but its route turns the check off', async () => {
  const checks = authz.requests.length;
  assert.equal((await request(url('custom', '/open/x'))).status, 200);
  assert.equal(authz.requests.length, checks);
});

test('a server that never answers: after server_uri.timeout, 403 with UAEX and ext_authz_error; fail-open lets it through', async () => {
  const r = await request(url('hanging', '/headers'), { headers: { 'x-ext-authz': 'allow' } });
  assert.equal(r.status, 403);
  assert.equal(r.headers['x-strait-flags'], 'UAEX');
  assert.equal(r.headers['x-strait-details'], 'ext_authz_error');
  assert.match(r.body, /no response within 300 ms/);
  const open = await request(url('fail-open', '/headers'));
  assert.equal(open.status, 200);
});

test('a server that is down: 403 ext_authz_error', async () => {
  const r = await request(url('down', '/headers'), { headers: { 'x-ext-authz': 'allow' } });
  assert.equal(r.status, 403);
  assert.equal(r.headers['x-strait-details'], 'ext_authz_error');
});

test('stats under http.<prefix>.ext_authz', () => {
  const text = proxy.proxy.stats.envoyText();
  const stat = (prefix: string, name: string) => text.split('\n').find((l) => l.startsWith(`http.${prefix}.ext_authz.${name}: `))?.split(': ')[1];
  assert.equal(stat('inbound_0.0.0.0_8000', 'ok'), '1');
  assert.equal(stat('inbound_0.0.0.0_8000', 'denied'), '1');
  assert.equal(stat('inbound_0.0.0.0_8000', 'disabled'), '1', '/ip: no CUSTOM rule matched');
  assert.equal(stat('hanging', 'error'), '1');
  assert.equal(stat('down', 'error'), '1');
  assert.equal(stat('fail_open', 'failure_mode_allowed'), '1');
});
