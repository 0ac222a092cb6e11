// Checks a workload's PKCS#10 certificate request before the CA signs anything. The CA takes only
// the public key from a CSR: the identity in the certificate comes from the authenticated caller.
// The CSR's subject is ignored and its SANs are only compared with that identity, so that a proxy
// asking for someone else's name is refused with a clear reason instead of getting a certificate
// that silently says something other than what it asked for.

import type { webcrypto } from 'node:crypto';
import { x509 } from './x509.js';

export class CsrError extends Error {}

/** Far above any real CSR (an RSA 4096 one is ~1.7 KB); bounds the parsing work per request. */
export const MAX_CSR_BYTES = 16 * 1024;

export interface CheckedCsr {
  readonly publicKey: x509.PublicKey;
  /** `ECDSA P-256`, `RSA 2048`, ... for logs and status. */
  readonly keyDescription: string;
}

/**
 * Parses the CSR, verifies its self-signature (proof the requester holds the private key), checks
 * the key type (ECDSA P-256/P-384, RSA 2048 to 8192 bits) and that any URI SAN it asks for is
 * exactly `expectedUri`.
 */
export async function checkCsr(pem: string, expectedUri: string): Promise<CheckedCsr> {
  if (pem.length > MAX_CSR_BYTES) throw new CsrError(`the CSR is ${pem.length} bytes; at most ${MAX_CSR_BYTES} are accepted`);
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(pem);
  } catch (e) {
    throw new CsrError(`not a PEM PKCS#10 certificate request: ${(e as Error).message}`);
  }
  let signed = false;
  try {
    signed = await csr.verify();
  } catch (e) {
    throw new CsrError(`the CSR's signature cannot be checked: ${(e as Error).message}`);
  }
  if (!signed) throw new CsrError("the CSR's signature does not verify with its own public key");
  const keyDescription = describeKey(csr.publicKey.algorithm);
  const sans = csr.extensions.filter((e): e is x509.SubjectAlternativeNameExtension => e instanceof x509.SubjectAlternativeNameExtension);
  for (const name of sans.flatMap((e) => e.names.items)) {
    if (name.type === 'url' && name.value !== expectedUri) throw new CsrError(`the CSR asks for ${name.value}, but the caller is ${expectedUri}`);
  }
  return { publicKey: csr.publicKey, keyDescription };
}

function describeKey(alg: webcrypto.KeyAlgorithm): string {
  if (alg.name === 'ECDSA') {
    const curve = (alg as webcrypto.EcKeyAlgorithm).namedCurve;
    if (curve !== 'P-256' && curve !== 'P-384') throw new CsrError(`ECDSA keys on ${curve} are not accepted (P-256 or P-384)`);
    return `ECDSA ${curve}`;
  }
  if (alg.name === 'RSASSA-PKCS1-v1_5' || alg.name === 'RSA-PSS') {
    const bits = (alg as webcrypto.RsaKeyAlgorithm).modulusLength;
    if (!(bits >= 2048 && bits <= 8192)) throw new CsrError(`RSA keys of ${bits} bits are not accepted (2048 to 8192)`);
    return `RSA ${bits}`;
  }
  throw new CsrError(`${alg.name} keys are not accepted (ECDSA P-256 or RSA 2048 and up)`);
}
