// X-Forwarded-Client-Cert policies, each mode with and without a client certificate.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyClientCertHeader } from './client-cert-header.js';
import type { ClientCertConfig } from './client-cert-header.js';
import type { PeerCertificate } from './stream-info.js';

const peer: PeerCertificate = {
  uriSans: ['spiffe://cluster.local/ns/default/sa/sleep'],
  dnsSans: ['sleep.default'],
  subject: 'O=mesh,CN="x"',
  sha256: 'ab12',
  pem: () => '-----BEGIN%20CERTIFICATE-----',
};
const set = { subject: true, cert: false, dns: true, uri: true };
const BY = 'spiffe://cluster.local/ns/default/sa/httpbin';
const run = (forward: ClientCertConfig['forward'], prior: string | undefined, p: PeerCertificate | null) => {
  const h: Record<string, string | string[]> = prior === undefined ? {} : { 'x-forwarded-client-cert': prior };
  applyClientCertHeader({ forward, set }, h, p, BY);
  return h['x-forwarded-client-cert'];
};

const CURRENT = `By=${BY};Hash=ab12;Subject="O=mesh,CN=\\"x\\"";URI=spiffe://cluster.local/ns/default/sa/sleep;DNS=sleep.default`;

test('APPEND_FORWARD (Istio sidecars): appends the current element on mTLS, strips a spoofed header otherwise', () => {
  assert.equal(run('APPEND_FORWARD', undefined, peer), CURRENT);
  assert.equal(run('APPEND_FORWARD', 'By=a;URI=b', peer), `By=a;URI=b,${CURRENT}`);
  assert.equal(run('APPEND_FORWARD', 'By=spoofed', null), undefined);
});

test('SANITIZE_SET replaces, SANITIZE removes, FORWARD_ONLY keeps only on mTLS, ALWAYS_FORWARD_ONLY keeps', () => {
  assert.equal(run('SANITIZE_SET', 'By=spoofed', peer), CURRENT);
  assert.equal(run('SANITIZE_SET', 'By=spoofed', null), undefined);
  assert.equal(run('SANITIZE', 'By=spoofed', peer), undefined);
  assert.equal(run('FORWARD_ONLY', 'By=up', peer), 'By=up');
  assert.equal(run('FORWARD_ONLY', 'By=up', null), undefined);
  assert.equal(run('ALWAYS_FORWARD_ONLY', 'By=up', null), 'By=up');
});

test('set_current_client_cert_details Cert adds the URL-encoded PEM', () => {
  const h: Record<string, string> = {};
  applyClientCertHeader({ forward: 'SANITIZE_SET', set: { subject: false, cert: true, dns: false, uri: false } }, h, peer, undefined);
  assert.equal(h['x-forwarded-client-cert'], 'Hash=ab12;Cert="-----BEGIN%20CERTIFICATE-----"');
});
