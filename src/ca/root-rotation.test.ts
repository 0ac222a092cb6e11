// Root rotation keeps the mesh talking: during the overlap (bundle [new, old]) a workload still on
// an old-root certificate and one already on a new-root certificate complete mutual TLS in both
// directions; after retireRoots() the old-root certificate is refused. Real TLS handshakes over
// 127.0.0.1, with each side's trust taken from the CA's bundle as ROOTCA would carry it.

import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { describe, it } from 'node:test';
import { systemClock } from '../common/clock.js';
import { CertificateAuthority } from './certificate-authority.js';
import { createCsr, generateKeyPair, privateKeyToPem } from './x509.js';

interface Workload {
  cert: string;
  key: string;
  ca: string;
}

async function workload(ca: CertificateAuthority, sa: string): Promise<Workload> {
  const keys = await generateKeyPair();
  const out = await ca.sign({ csrPem: await createCsr(keys), identity: { namespace: 'default', serviceAccount: sa } });
  return { cert: out.certChain.slice(0, -1).join(''), key: await privateKeyToPem(keys.privateKey), ca: out.certChain.at(-1)! };
}

/** Mutual TLS from client to server; resolves to the URI SAN each side saw, or rejects. */
async function handshake(server: Workload, client: Workload): Promise<{ serverSaw: string; clientSaw: string }> {
  let serverSaw = '';
  const srv = tls.createServer({ cert: server.cert, key: server.key, ca: server.ca, requestCert: true, rejectUnauthorized: true }, (s) => {
    serverSaw = s.getPeerX509Certificate()?.subjectAltName ?? '';
    s.end('ok');
  });
  srv.on('tlsClientError', () => undefined);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  try {
    const port = (srv.address() as AddressInfo).port;
    const clientSaw = await new Promise<string>((resolve, reject) => {
      // Mesh peers are named by SPIFFE ID, not host name; the SAN is checked by the caller.
      const s = tls.connect({ host: '127.0.0.1', port, cert: client.cert, key: client.key, ca: client.ca, checkServerIdentity: () => undefined }, () => {
        const saw = s.getPeerX509Certificate()?.subjectAltName ?? '';
        // With TLS 1.3 the client finishes first; only the server's answer proves it accepted us.
        let answer = '';
        s.on('data', (d: Buffer) => (answer += d.toString()));
        s.on('end', () => (answer === 'ok' ? resolve(saw) : reject(new Error('the server closed without answering'))));
      });
      s.on('error', reject);
    });
    return { serverSaw, clientSaw };
  } finally {
    srv.close();
  }
}

describe('root rotation', () => {
  it('old-root and new-root workloads talk both ways during the overlap; the old root is refused after retirement', async () => {
    const ca = await CertificateAuthority.open({ kind: 'memory' }, { trustDomain: 'cluster.local', clock: systemClock });
    const bundles: (readonly string[])[] = [];
    ca.onBundleChange((b) => bundles.push(b));
    const oldRoot = ca.trustBundle()[0]!;
    const onOld = await workload(ca, 'old');

    await ca.rotateRoot();
    assert.equal(ca.trustBundle().length, 2);
    assert.equal(ca.trustBundle()[1], oldRoot);
    assert.equal(bundles.length, 1);
    const onNew = await workload(ca, 'new');
    assert.notEqual(onNew.ca, onOld.ca);
    // The old workload's ROOTCA is refreshed to the overlapping bundle (what a push delivers).
    const oldRefreshed = { ...onOld, ca: ca.trustBundle().join('') };

    const a = await handshake(onNew, oldRefreshed);
    assert.equal(a.serverSaw, 'URI:spiffe://cluster.local/ns/default/sa/old');
    assert.equal(a.clientSaw, 'URI:spiffe://cluster.local/ns/default/sa/new');
    const b = await handshake(oldRefreshed, onNew);
    assert.equal(b.serverSaw, 'URI:spiffe://cluster.local/ns/default/sa/new');

    const status = ca.rootStatus();
    assert.deepEqual(status.map((s) => [s.signing, s.outstanding]), [[true, 1], [false, 1]]);

    ca.retireRoots();
    assert.equal(ca.trustBundle().length, 1);
    const retiredView = { ...onNew, ca: ca.trustBundle().join('') };
    await assert.rejects(handshake(retiredView, oldRefreshed));
    // A renewed old workload is back in.
    const renewed = await workload(ca, 'old');
    assert.equal((await handshake(retiredView, renewed)).serverSaw, 'URI:spiffe://cluster.local/ns/default/sa/old');
  });
});
