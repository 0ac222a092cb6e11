// Test certificates made at test time with the openssl CLI (never committed): self-signed
// ECDSA P-256 leaves with DNS SANs, in a temporary directory.

import { execFileSync } from 'node:child_process';
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
