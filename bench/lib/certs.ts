// Certificates for the mesh pairs of the benchmark, made at run time with the openssl CLI in the
// run's temp dir (never committed): one mesh CA (ECDSA P-256, as Strait's CA issues) and a
// workload certificate per side with its SPIFFE id as URI SAN — what Strait's secure naming
// checks — plus a DNS SAN, because nginx and HAProxy can only verify a DNS name.

import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface PemFiles {
  cert: string;
  key: string;
  certFile: string;
  keyFile: string;
  /** Certificate and key in one file (HAProxy's `crt`). */
  bundleFile: string;
}

function files(dir: string, name: string): PemFiles {
  const certFile = path.join(dir, `${name}.crt`);
  const keyFile = path.join(dir, `${name}.key`);
  const bundleFile = path.join(dir, `${name}.pem`);
  const cert = fs.readFileSync(certFile, 'utf8');
  const key = fs.readFileSync(keyFile, 'utf8');
  fs.writeFileSync(bundleFile, cert + key);
  return { cert, key, certFile, keyFile, bundleFile };
}

export function makeMeshCa(dir: string): PemFiles {
  execFileSync(
    'openssl',
    ['req', '-x509', '-sha256', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', '/O=strait bench/CN=mesh root',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-keyout', path.join(dir, 'ca.key'), '-out', path.join(dir, 'ca.crt')],
    { stdio: 'ignore' },
  );
  return files(dir, 'ca');
}

/** A workload certificate signed by `ca`, for server and client use, with URI and DNS SANs. */
export function makeWorkloadCert(dir: string, ca: PemFiles, name: string, spiffeId: string, dnsName: string): PemFiles {
  const csr = path.join(dir, `${name}.csr`);
  const ext = path.join(dir, `${name}.ext`);
  fs.writeFileSync(ext, `subjectAltName=URI:${spiffeId},DNS:${dnsName}\nextendedKeyUsage=serverAuth,clientAuth\n`);
  execFileSync('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/O=mesh/CN=${name}`, '-keyout', path.join(dir, `${name}.key`), '-out', csr], { stdio: 'ignore' });
  execFileSync('openssl', ['x509', '-req', '-sha256', '-days', '2', '-CA', ca.certFile, '-CAkey', ca.keyFile, '-set_serial', String(randomInt(1, 2 ** 47)), '-extfile', ext, '-in', csr, '-out', path.join(dir, `${name}.crt`)], { stdio: 'ignore' });
  return files(dir, name);
}
