// Per-endpoint transport sockets (Envoy's transportSocketMatches, what Istio's auto mTLS uses):
// in one cluster, the endpoint labelled tlsMode=istio is reached over TLS with the configured
// trust and SAN check, the unlabelled one in plaintext, through a real proxy and real upstreams.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { UPSTREAM_TLS_TYPE } from '../../src/xds/resources.js';
import type { Cluster } from '../../src/xds/resources.js';
import { haveOpenssl, makeCert } from '../helpers/certs.js';
import { request, startUpstream } from '../helpers/http.js';
import type { TestUpstream } from '../helpers/http.js';
import { httpChain, loopbackListener, startStaticProxy } from '../helpers/proxy.js';
import type { RunningProxy } from '../helpers/proxy.js';

const skip = haveOpenssl() ? false : 'openssl is not installed (scripts/install-test-deps.sh)';
let secure: https.Server;
let plain: TestUpstream;
let proxy: RunningProxy;

before(async () => {
  if (skip) return;
  const cert = makeCert('backend.mesh.local');
  secure = https.createServer({ cert: cert.cert, key: cert.key }, (_req, res) => res.end('tls'));
  await new Promise<void>((r) => secure.listen(0, '127.0.0.1', r));
  plain = await startUpstream((_r, res) => res.end('plain'));
  const tlsPort = (secure.address() as AddressInfo).port;
  const endpoint = (port: number, tlsMode?: string) => ({
    endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: port } } },
    ...(tlsMode ? { metadata: { filterMetadata: { 'envoy.transport_socket_match': { tlsMode } } } } : {}),
  });
  const cluster: Cluster = {
    name: 'mixed',
    type: 'STATIC',
    connectTimeout: '1s',
    lbPolicy: 'ROUND_ROBIN',
    loadAssignment: { clusterName: 'mixed', endpoints: [{ lbEndpoints: [endpoint(tlsPort, 'istio'), endpoint(plain.port)] }] },
    transportSocketMatches: [
      {
        name: 'tlsMode-istio',
        match: { tlsMode: 'istio' },
        transportSocket: {
          name: 'envoy.transport_sockets.tls',
          typedConfig: {
            '@type': UPSTREAM_TLS_TYPE,
            commonTlsContext: { validationContext: { trustedCa: { inlineString: cert.cert }, matchSubjectAltNames: [{ exact: 'backend.mesh.local' }] } },
          },
        },
      },
      { name: 'tlsMode-disabled', match: {} },
    ],
  };
  proxy = await startStaticProxy([loopbackListener('edge', [httpChain('edge', [{ match: { prefix: '/' }, route: { cluster: 'mixed', timeout: '0s' } }])])], [cluster]);
});

after(async () => {
  if (skip) return;
  await proxy.stop();
  await plain.close();
  secure.closeAllConnections();
  await new Promise<void>((r) => secure.close(() => r()));
});

test('the endpoint labelled tlsMode=istio is reached over TLS, the other in plaintext', { skip }, async () => {
  const seen = new Set<string>();
  for (let i = 0; i < 6; i++) {
    const r = await request(`${proxy.base}/`);
    assert.equal(r.status, 200, r.body);
    seen.add(r.body);
  }
  assert.deepEqual([...seen].sort(), ['plain', 'tls']);
});
