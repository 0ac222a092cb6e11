// The hash key of a request for consistent-hash load balancing (Envoy's route hash_policy;
// Istio's DestinationRule consistentHash): from a header, a cookie, the client address or a
// query parameter, combined over the policies until a terminal one produces a key. A cookie
// policy with a TTL generates the cookie when the client has none, and the response sets it.

import type { Random } from '../../common/random.js';
import type { HeaderMap } from '../http/headers.js';
import type { HashKeySource } from './route-entry.js';

export interface HashResult {
  readonly key: number;
  /** A Set-Cookie value to add to the response (generated affinity cookie). */
  readonly setCookie?: string;
}

/** FNV-1a, 32-bit: fast, and well spread for ring hash and Maglev. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function cookieValue(header: string | string[] | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of (Array.isArray(header) ? header.join('; ') : header).split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function computeHashKey(sources: readonly HashKeySource[], headers: HeaderMap, fullPath: string, remoteAddress: string, random: Random): HashResult | undefined {
  let material = '';
  let setCookie: string | undefined;
  for (const s of sources) {
    let v: string | undefined;
    switch (s.kind) {
      case 'header': {
        const h = headers[s.name];
        v = Array.isArray(h) ? h.join(',') : h;
        break;
      }
      case 'cookie':
        v = cookieValue(headers.cookie, s.name);
        if (v === undefined && s.ttlMs !== undefined) {
          v = Math.floor(random.next() * 2 ** 52).toString(16);
          const attrs = [`${s.name}=${v}`];
          if (s.ttlMs > 0) attrs.push(`Max-Age=${Math.floor(s.ttlMs / 1000)}`);
          if (s.path) attrs.push(`Path=${s.path}`);
          attrs.push('HttpOnly');
          setCookie = attrs.join('; ');
        }
        break;
      case 'source_ip':
        v = remoteAddress || undefined;
        break;
      case 'query': {
        const qi = fullPath.indexOf('?');
        v = qi < 0 ? undefined : (new URLSearchParams(fullPath.slice(qi + 1)).get(s.name) ?? undefined);
        break;
      }
    }
    if (v === undefined) continue;
    material += `${material ? '\0' : ''}${v}`;
    if (s.terminal) break;
  }
  return material ? { key: fnv1a(material), setCookie } : undefined;
}
