// Test-only helpers: loading manifest text with positions (loadText, loadOne, where), and
// certificates and keys made at test time with the openssl CLI, so that no private key is ever
// committed. Self-signed ECDSA P-256 leaves with a DNS SAN; the expired and not-yet-valid
// ones are signed through `openssl ca -selfsign` with explicit start and end dates, because the
// OpenSSL 3.0 found on most machines has no `-not_before`/`-not_after` for `req` or `x509`.
// Excluded from the build (tsconfig.build.json).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfigText } from './load-config.js';
import type { ConfigKind, ConfigResource, Diagnostic, ResourceOf } from './types.js';

export interface PemPair {
  readonly cert: string;
  readonly key: string;
}

export interface TestCertificates {
  /** Valid from now for a day, CN and SAN foo.bar.com. */
  readonly valid: PemPair;
  /** Another valid pair: its key does not match `valid.cert`. */
  readonly other: PemPair;
  /** Valid on 2020-01-01 only. */
  readonly expired: PemPair;
  /** Valid on 2099-01-01 only. */
  readonly notYetValid: PemPair;
  /** `valid.key`, encrypted with a passphrase (PKCS#8, AES-256). */
  readonly encryptedKey: string;
}

/** Why the certificate tests are skipped, or false when openssl is available (for `test(..., { skip })`). */
export function opensslSkipReason(): string | false {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return false;
  } catch {
    return 'openssl is not installed: the PEM checks need real certificates, which the tests make with it';
  }
}

const CA_CONFIG = ['[ca]', 'default_ca = self', '[self]', 'database = index.txt', 'new_certs_dir = .', 'serial = serial', 'default_md = sha256', 'policy = any', 'copy_extensions = copy', '[any]', 'commonName = supplied', ''].join('\n');

function openssl(dir: string, args: readonly string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

function read(dir: string, cert: string, key: string): PemPair {
  return { cert: fs.readFileSync(path.join(dir, cert), 'utf8'), key: fs.readFileSync(path.join(dir, key), 'utf8') };
}

function selfSigned(dir: string, name: string, host: string): PemPair {
  openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', `/CN=${host}`, '-addext', `subjectAltName=DNS:${host}`, '-keyout', `${name}.key`, '-out', `${name}.crt`]);
  return read(dir, `${name}.crt`, `${name}.key`);
}

function dated(dir: string, name: string, host: string, start: string, end: string): PemPair {
  openssl(dir, ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${host}`, '-addext', `subjectAltName=DNS:${host}`, '-keyout', `${name}.key`, '-out', `${name}.csr`]);
  openssl(dir, ['ca', '-batch', '-notext', '-selfsign', '-config', 'ca.cnf', '-keyfile', `${name}.key`, '-in', `${name}.csr`, '-startdate', start, '-enddate', end, '-out', `${name}.crt`]);
  return read(dir, `${name}.crt`, `${name}.key`);
}

function encrypted(dir: string, keyFile: string): string {
  openssl(dir, ['pkey', '-in', keyFile, '-aes256', '-passout', 'pass:not-a-secret', '-out', 'encrypted.key']);
  return fs.readFileSync(path.join(dir, 'encrypted.key'), 'utf8');
}

let made: TestCertificates | undefined;

/** Makes the certificates once per process (a few hundred milliseconds), in a directory removed at once. */
export function testCertificates(): TestCertificates {
  if (made) return made;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'strait-config-certs-'));
  try {
    fs.writeFileSync(path.join(dir, 'ca.cnf'), CA_CONFIG);
    fs.writeFileSync(path.join(dir, 'index.txt'), '');
    fs.writeFileSync(path.join(dir, 'serial'), '01\n');
    made = {
      valid: selfSigned(dir, 'valid', 'foo.bar.com'),
      other: selfSigned(dir, 'other', 'other.bar.com'),
      expired: dated(dir, 'expired', 'old.bar.com', '20200101000000Z', '20200102000000Z'),
      notYetValid: dated(dir, 'future', 'future.bar.com', '20990101000000Z', '20990102000000Z'),
      encryptedKey: encrypted(dir, 'valid.key'),
    };
    return made;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// ---- manifests -----------------------------------------------------------------------------------

/** Lines joined into a YAML text (tests annotate line numbers beside them). */
export const yaml = (...lines: string[]): string => `${lines.join('\n')}\n`;

/** `severity:code@line:col` of each diagnostic, for asserting exact positions. */
export function where(diags: readonly Diagnostic[]): string[] {
  return diags.map((d) => `${d.severity}:${d.code}@${d.line}:${d.col}`);
}

/** Loads one file's text (as `k.yaml`): the resources, the diagnostics and their positions. */
export function loadText(text: string): { resources: ConfigResource[]; diagnostics: Diagnostic[]; at: string[]; codes: string[] } {
  const { resources, diagnostics } = loadConfigText(text, 'k.yaml');
  return { resources, diagnostics, at: where(diagnostics), codes: diagnostics.map((d) => `${d.severity}:${d.code}`) };
}

/** The only resource of `text`, asserting its kind and that it loaded. */
export function loadOne<K extends ConfigKind>(kind: K, text: string): { resource: ResourceOf<K>; diagnostics: Diagnostic[]; at: string[]; codes: string[] } {
  const r = loadText(text);
  assert.equal(r.resources.length, 1, `expected one ${kind}; diagnostics: ${r.at.join(', ')} ${r.diagnostics.map((d) => d.message).join(' | ')}`);
  assert.equal(r.resources[0].kind, kind);
  return { ...r, resource: r.resources[0] as ResourceOf<K> };
}
