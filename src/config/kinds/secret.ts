// v1 Secret: TLS certificates and keys for Ingresses and gateways, and data for workloads. `data`
// is base64 as in the Kubernetes API (decoded here; invalid base64 is an error, as kubectl reports
// it), `stringData` is plain text and wins over `data` for the same key, as the API server does
// when it merges them. Certificates and keys (tls.crt/tls.key/ca.crt, and Istio's cert/key/cacert)
// are parsed and matched here, at the key that holds them (certificates.ts).

import { field, ignored, mapOf, str } from '../schema.js';
import type { SecretResource } from '../types.js';
import { checkSecretCertificates } from './certificates.js';
import type { SecretValue } from './certificates.js';
import { defineKind, resourceSchema } from './common.js';

/** Keys of Secret and ConfigMap data: what may become a file name in a volume. */
export function checkDataKey(k: string): string | undefined {
  return k.length > 0 && k.length <= 253 && /^[-._a-zA-Z0-9]+$/.test(k) && k !== '.' && k !== '..'
    ? undefined
    : 'a data key: at most 253 letters, digits, \'-\', \'_\' or \'.\' (and not "." or "..")';
}

/** Standard base64 with padding, as Go's encoding/base64 reads it (which skips \r and \n). */
export function checkBase64(v: string): string | undefined {
  const s = v.replace(/[\r\n]/g, '');
  return s.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(s)
    ? undefined
    : 'base64 (standard alphabet A-Z a-z 0-9 + /, padded with = to a multiple of 4 characters); to write plain text use stringData instead';
}

export function decodeBase64(v: string): Buffer {
  return Buffer.from(v.replace(/[\r\n]/g, ''), 'base64');
}

export const secretSchema = resourceSchema(
  {
    type: field(str({ nonEmpty: true }), 'defaults to Opaque'),
    data: field(mapOf(str({ rule: checkBase64, expected: 'a base64 string' }), { keyRule: checkDataKey, expected: 'a map of base64 strings' })),
    stringData: field(mapOf(str(), { keyRule: checkDataKey, expected: 'a map of strings' })),
    immutable: ignored('Strait re-reads files on change; nothing to protect'),
  },
  undefined,
  {
    refine(v, r) {
      // The API server rejects a kubernetes.io/tls Secret without both keys; gateways would fail
      // later with a far less helpful message.
      if (v.type === 'kubernetes.io/tls') {
        const keys = new Set([...Object.keys(v.data ?? {}), ...Object.keys(v.stringData ?? {})]);
        for (const k of ['tls.crt', 'tls.key']) {
          if (!keys.has(k)) r.error([v.data ? 'data' : 'type'], 'missing-field', `a kubernetes.io/tls Secret needs the key ${k}`, `add ${k} to data (base64) or stringData (PEM text)`, 'key');
        }
      }
      const values = new Map<string, SecretValue>();
      for (const [k, b64] of Object.entries(v.data ?? {})) values.set(k, { text: decodeBase64(b64).toString('utf8'), path: ['data', k] });
      for (const [k, text] of Object.entries(v.stringData ?? {})) values.set(k, { text, path: ['stringData', k] });
      // The current time, not an injected clock: validation runs once per load, and a warning
      // about an expired certificate is about the moment the user reads it.
      for (const f of checkSecretCertificates(v.type ?? 'Opaque', values, new Date())) {
        if (f.severity === 'error') r.error(f.path, f.code, f.message, f.fix);
        else r.warn(f.path, f.code, f.message, f.fix);
      }
    },
  },
);

export const secretKind = defineKind({
  kind: 'Secret',
  apiVersions: ['v1'],
  origin: 'Kubernetes',
  schema: secretSchema,
  convert(v, base): SecretResource {
    const data: Record<string, Buffer> = {};
    for (const [k, b64] of Object.entries(v.data ?? {})) data[k] = decodeBase64(b64);
    for (const [k, text] of Object.entries(v.stringData ?? {})) data[k] = Buffer.from(text, 'utf8');
    return { ...base, kind: 'Secret', type: v.type ?? 'Opaque', data };
  },
});
