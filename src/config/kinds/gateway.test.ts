import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { loadOne, loadText, yaml } from '../test-support.js';

const head = ['apiVersion: networking.istio.io/v1', 'kind: Gateway', 'metadata: {name: gw, namespace: istio-system}', 'spec:', '  selector: {istio: ingressgateway}', '  servers:'];

/** A Gateway whose servers are written from line 7 on. */
const gw = (...servers: string[]) => yaml(...head, ...servers);

const gateway = (servers: unknown[]) =>
  stringify({ apiVersion: 'networking.istio.io/v1alpha3', kind: 'Gateway', metadata: { name: 'gw', namespace: 'istio-system' }, spec: { selector: { istio: 'ingressgateway' }, servers } });

test('Gateway: protocol is upper-cased; tls is typed with Istio defaults; servers know their path', () => {
  const { resource, diagnostics } = loadOne(
    'Gateway',
    gateway([
      { port: { number: 80, name: 'http', protocol: 'http' }, hosts: ['*'], tls: { httpsRedirect: true } },
      { port: { number: 443, name: 'https', protocol: 'HTTPS' }, hosts: ['bookinfo/*.example.com'], tls: { mode: 'SIMPLE', credentialName: 'cert' } },
    ]),
  );
  assert.deepEqual(diagnostics, []);
  assert.deepEqual(resource.spec.servers.map((s) => s.port.protocol), ['HTTP', 'HTTPS']);
  assert.deepEqual(resource.spec.servers[1].path, ['spec', 'servers', 1]);
  assert.deepEqual(resource.spec.servers[1].tls, {
    httpsRedirect: false,
    mode: 'SIMPLE',
    credentialName: 'cert',
    credentialNames: [],
    subjectAltNames: [],
    verifyCertificateSpki: [],
    verifyCertificateHash: [],
    minProtocolVersion: 'TLS_AUTO',
    maxProtocolVersion: 'TLS_AUTO',
    cipherSuites: [],
  });
  assert.equal(resource.spec.servers[0].tls?.httpsRedirect, true);
  assert.equal(resource.spec.servers[0].tls?.mode, 'PASSTHROUGH');
});

test('Gateway: Istio rules (port name, non-empty hosts, TLS settings for HTTPS, known protocol)', () => {
  const codes = (servers: unknown[]) => loadText(gateway(servers)).codes;
  assert.deepEqual(codes([{ port: { number: 80, protocol: 'HTTP' }, hosts: ['*'] }]), ['error:missing-field']);
  assert.deepEqual(codes([{ port: { number: 80, name: 'h', protocol: 'HTTP' }, hosts: [] }]), ['error:invalid-value']);
  assert.deepEqual(codes([{ port: { number: 443, name: 'h', protocol: 'HTTPS' }, hosts: ['*'] }]), ['error:missing-field']);
  assert.deepEqual(codes([{ port: { number: 80, name: 'h', protocol: 'HTTPX' }, hosts: ['*'] }]), ['error:invalid-value']);
  assert.deepEqual(codes([]), ['error:invalid-value']);
  // httpsRedirect on a plain HTTP server is allowed; terminating TLS there is not.
  assert.deepEqual(codes([{ port: { number: 80, name: 'h', protocol: 'HTTP' }, hosts: ['*'], tls: { httpsRedirect: true } }]), []);
  assert.deepEqual(codes([{ port: { number: 80, name: 'h', protocol: 'HTTP' }, hosts: ['*'], tls: { mode: 'SIMPLE', credentialName: 'c' } }]), ['error:invalid-value']);
  assert.deepEqual(codes([{ port: { number: 9000, name: 't', protocol: 'TCP' }, hosts: ['*'], tls: { mode: 'SIMPLE', credentialName: 'c' } }]), ['error:invalid-value']);
});

test('Gateway tls: SIMPLE without a certificate is an error at mode (IG-06)', () => {
  const r = loadText(
    gw(
      '  - port: {number: 443, name: https, protocol: HTTPS}', // 7
      '    hosts: ["*"]',
      '    tls:',
      '      mode: SIMPLE', // 10
    ),
  );
  assert.deepEqual(r.at, ['error:missing-field@10:13']);
  assert.match(r.diagnostics[0].message, /SIMPLE TLS needs a certificate: credentialName/);
  assert.deepEqual(r.resources, []);
});

test('Gateway tls: certificate files are warned about (Strait reads Secrets); MUTUAL from files needs a CA', () => {
  const r = loadText(
    gw(
      '  - port: {number: 443, name: https, protocol: HTTPS}', // 7
      '    hosts: ["*"]',
      '    tls:',
      '      mode: MUTUAL', // 10
      '      serverCertificate: /etc/certs/cert.pem', // 11
      '      privateKey: /etc/certs/key.pem', // 12
    ),
  );
  assert.deepEqual(r.at, ['error:missing-field@10:13', 'warning:unsupported-field@11:7', 'warning:unsupported-field@12:7']);
  assert.match(r.diagnostics[0].message, /requires a client CA bundle/);
  const ok = loadText(
    gw(
      '  - port: {number: 443, name: https, protocol: HTTPS}', // 7
      '    hosts: ["*"]',
      '    tls:',
      '      mode: SIMPLE', // 10
      '      serverCertificate: /etc/certs/cert.pem', // 11
      '      privateKey: /etc/certs/key.pem', // 12
    ),
  );
  assert.deepEqual(ok.at, ['warning:unsupported-field@11:7', 'warning:unsupported-field@12:7']);
  assert.match(ok.diagnostics[0].message, /file path on the proxy's machine, which Strait does not read/);
  assert.equal(ok.resources.length, 1);
});

test('Gateway tls: PASSTHROUGH ignores certificates (warning), ISTIO_MUTUAL refuses them, one certificate source only', () => {
  const pass = loadText(gw('  - port: {number: 443, name: tls, protocol: TLS}', '    hosts: ["*"]', '    tls: {mode: PASSTHROUGH, credentialName: c}'));
  assert.deepEqual(pass.at, ['warning:ignored-certificate@9:30']);
  const implicit = loadText(gw('  - port: {number: 443, name: tls, protocol: HTTPS}', '    hosts: ["*"]', '    tls: {credentialName: c}'));
  assert.deepEqual(implicit.codes, ['warning:ignored-certificate']);
  assert.match(implicit.diagnostics[0].message, /no mode is set, so the mode is PASSTHROUGH/);
  const istio = loadText(gw('  - port: {number: 443, name: tls, protocol: HTTPS}', '    hosts: ["*"]', '    tls: {mode: ISTIO_MUTUAL, credentialName: c}'));
  assert.deepEqual(istio.at, ['error:conflict@9:31']);
  const two = loadText(gw('  - port: {number: 443, name: tls, protocol: HTTPS}', '    hosts: ["*"]', '    tls: {mode: SIMPLE, credentialName: c, credentialNames: [d]}'));
  assert.deepEqual(two.at, ['error:conflict@9:5']);
});

test('Gateway tls: versions, cipher suites, CRL rules', () => {
  const server = (tls: Record<string, unknown>) => [{ port: { number: 443, name: 'https', protocol: 'HTTPS' }, hosts: ['*'], tls: { mode: 'SIMPLE', credentialName: 'c', ...tls } }];
  assert.deepEqual(loadText(gateway(server({ minProtocolVersion: 'TLSV1_3', maxProtocolVersion: 'TLSV1_2' }))).codes, ['error:conflict']);
  assert.deepEqual(loadText(gateway(server({ minProtocolVersion: 'TLSV1_1' }))).codes, ['warning:tls-old-version']);
  assert.deepEqual(loadText(gateway(server({ cipherSuites: ['ECDHE-RSA-AES128-GCM-SHA256', 'NOPE', 'ECDHE-RSA-AES128-GCM-SHA256'] }))).codes, ['warning:unknown-cipher-suite', 'warning:duplicate-value']);
  assert.deepEqual(loadText(gateway(server({ caCrl: '/crl.pem' }))).codes, ['error:conflict', 'error:conflict', 'warning:unsupported-field']);
  const full = loadOne('Gateway', gateway(server({ subjectAltNames: ['a'], verifyCertificateSpki: ['b'], verifyCertificateHash: ['c'], minProtocolVersion: 'TLSV1_2', maxProtocolVersion: 'TLSV1_3', caCertCredentialName: 'ca' })));
  assert.deepEqual(full.diagnostics, []);
  assert.equal(full.resource.spec.servers[0].tls?.caCertCredentialName, 'ca');
  assert.deepEqual(full.resource.spec.servers[0].tls?.verifyCertificateHash, ['c']);
});

test('Gateway: every ServerTLSSettings field is known; a typo inside tls is an error with a suggestion', () => {
  const r = loadText(gw('  - port: {number: 443, name: https, protocol: HTTPS}', '    hosts: ["*"]', '    tls:', '      mode: SIMPLE', '      credentialNme: c'));
  assert.deepEqual(r.at, ['error:unknown-field@11:7']);
  assert.match(r.diagnostics[0].message, /did you mean 'credentialName'/);
});
