// Network RBAC through a real proxy, in front of tcp_proxy and a real TCP upstream (an echo
// server that records every connection), with the filters the control plane writes for Istio
// policies on TCP ports (AZ-06, AZ-10, AZ-11, AZ-12): a denied connection is closed and the
// upstream never sees it; an allowed one is proxied. Principals come from the mTLS peer
// certificate of a TLS-terminating chain; the source IP from the socket (loopback aliases stand
// for other clients); the destination port from the listener.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { authzTcpFilters } from '../../../controlplane/generate/security/authz-builder.js';
import type { AuthzPolicies, AuthzPolicy } from '../../../controlplane/generate/security/authz-builder.js';
import type { AuthzRule } from '../../../controlplane/generate/security/authz-model.js';
import { DOWNSTREAM_TLS_TYPE, TCP_PROXY_TYPE } from '../../../xds/resources.js';
import type { FilterChain, Listener, Secret } from '../../../xds/resources.js';
import { haveOpenssl, makeCa, makeSpiffeCert } from '../../../../test/helpers/certs.js';
import type { TestCert } from '../../../../test/helpers/certs.js';
import { startStaticProxy, staticCluster } from '../../../../test/helpers/proxy.js';
import type { RunningProxy } from '../../../../test/helpers/proxy.js';

const policy = (action: 'ALLOW' | 'DENY', rules: AuthzRule[], dryRun = false): AuthzPolicy => ({ name: `${action.toLowerCase()}-p`, namespace: 'foo', action, dryRun, rules });
const NONE: AuthzPolicies = { custom: [], deny: [], allow: [], audit: [] };

let echo: net.Server;
const upstreamConnections: { from: string; data: string }[] = [];
let proxy: RunningProxy;
let fixedPort: number;
const skipTls = haveOpenssl() ? false : 'openssl is not installed (scripts/install-test-deps.sh)';
let client: TestCert;
let stranger: TestCert;
let ca: TestCert;

function tcpChain(policies: AuthzPolicies, statPrefix: string, extra: Partial<FilterChain> = {}): FilterChain {
  return {
    ...extra,
    filters: [...authzTcpFilters(policies, ['cluster.local']), { name: 'envoy.filters.network.tcp_proxy', typedConfig: { '@type': TCP_PROXY_TYPE, statPrefix, cluster: 'echo' } as never }],
  };
}

const listener = (name: string, chain: FilterChain, port = 0): Listener => ({ name, address: { socketAddress: { address: '127.0.0.1', portValue: port } }, filterChains: [chain] });

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

before(async () => {
  echo = net.createServer((s) => {
    const record = { from: `${s.remoteAddress}`, data: '' };
    upstreamConnections.push(record);
    s.on('data', (c: Buffer) => {
      record.data += c.toString();
      s.write(`echo ${c.toString()}`);
    });
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  fixedPort = await freePort();
  const listeners: Listener[] = [
    // AZ-06 ipBlocks: 127.0.0.3 is refused, every other client passes.
    listener('deny-ip', tcpChain({ ...NONE, deny: [policy('DENY', [{ from: [{ source: { ipBlocks: ['127.0.0.3'] } }] }])] }, 'deny_ip')),
    // AZ-10: an ALLOW rule with an HTTP-only field matches nothing on TCP: nothing is allowed.
    listener('allow-http-only', tcpChain({ ...NONE, allow: [policy('ALLOW', [{ to: [{ operation: { methods: ['GET'] } }] }])] }, 'allow_http_only')),
    // AZ-10: a DENY rule's HTTP-only field is dropped; its source still decides.
    listener('deny-path-and-ip', tcpChain({ ...NONE, deny: [policy('DENY', [{ from: [{ source: { ipBlocks: ['127.0.0.4'] } }], to: [{ operation: { paths: ['/admin'] } }] }])] }, 'deny_path_and_ip')),
    // ports: a DENY on this listener's own port.
    listener('deny-port', tcpChain({ ...NONE, deny: [policy('DENY', [{ to: [{ operation: { ports: [String(fixedPort)] } }] }])] }, 'deny_port'), fixedPort),
    // AZ-12: a dry-run DENY is counted, never enforced.
    listener('dry-run', tcpChain({ ...NONE, deny: [policy('DENY', [{}], true)] }, 'dry_run')),
  ];
  const secrets: Secret[] = [];
  if (!skipTls) {
    ca = makeCa('mesh root');
    const server = makeSpiffeCert(ca, 'spiffe://cluster.local/ns/foo/sa/mysql');
    client = makeSpiffeCert(ca, 'spiffe://cluster.local/ns/foo/sa/sleep');
    stranger = makeSpiffeCert(ca, 'spiffe://cluster.local/ns/bar/sa/sleep');
    secrets.push(
      { name: 'default', tlsCertificate: { certificateChain: { inlineString: server.cert }, privateKey: { inlineString: server.key } } },
      { name: 'ROOTCA', validationContext: { trustedCa: { inlineString: ca.cert } } },
    );
    const meshTls = {
      name: 'envoy.transport_sockets.tls',
      typedConfig: { '@type': DOWNSTREAM_TLS_TYPE, commonTlsContext: { tlsCertificateSdsSecretConfigs: [{ name: 'default' }], validationContextSdsSecretConfig: { name: 'ROOTCA' } }, requireClientCertificate: true },
    } as unknown as FilterChain['transportSocket'];
    // AZ-06 principals and namespaces, from the caller's mTLS certificate.
    const allowSleep = policy('ALLOW', [{ from: [{ source: { principals: ['cluster.local/ns/foo/sa/sleep'] } }] }]);
    listeners.push(listener('mtls-principal', tcpChain({ ...NONE, allow: [allowSleep] }, 'mtls', { filterChainMatch: { transportProtocol: 'tls' }, transportSocket: meshTls })));
  }
  proxy = await startStaticProxy(listeners, [staticCluster('echo', (echo.address() as AddressInfo).port)], 1, secrets);
});

after(async () => {
  await proxy.stop();
  await new Promise<void>((r) => echo.close(() => r()));
});

interface Outcome {
  /** What the client read before the connection ended. */
  readonly received: string;
}

/** Connects (from `localAddress`), writes `hello`, and reads until the proxy or upstream closes. */
function talk(port: number, localAddress = '127.0.0.1', secure?: TestCert): Promise<Outcome> {
  return new Promise((resolve) => {
    const s: net.Socket = secure
      ? tls.connect({ host: '127.0.0.1', port, cert: secure.cert, key: secure.key, ca: ca.cert, rejectUnauthorized: false })
      : net.connect({ host: '127.0.0.1', port, localAddress });
    let received = '';
    s.on('data', (c: Buffer) => {
      received += c.toString();
      if (received.includes('echo hello')) s.end();
    });
    s.on('error', () => undefined);
    s.on('close', () => resolve({ received }));
    s.write('hello');
  });
}

async function expectClosed(port: number, from?: string, secure?: TestCert): Promise<void> {
  const before = upstreamConnections.length;
  const r = await talk(port, from, secure);
  assert.equal(r.received, '', 'the client gets nothing back');
  assert.equal(upstreamConnections.length, before, 'the upstream never saw the connection');
}

async function expectProxied(port: number, from?: string, secure?: TestCert): Promise<void> {
  const before = upstreamConnections.length;
  const r = await talk(port, from, secure);
  assert.equal(r.received, 'echo hello');
  assert.equal(upstreamConnections.length, before + 1);
  assert.equal(upstreamConnections[before]!.data, 'hello');
}

test('ipBlocks DENY: the listed source is closed before reaching the upstream; another source is proxied', async () => {
  await expectClosed(proxy.port('deny-ip'), '127.0.0.3');
  await expectProxied(proxy.port('deny-ip'), '127.0.0.1');
});

test('AZ-10: ALLOW with an HTTP-only field allows nothing on a TCP port', async () => {
  await expectClosed(proxy.port('allow-http-only'));
});

test('AZ-10: DENY with paths and ipBlocks denies by source only', async () => {
  await expectClosed(proxy.port('deny-path-and-ip'), '127.0.0.4');
  await expectProxied(proxy.port('deny-path-and-ip'), '127.0.0.1');
});

test('ports DENY: connections to the listed destination port are closed', async () => {
  assert.equal(proxy.port('deny-port'), fixedPort);
  await expectClosed(fixedPort);
});

test('AZ-12 dry run: the DENY matches every connection, and every connection is proxied', async () => {
  await expectProxied(proxy.port('dry-run'));
});

test('principals from the mTLS peer certificate: foo/sleep is proxied, bar/sleep is closed', { skip: skipTls }, async () => {
  await expectProxied(proxy.port('mtls-principal'), '127.0.0.1', client);
  await expectClosed(proxy.port('mtls-principal'), '127.0.0.1', stranger);
});

test('stats: tcp.rbac.allowed / denied and the dry-run shadow counters', () => {
  const text = proxy.proxy.stats.envoyText();
  const stat = (name: string) => text.split('\n').find((l) => l.startsWith(`${name}: `))?.split(': ')[1];
  // Every listener's filter has stat prefix `tcp.` (Istio), so the counters add up across them.
  const denied = 4 + (skipTls ? 0 : 1);
  const allowed = 2 + (skipTls ? 0 : 1);
  assert.equal(stat('tcp.rbac.denied'), String(denied));
  assert.equal(stat('tcp.rbac.allowed'), String(allowed));
  assert.equal(stat('tcp.rbac.istio_dry_run_deny_.shadow_denied'), '1');
});
