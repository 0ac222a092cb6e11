// Upstream TLS against a real TLS server with certificates made by the openssl CLI: SIMPLE
// (trusted CA, system roots, ACCEPT_UNTRUSTED), SNI, SAN matchers, MUTUAL inline and over SDS,
// ALPN, session resumption, one SecureContext per distinct configuration, and validation.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import type tls from 'node:tls';
import { haveOpenssl } from '../../../../test/helpers/certs.js';
import { seededRandom } from '../../../common/random.js';
import { StatsRegistry } from '../../../telemetry/stats/stats.js';
import { UPSTREAM_TLS_TYPE } from '../../../xds/resources.js';
import type { Cluster as ClusterResource, Secret, StringMatcher, UpstreamTlsContext } from '../../../xds/resources.js';
import { ConfigError } from '../../config/durations.js';
import { ClusterManager } from '../cluster-manager.js';
import { upstreamFailure } from '../pool/errors.js';
import { closeServer, listen, LOCAL, makeCertWithSans, makeCluster, send, settle, staticCluster, until } from '../test-support.js';
import type { Pem } from '../test-support.js';
import { SecureContextCache } from './secure-context-cache.js';

const skip = !haveOpenssl() && 'openssl CLI not available';

let server: Pem;
let client: Pem;
if (!skip) {
  server = makeCertWithSans('upstream.test', ['DNS:upstream.test', 'DNS:*.wild.test', 'URI:spiffe://cluster.local/ns/default/sa/upstream']);
  client = makeCertWithSans('client.test', ['URI:spiffe://cluster.local/ns/default/sa/client']);
}

interface Seen {
  servername: string | false | null;
  alpn: string | false | null;
  clientCn: string | undefined;
  resumed: boolean;
}

async function tlsServer(opts: { requestCert?: boolean } = {}) {
  const seen: Seen[] = [];
  const s = https.createServer({ cert: server.cert, key: server.key, ALPNProtocols: ['h2', 'http/1.1'], requestCert: opts.requestCert ?? false, rejectUnauthorized: opts.requestCert ?? false, ca: opts.requestCert ? client.cert : undefined }, (_req, res) => res.end('secure'));
  s.on('secureConnection', (sock: tls.TLSSocket) => {
    const peer = sock.getPeerCertificate();
    seen.push({ servername: sock.servername, alpn: sock.alpnProtocol, clientCn: peer && 'subject' in peer ? String(peer.subject?.CN) : undefined, resumed: sock.isSessionReused() });
  });
  const port = await listen(s);
  return { s, port, seen };
}

function tlsCluster(port: number, ctx: Omit<UpstreamTlsContext, '@type'>, extra: Partial<ClusterResource> = {}): ClusterResource {
  return staticCluster('tls', [port], { transportSocket: { name: 'envoy.transport_sockets.tls', typedConfig: { '@type': UPSTREAM_TLS_TYPE, ...ctx } }, ...extra });
}

const trusting = (matchers?: StringMatcher[]): Omit<UpstreamTlsContext, '@type'> => ({
  sni: 'upstream.test',
  commonTlsContext: { validationContext: { trustedCa: { inlineString: server.cert }, matchSubjectAltNames: matchers } },
});

test('SIMPLE: verifies the server against trustedCa and sends the configured SNI and ALPN http/1.1', { skip }, async () => {
  const { s, port, seen } = await tlsServer();
  const { cluster } = makeCluster(tlsCluster(port, trusting()));
  const r = await send(cluster, cluster.hosts()[0]!);
  assert.deepEqual([r.status, r.body], [200, 'secure']);
  assert.deepEqual(seen[0], { servername: 'upstream.test', alpn: 'http/1.1', clientCn: undefined, resumed: false });
  cluster.close();
  await closeServer(s);
});

test('SIMPLE without trustedCa uses the system roots: a self-signed upstream is refused as a connect failure', { skip }, async () => {
  const { s, port } = await tlsServer();
  const { cluster, stat } = makeCluster(tlsCluster(port, { sni: 'upstream.test' }));
  const err = await settle(send(cluster, cluster.hosts()[0]!));
  assert.ok(err instanceof Error, 'the handshake must fail');
  assert.equal(upstreamFailure(err), 'connect_failure');
  await until(() => stat('upstream_cx_connect_fail') === 1);
  cluster.close();
  await closeServer(s);
});

test('ACCEPT_UNTRUSTED skips verification; without sni no server name is sent', { skip }, async () => {
  const { s, port, seen } = await tlsServer();
  const { cluster } = makeCluster(tlsCluster(port, { commonTlsContext: { validationContext: { trustChainVerification: 'ACCEPT_UNTRUSTED' } } }));
  assert.equal((await send(cluster, cluster.hosts()[0]!)).status, 200);
  assert.equal(seen[0]!.servername, false);
  cluster.close();
  await closeServer(s);
});

const sanCases: [string, StringMatcher[], boolean][] = [
  ['exact DNS SAN', [{ exact: 'upstream.test' }], true],
  ['exact name covered by a wildcard SAN', [{ exact: 'api.wild.test' }], true],
  ['exact name two labels under the wildcard', [{ exact: 'a.b.wild.test' }], false],
  ['URI SAN by prefix', [{ prefix: 'spiffe://cluster.local/ns/default/' }], true],
  ['URI SAN by safeRegex', [{ safeRegex: { regex: 'spiffe://cluster\\.local/ns/[a-z]+/sa/upstream' } }], true],
  ['suffix with ignoreCase', [{ suffix: 'UPSTREAM.TEST', ignoreCase: true }], true],
  ['contains', [{ contains: 'sa/upstream' }], true],
  ['no matcher matches', [{ exact: 'other.test' }, { prefix: 'spiffe://other/' }], false],
];

for (const [what, matchers, ok] of sanCases) {
  test(`matchSubjectAltNames: ${what} → ${ok ? 'accepted' : 'refused'}`, { skip }, async () => {
    const { s, port } = await tlsServer();
    const { cluster } = makeCluster(tlsCluster(port, trusting(matchers)));
    const r = await settle(send(cluster, cluster.hosts()[0]!));
    if (ok) assert.equal((r as { status: number }).status, 200);
    else {
      assert.ok(r instanceof Error);
      assert.equal((r as NodeJS.ErrnoException).code, 'ERR_TLS_CERT_ALTNAME_INVALID');
      assert.equal(upstreamFailure(r), 'connect_failure');
    }
    cluster.close();
    await closeServer(s);
  });
}

test('MUTUAL with an inline client certificate; without one the server refuses the handshake', { skip }, async () => {
  const { s, port, seen } = await tlsServer({ requestCert: true });
  const mutual = tlsCluster(port, { ...trusting(), commonTlsContext: { ...trusting().commonTlsContext, tlsCertificates: [{ certificateChain: { inlineString: client.cert }, privateKey: { inlineString: client.key } }] } });
  const { cluster } = makeCluster(mutual);
  assert.equal((await send(cluster, cluster.hosts()[0]!)).status, 200);
  assert.equal(seen[0]!.clientCn, 'client.test');
  cluster.close();
  const { cluster: anonymous } = makeCluster(tlsCluster(port, trusting()));
  assert.ok((await settle(send(anonymous, anonymous.hosts()[0]!))) instanceof Error);
  anonymous.close();
  await closeServer(s);
});

test('MUTUAL over SDS: connections fail until the secret arrives, then a new cluster object uses it', { skip }, async () => {
  const { s, port, seen } = await tlsServer({ requestCert: true });
  const resource = tlsCluster(port, { ...trusting(), commonTlsContext: { ...trusting().commonTlsContext, tlsCertificateSdsSecretConfigs: [{ name: 'client-cert', sdsConfig: { ads: {} } }] } });
  const m = new ClusterManager(new StatsRegistry(), seededRandom(1), LOCAL);
  m.commit(m.prepare([resource], new Map()));
  const before = m.get('tls')!;
  const err = await settle(send(before, before.hosts()[0]!));
  assert.equal((err as NodeJS.ErrnoException).code, 'STRAIT_UPSTREAM_TLS_NOT_READY');
  assert.equal(upstreamFailure(err), 'connect_failure');
  const secrets = new Map<string, Secret>([['client-cert', { name: 'client-cert', tlsCertificate: { certificateChain: { inlineString: client.cert }, privateKey: { inlineString: client.key } } }]]);
  m.commit(m.prepare([resource], new Map(), secrets));
  const after = m.get('tls')!;
  assert.notEqual(after, before);
  assert.equal((await send(after, after.hosts()[0]!)).status, 200);
  assert.equal(seen.at(-1)!.clientCn, 'client.test');
  // The same secret again: nothing changes.
  m.commit(m.prepare([resource], new Map(), new Map(secrets)));
  assert.equal(m.get('tls'), after);
  m.close();
  await closeServer(s);
});

test('a second connection to the same host resumes the TLS session', { skip }, async () => {
  const { s, port, seen } = await tlsServer();
  const { cluster } = makeCluster(tlsCluster(port, trusting(), { commonHttpProtocolOptions: { maxRequestsPerConnection: 1 } }));
  const host = cluster.hosts()[0]!;
  await send(cluster, host);
  await send(cluster, host);
  assert.deepEqual(seen.map((x) => x.resumed), [false, true]);
  cluster.close();
  await closeServer(s);
});

test('clusters with the same TLS settings share one SecureContext; different client identities do not', { skip }, () => {
  const cache = new SecureContextCache();
  const a = makeCluster(tlsCluster(1, trusting()), { tlsCache: cache }).cluster;
  const b = makeCluster({ ...tlsCluster(2, trusting()), name: 'other' }, { tlsCache: cache }).cluster;
  const mutual = tlsCluster(3, { ...trusting(), commonTlsContext: { ...trusting().commonTlsContext, tlsCertificates: [{ certificateChain: { inlineString: client.cert }, privateKey: { inlineString: client.key } }] } });
  const c = makeCluster(mutual, { tlsCache: cache }).cluster;
  assert.equal(a.tls!.secureContext, b.tls!.secureContext);
  assert.notEqual(c.tls!.secureContext, a.tls!.secureContext);
  assert.notEqual(c.tls!.identity, a.tls!.identity);
  assert.equal(cache.size, 2);
  cache.retainOnly(new Set([c.tls!.contextKey!]));
  assert.equal(cache.size, 1);
});

const invalid: [string, Omit<UpstreamTlsContext, '@type'>, RegExp][] = [
  ['a CA that is not PEM', { commonTlsContext: { validationContext: { trustedCa: { inlineString: 'not a certificate' } } } }, /trustedCa: no PEM certificate found/],
  ['a CA from a file', { commonTlsContext: { validationContext: { trustedCa: { filename: '/etc/ssl/ca.pem' } } } }, /trustedCa: must be given inline or over SDS/],
  ['two client certificates', { commonTlsContext: { tlsCertificates: [{ certificateChain: { inlineString: 'a' }, privateKey: { inlineString: 'b' } }], tlsCertificateSdsSecretConfigs: [{ name: 's' }] } }, /at most one client certificate/],
  ['a matcher with two kinds', { commonTlsContext: { validationContext: { matchSubjectAltNames: [{ exact: 'a', prefix: 'b' }] } } }, /matchSubjectAltNames\[0\]: needs exactly one of/],
  ['a matcher with a bad regex', { commonTlsContext: { validationContext: { matchSubjectAltNames: [{ safeRegex: { regex: '(a' } }] } } }, /matchSubjectAltNames\[0\].safeRegex: invalid regex/],
  ['TLS 1.0', { commonTlsContext: { tlsParams: { tlsMinimumProtocolVersion: 'TLSv1_0' } } }, /TLS versions below 1.2/],
];

for (const [what, ctx, message] of invalid) {
  test(`upstream TLS with ${what} is rejected`, { skip }, () => {
    assert.throws(() => makeCluster(tlsCluster(1, ctx)), (e: Error) => e instanceof ConfigError && message.test(e.message));
  });
}

test('a key that does not match the client certificate is rejected at construction', { skip }, () => {
  const other = makeCertWithSans('x', ['DNS:x']);
  const ctx = { commonTlsContext: { tlsCertificates: [{ certificateChain: { inlineString: client.cert }, privateKey: { inlineString: other.key } }] } };
  assert.throws(() => makeCluster(tlsCluster(1, ctx)), (e: Error) => e instanceof ConfigError && /cannot use the TLS settings/.test(e.message));
});
