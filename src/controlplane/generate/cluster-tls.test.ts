// Unit tests for TLS origination settings (DR-09): which Secret keys are read (TLS and generic
// formats, the `<name>-cacert` Secret, the proxy's namespace), SNI and SAN defaults, wildcard
// hosts, and the modes that originate nothing.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigStore } from '../../config/config-store.js';
import type { ClientTLSSettings, SecretResource } from '../../config/types.js';
import { EMPTY_REGISTRY } from '../../registry/registry.js';
import { MeshSnapshot } from '../model/mesh-snapshot.js';
import type { ProxyNode } from '../model/proxy-node.js';
import { upstreamTransportSocket } from './cluster-tls.js';

function secret(name: string, namespace: string, data: Record<string, string>): SecretResource {
  const source = { file: 's.yaml', line: 1, col: 1, docIndex: 0, at: () => ({ file: 's.yaml', line: 1, col: 1 }) };
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace, labels: {}, annotations: {} },
    source,
    type: 'Opaque',
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v)])),
  };
}

const SNAP = new MeshSnapshot(
  1,
  new ConfigStore([
    secret('both', 'default', { 'ca.crt': 'CA-CRT', cacert: 'CACERT', 'tls.crt': 'TLS-CRT', 'tls.key': 'TLS-KEY', cert: 'CERT', key: 'KEY' }),
    secret('split', 'default', { cert: 'CERT', key: 'KEY' }),
    secret('split-cacert', 'default', { cacert: 'SPLIT-CA' }),
    secret('elsewhere', 'prod', { 'ca.crt': 'PROD-CA' }),
  ]),
  EMPTY_REGISTRY,
);
const PROXY: ProxyNode = { id: 'sidecar~127.0.0.9~sleep-0.default~default.svc.cluster.local', type: 'sidecar', ip: '127.0.0.9', podName: 'sleep-0', namespace: 'default', labels: {}, serviceAccount: 'default' };
const TARGET = { host: 'api.example.com', serviceSans: [] as string[], http2: false };

const tls = (o: Partial<ClientTLSSettings>): ClientTLSSettings => ({ mode: 'SIMPLE', subjectAltNames: [], insecureSkipVerify: false, ...o });
const ctx = (t: ClientTLSSettings, target = TARGET) => upstreamTransportSocket(SNAP, PROXY, t, target)?.typedConfig;

test('DR-09: no tls, DISABLE and ISTIO_MUTUAL originate nothing', () => {
  assert.equal(upstreamTransportSocket(SNAP, PROXY, undefined, TARGET), undefined);
  assert.equal(ctx(tls({ mode: 'DISABLE' })), undefined);
  assert.equal(ctx(tls({ mode: 'ISTIO_MUTUAL' })), undefined);
});

test('DR-09: ca.crt is preferred to cacert; tls.crt/tls.key to cert/key', () => {
  const c = ctx(tls({ mode: 'MUTUAL', credentialName: 'both' }))?.commonTlsContext;
  assert.deepEqual(c?.validationContext?.trustedCa, { inlineString: 'CA-CRT' });
  assert.deepEqual(c?.tlsCertificates, [{ certificateChain: { inlineString: 'TLS-CRT' }, privateKey: { inlineString: 'TLS-KEY' } }]);
});

test('DR-09: a generic Secret without CA takes it from <name>-cacert', () => {
  const c = ctx(tls({ mode: 'MUTUAL', credentialName: 'split' }))?.commonTlsContext;
  assert.deepEqual(c?.validationContext?.trustedCa, { inlineString: 'SPLIT-CA' });
  assert.deepEqual(c?.tlsCertificates, [{ certificateChain: { inlineString: 'CERT' }, privateKey: { inlineString: 'KEY' } }]);
});

test('DR-09: Secrets are read from the proxy\'s namespace only (another namespace\'s is missing: fail closed)', () => {
  const c = ctx(tls({ credentialName: 'elsewhere' }))?.commonTlsContext;
  assert.equal(c?.validationContext, undefined);
  assert.equal(c?.validationContextSdsSecretConfig?.name, 'kubernetes://elsewhere-cacert');
});

test('DR-09: insecureSkipVerify ignores the CA and SANs even with a credentialName (MUTUAL keeps the client certificate)', () => {
  const c = ctx(tls({ mode: 'MUTUAL', credentialName: 'both', insecureSkipVerify: true }))?.commonTlsContext;
  assert.deepEqual(c?.validationContext, { trustChainVerification: 'ACCEPT_UNTRUSTED' });
  assert.equal(c?.tlsCertificates?.length, 1);
});

test('DR-09: a wildcard host has no default SNI or SAN (the proxy cannot know the name)', () => {
  assert.deepEqual(ctx(tls({}), { ...TARGET, host: '*.example.com' }), { '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext', commonTlsContext: {} });
  assert.equal(ctx(tls({ sni: 'a.example.com' }), { ...TARGET, host: '*.example.com' })?.sni, 'a.example.com');
});

test('DR-09: the rule\'s SANs beat the ServiceEntry\'s, which beat the host', () => {
  const target = { ...TARGET, serviceSans: ['spiffe://se'] };
  assert.deepEqual(ctx(tls({ subjectAltNames: ['dr.example.com'] }), target)?.commonTlsContext?.validationContext?.matchSubjectAltNames, [{ exact: 'dr.example.com' }]);
  assert.deepEqual(ctx(tls({}), target)?.commonTlsContext?.validationContext?.matchSubjectAltNames, [{ exact: 'spiffe://se' }]);
  assert.deepEqual(ctx(tls({}))?.commonTlsContext?.validationContext?.matchSubjectAltNames, [{ exact: 'api.example.com' }]);
});
