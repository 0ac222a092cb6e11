// The one module that loads @peculiar/x509 (certificate and PKCS#10 building on WebCrypto), and
// the key and PEM helpers around it. Everything else in Strait imports X.509 building from here,
// so the library's load-order requirement is met in one place: its 2.x releases resolve their
// ASN.1 parsers through a tsyringe container that needs `reflect-metadata` installed first, and
// throw at load without it.

import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { toPem } from './pem.js';
import type { KeyObject, webcrypto } from 'node:crypto';

// The project compiles without the DOM library, so WebCrypto's types come from Node's.
export type CryptoKey = webcrypto.CryptoKey;
export type CryptoKeyPair = webcrypto.CryptoKeyPair;
type Algorithm = webcrypto.Algorithm;
type EcdsaParams = webcrypto.EcdsaParams;
type EcKeyGenParams = webcrypto.EcKeyGenParams;
type EcKeyImportParams = webcrypto.EcKeyImportParams;
type RsaHashedKeyGenParams = webcrypto.RsaHashedKeyGenParams;
type RsaHashedImportParams = webcrypto.RsaHashedImportParams;

// Node 20 has WebCrypto as `globalThis.crypto`; the library asks its provider for it.
x509.cryptoProvider.set(globalThis.crypto);

export { x509 };

/** ECDSA P-256 with SHA-256: the mesh's default for roots and workload keys. */
export const EC_P256: EcKeyGenParams & EcdsaParams = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

/** Key kinds a workload may ask a certificate for (Istio's agent uses RSA 2048 or ECDSA P-256). */
export type KeyKind = 'ec-p256' | 'rsa-2048';

function generationParams(kind: KeyKind): EcKeyGenParams | RsaHashedKeyGenParams {
  return kind === 'ec-p256' ? EC_P256 : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) };
}

/** A new key pair; extractable so the private key can be written as PEM for TLS. */
export function generateKeyPair(kind: KeyKind = 'ec-p256'): Promise<CryptoKeyPair> {
  return globalThis.crypto.subtle.generateKey(generationParams(kind), true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
}

/** The signature algorithm a key signs with (SHA-256 in both families). */
export function signingAlgorithm(key: CryptoKey): EcdsaParams | Algorithm {
  return key.algorithm.name === 'ECDSA' ? { name: 'ECDSA', hash: 'SHA-256' } : { name: key.algorithm.name, hash: 'SHA-256' } as Algorithm;
}

/** PKCS#8 PEM of a private CryptoKey (what Node's tls `key` option reads). */
export async function privateKeyToPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await globalThis.crypto.subtle.exportKey('pkcs8', key));
  return toPem('PRIVATE KEY', der);
}

/**
 * Imports a private key PEM of any common encoding (PKCS#8, SEC1 "EC PRIVATE KEY", PKCS#1 "RSA
 * PRIVATE KEY"; operators' cacerts use all three) as a WebCrypto signing key. Node parses the
 * encoding; WebCrypto only imports PKCS#8, so the key goes through it.
 */
export async function importPrivateKeyPem(pem: string): Promise<CryptoKey> {
  const ko = createPrivateKey(pem);
  const der = ko.export({ type: 'pkcs8', format: 'der' });
  return globalThis.crypto.subtle.importKey('pkcs8', der, importParams(ko), true, ['sign']);
}

function importParams(ko: KeyObject): EcKeyImportParams | RsaHashedImportParams {
  const d = ko.asymmetricKeyDetails ?? {};
  if (ko.asymmetricKeyType === 'ec') {
    const curve = d.namedCurve === 'prime256v1' ? 'P-256' : d.namedCurve === 'secp384r1' ? 'P-384' : undefined;
    if (!curve) throw new Error(`EC key on curve ${d.namedCurve ?? '?'} is not supported (P-256 or P-384)`);
    return { name: 'ECDSA', namedCurve: curve };
  }
  if (ko.asymmetricKeyType === 'rsa') return { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
  throw new Error(`${ko.asymmetricKeyType ?? 'unknown'} keys are not supported (ECDSA or RSA)`);
}

/** True when the private key PEM belongs to the certificate's public key. */
export function keyMatchesCertificate(keyPem: string, certPem: string): boolean {
  const fromKey = createPublicKey(createPrivateKey(keyPem)).export({ type: 'spki', format: 'der' });
  const fromCert = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  return fromKey.equals(fromCert);
}


/** A positive 128-bit serial number in hex, from the CSPRNG (RFC 5280 §4.1.2.2: unpredictable). */
export function randomSerial(): string {
  const b = globalThis.crypto.getRandomValues(new Uint8Array(16));
  b[0] = (b[0]! & 0x7f) | 0x01; // positive, and 16 bytes long in DER
  return Buffer.from(b).toString('hex');
}

/**
 * A PKCS#10 request for `keys`, signed with its private key. Istio's agent names its SPIFFE ID as
 * a URI SAN; the CA compares it with the caller's identity, and signs nothing else from it.
 */
export async function createCsr(keys: CryptoKeyPair, sanUri?: string): Promise<string> {
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    keys,
    signingAlgorithm: signingAlgorithm(keys.privateKey),
    extensions: sanUri ? [new x509.SubjectAlternativeNameExtension([{ type: 'url', value: sanUri }])] : [],
  });
  return csr.toString('pem') + '\n';
}
