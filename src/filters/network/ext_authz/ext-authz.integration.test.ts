// Network ext_authz through a real proxy: TCP chains built exactly as the control plane builds
// them for a CUSTOM policy with Istio's sample gRPC provider ([network RBAC shadow rules,
// ext_authz, tcp_proxy]), the sample authorizer itself on loopback (it allows the `sleep`
// service account; a plain TCP client has no principal and is denied) and a real TCP echo
// upstream. Allowed connections echo; denied ones are closed before reaching the upstream.
// Also: a rule that does not select the connection (no check), a server that is down (closed,
// or proxied with failOpen), one that never answers (closed after the timeout), stats.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import type * as grpc from '@grpc/grpc-js';
import type { EnvoyExtAuthzGrpcProvider } from '../../../config/types.js';
import { customTcpFilters } from '../../../controlplane/generate/security/ext-authz.js';
import type { AuthzPolicy } from '../../../controlplane/generate/security/authz-builder.js';
import { createExtAuthzGrpcServer, listenGrpc } from '../../../demo/ext-authz/ext-authz-grpc.js';
import { DOWNSTREAM_TLS_TYPE, TCP_PROXY_TYPE } from '../../../xds/resources.js';
import type { FilterChain, Listener, Secret } from '../../../xds/resources.js';
import { haveOpenssl, makeCa, makeSpiffeCert } from '../../../../test/helpers/certs.js';
import type { TestCert } from '../../../../test/helpers/certs.js';
import { startStaticProxy, staticCluster } from '../../../../test/helpers/proxy.js';
import type { RunningProxy } from '../../../../test/helpers/proxy.js';

const SERVICE = 'ext-authz.foo.svc.cluster.local';
const PROVIDER = 'sample-ext-authz-grpc';
const skipTls = haveOpenssl() ? false : 'openssl is not installed (scripts/install-test-deps.sh)';

const custom = (rules: AuthzPolicy['rules'] = [{}]): AuthzPolicy => ({ name: 'ext-authz', namespace: 'foo', action: 'CUSTOM', provider: PROVIDER, dryRun: false, rules });

function tcpChain(port: number, statPrefix: string, opts: { failOpen?: boolean; timeoutMs?: number; rules?: AuthzPolicy['rules'] } = {}, extra: Partial<FilterChain> = {}): FilterChain {
  const p: EnvoyExtAuthzGrpcProvider = { service: SERVICE, port, failOpen: opts.failOpen ?? false, clearRouteCache: false, ...(opts.timeoutMs ? { timeout: { ms: opts.timeoutMs, text: `${opts.timeoutMs}ms` } } : {}) };
  const filters = customTcpFilters([custom(opts.rules)], { providers: [{ name: PROVIDER, type: 'envoyExtAuthzGrpc', envoyExtAuthzGrpc: p, path: [] }], lookup: (s) => ({ hostname: s }), trustDomains: ['cluster.local'] });
  return { ...extra, filters: [...filters, { name: 'envoy.filters.network.tcp_proxy', typedConfig: { '@type': TCP_PROXY_TYPE, statPrefix, cluster: 'echo' } as never }] };
}

const listener = (name: string, chain: FilterChain): Listener => ({ name, address: { socketAddress: { address: '127.0.0.1', portValue: 0 } }, filterChains: [chain] });
const h2 = { http2ProtocolOptions: {} };

let echo: net.Server;
const upstreamConnections: string[] = [];
let authz: grpc.Server;
let hanging: net.Server;
const hangingSockets = new Set<net.Socket>();
let proxy: RunningProxy;
let ca: TestCert;
let sleep: TestCert;
let stranger: TestCert;

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

before(async () => {
  echo = net.createServer((s) => {
    const i = upstreamConnections.push('') - 1;
    s.on('data', (c: Buffer) => {
      upstreamConnections[i] += c.toString();
      s.write(`echo ${c.toString()}`);
    });
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  authz = createExtAuthzGrpcServer({ allowServiceAccount: 'sleep' });
  const authzPort = await listenGrpc(authz, '127.0.0.1', 0);
  hanging = net.createServer((s) => {
    hangingSockets.add(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', r));
  const listeners = [
    listener('plain', tcpChain(9000, 'plain')),
    // The CUSTOM rule selects only port 1: this listener's connections are not checked.
    listener('not-selected', tcpChain(9000, 'not_selected', { rules: [{ to: [{ operation: { ports: ['1'] } }] }] })),
    listener('down', tcpChain(9001, 'down')),
    listener('down-fail-open', tcpChain(9001, 'down_fail_open', { failOpen: true })),
    listener('hanging', tcpChain(9002, 'hanging', { timeoutMs: 300 })),
  ];
  const secrets: Secret[] = [];
  if (!skipTls) {
    ca = makeCa('mesh root');
    const workload = makeSpiffeCert(ca, 'spiffe://cluster.local/ns/foo/sa/mysql');
    sleep = makeSpiffeCert(ca, 'spiffe://cluster.local/ns/foo/sa/sleep');
    stranger = makeSpiffeCert(ca, 'spiffe://cluster.local/ns/bar/sa/stranger');
    secrets.push(
      { name: 'default', tlsCertificate: { certificateChain: { inlineString: workload.cert }, privateKey: { inlineString: workload.key } } },
      { name: 'ROOTCA', validationContext: { trustedCa: { inlineString: ca.cert } } },
    );
    const meshTls = {
      name: 'envoy.transport_sockets.tls',
      typedConfig: { '@type': DOWNSTREAM_TLS_TYPE, commonTlsContext: { tlsCertificateSdsSecretConfigs: [{ name: 'default' }], validationContextSdsSecretConfig: { name: 'ROOTCA' } }, requireClientCertificate: true },
    } as unknown as FilterChain['transportSocket'];
    listeners.push(listener('mtls', tcpChain(9000, 'mtls', {}, { transportSocket: meshTls })));
  }
  proxy = await startStaticProxy(
    listeners,
    [
      staticCluster('echo', (echo.address() as AddressInfo).port),
      staticCluster(`outbound|9000||${SERVICE}`, authzPort, h2),
      staticCluster(`outbound|9001||${SERVICE}`, await freePort(), h2),
      staticCluster(`outbound|9002||${SERVICE}`, (hanging.address() as AddressInfo).port, h2),
    ],
    1,
    secrets,
  );
});

after(async () => {
  await proxy.stop();
  for (const s of hangingSockets) s.destroy();
  await new Promise<void>((r) => hanging.close(() => r()));
  await new Promise<void>((r) => echo.close(() => r()));
  authz.forceShutdown();
});

/** Connects, writes `hello`, and reads until the proxy or the upstream closes; what came back. */
function talk(port: number, client?: TestCert): Promise<string> {
  return new Promise((resolve) => {
    const s: net.Socket = client ? tls.connect({ host: '127.0.0.1', port, cert: client.cert, key: client.key, ca: ca.cert, rejectUnauthorized: false }) : net.connect({ host: '127.0.0.1', port });
    let received = '';
    s.on('data', (c: Buffer) => {
      received += c.toString();
      if (received.includes('echo hello')) s.end();
    });
    s.on('error', () => undefined);
    s.on('close', () => resolve(received));
    s.write('hello');
  });
}

async function expectProxied(port: number, client?: TestCert): Promise<void> {
  const before = upstreamConnections.length;
  assert.equal(await talk(port, client), 'echo hello');
  assert.equal(upstreamConnections.length, before + 1);
  assert.equal(upstreamConnections[before], 'hello', 'the bytes sent while the check ran reached the upstream');
}

async function expectClosed(port: number, client?: TestCert): Promise<void> {
  const before = upstreamConnections.length;
  assert.equal(await talk(port, client), '', 'the client gets nothing back');
  assert.equal(upstreamConnections.length, before, 'the upstream never saw the connection');
}

test('a plain TCP client has no principal: the sample denies it and the connection is closed', async () => {
  await expectClosed(proxy.port('plain'));
});

test('mTLS: the sleep service account is allowed and echoed; another identity is closed', { skip: skipTls }, async () => {
  await expectProxied(proxy.port('mtls'), sleep);
  await expectClosed(proxy.port('mtls'), stranger);
});

test('a connection no CUSTOM rule selects is proxied without a check', async () => {
  await expectProxied(proxy.port('not-selected'));
});

test('the authorizer is down: closed; with failOpen, proxied', async () => {
  await expectClosed(proxy.port('down'));
  await expectProxied(proxy.port('down-fail-open'));
});

test('the authorizer never answers: closed after the provider timeout', async () => {
  await expectClosed(proxy.port('hanging'));
});

test('stats: ext_authz.tcp.* (every chain has stat prefix tcp., so they add up)', () => {
  const text = proxy.proxy.stats.envoyText();
  const stat = (name: string) => text.split('\n').find((l) => l.startsWith(`ext_authz.tcp.${name}: `))?.split(': ')[1];
  const tlsRuns = skipTls ? 0 : 1;
  assert.equal(stat('ok'), String(tlsRuns));
  assert.equal(stat('denied'), String(1 + tlsRuns));
  assert.equal(stat('error'), '3', 'down, down with failOpen, hanging');
  assert.equal(stat('failure_mode_allowed'), '1');
  assert.equal(stat('cx_closed'), String(3 + tlsRuns));
  assert.equal(stat('disabled'), '1');
  assert.equal(stat('active'), '0');
});
