// Peer certificates as the HTTP and TCP paths read them, for the certificates the mesh CA issues:
// no subject at all (the identity is only the URI SAN), which Node reports as an undefined
// subject and which must not break a request.

import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { it } from 'node:test';
import { CertificateAuthority } from '../../ca/certificate-authority.js';
import { createCsr, generateKeyPair } from '../../ca/x509.js';
import { systemClock } from '../../common/clock.js';
import { fromX509 } from './peer-certificate.js';

it('reads a subject-less SPIFFE workload certificate: URI SAN, empty subject, hash', async () => {
  const ca = await CertificateAuthority.open({ kind: 'memory' }, { trustDomain: 'cluster.local', clock: systemClock });
  const out = await ca.sign({ csrPem: await createCsr(await generateKeyPair()), identity: { namespace: 'default', serviceAccount: 'sleep' } });
  const x = new X509Certificate(out.certChain[0]!);
  const pc = fromX509(x);
  assert.deepEqual(pc.uriSans, ['spiffe://cluster.local/ns/default/sa/sleep']);
  assert.deepEqual(pc.dnsSans, []);
  assert.equal(pc.subject, '');
  assert.equal(pc.sha256, x.fingerprint256.replace(/:/g, '').toLowerCase());
});
