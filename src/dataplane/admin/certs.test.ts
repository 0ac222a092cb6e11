// The admin /certs view: one entry per secret holding certificates, in Envoy's field names, with
// serials in lower-case hex, SANs by kind and whole days left (0 once expired).

import assert from 'node:assert/strict';
import { it } from 'node:test';
import { CertificateAuthority } from '../../ca/certificate-authority.js';
import { createCsr, generateKeyPair, privateKeyToPem } from '../../ca/x509.js';
import { ManualClockForTest } from '../../common/clock.js';
import type { Secret } from '../../xds/resources.js';
import { certsView } from './certs.js';

it('lists `default` (the chain) and `ROOTCA` (the roots) with serial, SANs, validity and days left', async () => {
  const clock = new ManualClockForTest(Date.UTC(2030, 0, 1));
  const ca = await CertificateAuthority.open({ kind: 'memory' }, { trustDomain: 'cluster.local', clock });
  const keys = await generateKeyPair();
  const issued = await ca.sign({ csrPem: await createCsr(keys), identity: { namespace: 'default', serviceAccount: 'sleep' }, ttlSeconds: 3 * 86400 });
  const secrets = new Map<string, Secret>([
    ['ROOTCA', { name: 'ROOTCA', validationContext: { trustedCa: { inlineString: ca.trustBundle().join('') } } }],
    ['default', { name: 'default', tlsCertificate: { certificateChain: { inlineString: issued.certChain[0]! }, privateKey: { inlineString: await privateKeyToPem(keys.privateKey) } } }],
    ['other', { name: 'other' }],
  ]);
  const view = certsView(secrets, clock.now() + 36 * 3600e3);
  assert.deepEqual(view.certificates.map((c) => c.name), ['ROOTCA', 'default']);
  const [leaf] = view.certificates[1]!.cert_chain;
  assert.deepEqual(leaf, {
    path: '<inline>',
    serial_number: issued.serial.toLowerCase(),
    subject_alt_names: [{ uri: 'spiffe://cluster.local/ns/default/sa/sleep' }],
    days_until_expiration: '1',
    valid_from: '2029-12-31T23:58:00.000Z',
    expiration_time: '2030-01-04T00:00:00.000Z',
  });
  assert.equal(view.certificates[0]!.ca_cert.length, 1);
  assert.equal(view.certificates[0]!.ca_cert[0]!.days_until_expiration, String(Math.floor((Date.parse(view.certificates[0]!.ca_cert[0]!.expiration_time) - clock.now() - 36 * 3600e3) / 864e5)));
  assert.equal(certsView(secrets, Date.UTC(2031, 0, 1)).certificates[1]!.cert_chain[0]!.days_until_expiration, '0', 'expired');
});
