// TLS posture of the proxy's TLS listeners, measured from outside with sslscan (Debian): only
// TLS 1.2 and 1.3 are offered, and only AEAD ciphers (no CBC, RC4, 3DES, NULL or export suites),
// for a gateway-style listener with its own certificate and for a mesh mTLS listener.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { DOWNSTREAM_TLS_TYPE } from '../../src/xds/resources.js';
import type { FilterChain } from '../../src/xds/resources.js';
import { haveOpenssl, makeCa, makeCert, makeSpiffeCert } from '../helpers/certs.js';
import { startUpstream } from '../helpers/http.js';
import type { TestUpstream } from '../helpers/http.js';
import { httpChain, loopbackListener, startStaticProxy, staticCluster } from '../helpers/proxy.js';
import type { RunningProxy } from '../helpers/proxy.js';

function haveSslscan(): boolean {
  return spawnSync('sslscan', ['--version'], { stdio: 'ignore' }).status === 0;
}

const skip = !haveOpenssl() ? 'openssl is not installed' : !haveSslscan() ? 'sslscan is not installed (scripts/install-system-deps.sh)' : false;
let app: TestUpstream;
let proxy: RunningProxy;

before(async () => {
  if (skip) return;
  app = await startUpstream();
  const edge = makeCert('shop.example.com');
  const ca = makeCa('mesh');
  const workload = makeSpiffeCert(ca, 'spiffe://cluster.local/ns/default/sa/app');
  const routes = [{ match: { prefix: '/' }, route: { cluster: 'app', timeout: '0s' } }];
  const simple = {
    name: 'envoy.transport_sockets.tls',
    typedConfig: { '@type': DOWNSTREAM_TLS_TYPE, commonTlsContext: { tlsCertificates: [{ certificateChain: { inlineString: edge.cert }, privateKey: { inlineString: edge.key } }] } },
  } as unknown as FilterChain['transportSocket'];
  const mesh = {
    name: 'envoy.transport_sockets.tls',
    typedConfig: {
      '@type': DOWNSTREAM_TLS_TYPE,
      commonTlsContext: { tlsCertificateSdsSecretConfigs: [{ name: 'default' }], validationContextSdsSecretConfig: { name: 'ROOTCA' } },
      requireClientCertificate: true,
    },
  } as unknown as FilterChain['transportSocket'];
  proxy = await startStaticProxy(
    [loopbackListener('edge', [httpChain('edge', routes, {}, { transportSocket: simple })]), loopbackListener('mesh', [httpChain('mesh', routes, {}, { transportSocket: mesh })])],
    [staticCluster('app', app.port)],
    1,
    [
      { name: 'default', tlsCertificate: { certificateChain: { inlineString: workload.cert }, privateKey: { inlineString: workload.key } } },
      { name: 'ROOTCA', validationContext: { trustedCa: { inlineString: ca.cert } } },
    ],
  );
});

after(async () => {
  if (skip) return;
  await proxy.stop();
  await app.close();
});

interface Scan {
  protocols: Record<string, boolean>;
  ciphers: { protocol: string; name: string }[];
}

/** Runs sslscan (asynchronously: the proxy under test lives in this process). */
async function scan(port: number): Promise<Scan> {
  const { stdout: xml } = await promisify(execFile)('sslscan', ['--no-colour', '--no-heartbleed', '--no-renegotiation', '--no-compression', '--no-fallback', '--no-groups', '--no-check-certificate', '--xml=-', `127.0.0.1:${port}`], { encoding: 'utf8', timeout: 60_000 });
  const protocols: Record<string, boolean> = {};
  for (const m of xml.matchAll(/<protocol type="(\w+)" version="([\d.]+)" enabled="(\d)"/g)) protocols[`${m[1]}v${m[2]}`] = m[3] === '1';
  const ciphers = [...xml.matchAll(/<cipher status="\w+" sslversion="([\w.v]+)"[^>]* cipher="([\w-]+)"/g)].map((m) => ({ protocol: m[1]!, name: m[2]! }));
  return { protocols, ciphers };
}

const AEAD = /(GCM|CHACHA20|POLY1305|CCM)/;

for (const listener of ['edge', 'mesh']) {
  test(`${listener} listener: TLS 1.2 and 1.3 only, AEAD ciphers only (sslscan)`, { skip }, async () => {
    const s = await scan(proxy.port(listener));
    assert.deepEqual(
      Object.entries(s.protocols).filter(([, on]) => on).map(([p]) => p).sort(),
      ['tlsv1.2', 'tlsv1.3'],
      `protocols offered: ${JSON.stringify(s.protocols)}`,
    );
    assert.ok(s.ciphers.length > 0, 'sslscan found ciphers');
    const weak = s.ciphers.filter((c) => !AEAD.test(c.name));
    assert.deepEqual(weak, [], `non-AEAD ciphers accepted: ${weak.map((c) => `${c.protocol} ${c.name}`).join(', ')}`);
  });
}
