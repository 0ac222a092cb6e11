// Test certificates made at test time with the openssl CLI (never committed): self-signed
// ECDSA P-256 leaves with DNS SANs, and CAs with leaves they sign, in temporary directories.

import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface TestCert {
  readonly cert: string;
  readonly key: string;
  readonly certFile: string;
  readonly keyFile: string;
}

export function haveOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function makeCert(commonName: string, dnsNames: readonly string[] = [commonName], days = 2): TestCert {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strait-cert-'));
  const certFile = path.join(dir, 'tls.crt');
  const keyFile = path.join(dir, 'tls.key');
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', String(days), '-subj', `/CN=${commonName}`, '-addext', `subjectAltName=${dnsNames.map((d) => `DNS:${d}`).join(',')}`, '-keyout', keyFile, '-out', certFile],
    { stdio: 'ignore' },
  );
  return { cert: fs.readFileSync(certFile, 'utf8'), key: fs.readFileSync(keyFile, 'utf8'), certFile, keyFile };
}

/** A CA as Istio's secure-ingress task makes one (`/O=example Inc./CN=example.com`), ECDSA P-256. */
export function makeCa(commonName: string, organization = 'example Inc.', days = 2): TestCert {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strait-ca-'));
  const certFile = path.join(dir, `${commonName}.crt`);
  const keyFile = path.join(dir, `${commonName}.key`);
  execFileSync(
    'openssl',
    ['req', '-x509', '-sha256', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', String(days), '-subj', `/O=${organization}/CN=${commonName}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-keyout', keyFile, '-out', certFile],
    { stdio: 'ignore' },
  );
  return { cert: fs.readFileSync(certFile, 'utf8'), key: fs.readFileSync(keyFile, 'utf8'), certFile, keyFile };
}

/**
 * A leaf signed by `ca` (the task's `openssl req -new` + `openssl x509 -req -CA ...`), with the
 * common name as its DNS SAN, usable as a server and as a client certificate.
 */
export function makeSignedCert(ca: TestCert, commonName: string, organization = 'example organization', days = 2, sans = `DNS:${commonName}`): TestCert {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strait-leaf-'));
  const certFile = path.join(dir, `${commonName}.crt`);
  const keyFile = path.join(dir, `${commonName}.key`);
  const csrFile = path.join(dir, `${commonName}.csr`);
  const extFile = path.join(dir, 'ext.cnf');
  fs.writeFileSync(extFile, `subjectAltName=${sans}\nextendedKeyUsage=serverAuth,clientAuth\n`);
  execFileSync('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${commonName}/O=${organization}`, '-keyout', keyFile, '-out', csrFile], { stdio: 'ignore' });
  execFileSync('openssl', ['x509', '-req', '-sha256', '-days', String(days), '-CA', ca.certFile, '-CAkey', ca.keyFile, '-set_serial', String(randomInt(1, 2 ** 47)), '-extfile', extFile, '-in', csrFile, '-out', certFile], { stdio: 'ignore' });
  return { cert: fs.readFileSync(certFile, 'utf8'), key: fs.readFileSync(keyFile, 'utf8'), certFile, keyFile };
}

/** A workload certificate as the mesh CA issues it: no subject needed, the SPIFFE id as URI SAN. */
export function makeSpiffeCert(ca: TestCert, spiffeId: string): TestCert {
  return makeSignedCert(ca, spiffeId.split('/').pop() ?? 'workload', 'mesh', 2, `URI:${spiffeId}`);
}
