// IP addresses and CIDR ranges (envoy.config.core.v3.CidrRange) for RBAC's destination_ip,
// source_ip, direct_remote_ip and remote_ip. A range is compiled once into numbers; checking an
// address parses it into module-level scratch space (one request at a time on the event loop), so
// the request path allocates nothing.
//
// As in Envoy, a range only matches addresses of its own family. One exception: Node reports a
// peer on a dual-stack socket as an IPv4-mapped IPv6 address (::ffff:10.0.0.1), where Envoy
// would see plain IPv4; such an address is treated as the IPv4 address it carries.

import { ConfigError } from '../api.js';
import { checkFields, object, optInt } from './proto-json.js';

export type IpPredicate = (address: string, start?: number, end?: number) => boolean;

const v6 = new Uint16Array(8);
const tail = new Uint16Array(8);
let v4 = 0;

/**
 * Parses s[start, end) as an IP address into the scratch space: 4 (in `v4`), 6 (in `v6`), or 0
 * when it is not one. IPv4-mapped IPv6 addresses come back as 4. A zone (`%eth0`) is ignored.
 */
function parse(s: string, start: number, end: number): 0 | 4 | 6 {
  const pct = s.indexOf('%', start);
  if (pct >= 0 && pct < end) end = pct;
  if (end <= start) return 0;
  for (let i = start; i < end; i++) {
    if (s.charCodeAt(i) === 58 /* : */) {
      if (!parseV6(s, start, end)) return 0;
      if (v6[0] === 0 && v6[1] === 0 && v6[2] === 0 && v6[3] === 0 && v6[4] === 0 && v6[5] === 0xffff) {
        v4 = ((v6[6]! << 16) | v6[7]!) >>> 0;
        return 4;
      }
      return 6;
    }
  }
  const r = parseV4(s, start, end);
  if (r < 0) return 0;
  v4 = r;
  return 4;
}

/** Dotted-quad IPv4 as an unsigned 32-bit number, or -1. */
function parseV4(s: string, start: number, end: number): number {
  let out = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i <= end; i++) {
    const c = i === end ? 46 /* . */ : s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return -1;
    } else if (c === 46) {
      if (digits === 0) return -1;
      out = out * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else {
      return -1;
    }
  }
  return dots === 4 ? out : -1;
}

/** RFC 4291 §2.2 text forms (with `::` and a trailing dotted quad) into `v6`. */
function parseV6(s: string, start: number, end: number): boolean {
  head = 0;
  tailN = 0;
  compressed = false;
  let i = start;
  if (s.charCodeAt(i) === 58) {
    if (s.charCodeAt(i + 1) !== 58) return false;
    compressed = true;
    i += 2;
    if (i === end) {
      v6.fill(0);
      return true;
    }
  }
  for (;;) {
    // One group: up to 4 hex digits, or a dotted quad as the last 32 bits.
    let value = 0;
    let digits = 0;
    const groupStart = i;
    while (i < end) {
      const c = s.charCodeAt(i);
      const h = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
      if (h < 0) break;
      value = value * 16 + h;
      digits++;
      i++;
    }
    if (i < end && s.charCodeAt(i) === 46 /* . */) {
      const q = parseV4(s, groupStart, end);
      if (q < 0 || head + tailN > 6) return false;
      pushGroup(q >>> 16);
      pushGroup(q & 0xffff);
      break;
    }
    if (digits === 0 || digits > 4 || !pushGroup(value)) return false;
    if (i === end) break;
    if (s.charCodeAt(i) !== 58) return false;
    i++;
    if (s.charCodeAt(i) === 58) {
      if (compressed) return false;
      compressed = true;
      i++;
      if (i === end) break;
    } else if (i === end) {
      return false;
    }
  }
  const total = head + tailN;
  if (compressed ? total > 7 : total !== 8) return false;
  v6.fill(0, head);
  for (let k = 0; k < tailN; k++) v6[8 - tailN + k] = tail[k]!;
  return true;
}

// parseV6's state, kept at module level so that parsing allocates no closure.
let head = 0;
let tailN = 0;
let compressed = false;

function pushGroup(g: number): boolean {
  if (head + tailN >= 8) return false;
  if (compressed) tail[tailN++] = g;
  else v6[head++] = g;
  return true;
}

/** Whether `s` is an IPv4 or IPv6 address (config validation, tests). */
export function ipFamily(s: string): 0 | 4 | 6 {
  return parse(s, 0, s.length);
}

/**
 * Tests the host part of an `ip:port` string as the proxy writes them in StreamInfo
 * (`10.0.0.1:80`, `[::1]:80`, or `::1:80` without brackets). The port is always present in those
 * fields, so the last `:` separates it.
 */
export function hostMatches(ip: IpPredicate, s: string): boolean {
  if (s.charCodeAt(0) === 91 /* [ */) {
    const close = s.indexOf(']');
    return close < 0 ? ip(s) : ip(s, 1, close);
  }
  const colon = s.lastIndexOf(':');
  return colon < 0 ? ip(s) : ip(s, 0, colon);
}

/** The port of an `ip:port` string, or -1. */
export function portOf(s: string): number {
  const colon = s.lastIndexOf(':');
  if (colon < 0 || colon === s.length - 1) return -1;
  let p = 0;
  for (let i = colon + 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    p = p * 10 + (c - 48);
    if (p > 65535) return -1;
  }
  return p;
}

/**
 * Compiles a CidrRange {addressPrefix, prefixLen}; the predicate tests an address (or the
 * substring [start, end) of one).
 */
export function compileCidrRange(v: unknown, at: string): IpPredicate {
  const o = object(v, at, 'a CidrRange object {addressPrefix, prefixLen}');
  checkFields(o, at, 'CidrRange', ['addressPrefix', 'prefixLen']);
  if (typeof o.addressPrefix !== 'string' || o.addressPrefix === '') throw new ConfigError(`${at}.addressPrefix: expected an IP address, got ${JSON.stringify(o.addressPrefix)}`);
  const text = o.addressPrefix;
  // An address written as IPv4-mapped IPv6 is still an IPv6 range in Envoy; parse strictly here.
  const family = text.includes(':') ? (parseV6(text, 0, text.length) ? 6 : 0) : parseV4(text, 0, text.length) >= 0 ? 4 : 0;
  if (family === 0) throw new ConfigError(`${at}.addressPrefix: "${text}" is not an IP address`);
  const len = optInt(o.prefixLen, `${at}.prefixLen`, 0, family === 4 ? 32 : 128, 0);
  if (family === 4) {
    const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
    const prefix = (parseV4(text, 0, text.length) & mask) >>> 0;
    return (s, start = 0, end = s.length) => parse(s, start, end) === 4 && ((v4 & mask) >>> 0) === prefix;
  }
  const want = Uint16Array.from(v6);
  const whole = len >> 4;
  const rest = len & 15;
  const partial = rest === 0 ? 0 : (0xffff << (16 - rest)) & 0xffff;
  if (whole < 8) want[whole] = want[whole]! & partial;
  want.fill(0, Math.min(8, whole + 1));
  return (s, start = 0, end = s.length) => {
    // A mapped address parses as IPv4 and so never matches an IPv6 range, except ::ffff:0:0/96
    // style ranges, which Envoy would not match against an IPv4 peer either.
    if (parse(s, start, end) !== 6) return false;
    for (let k = 0; k < whole; k++) if (v6[k] !== want[k]) return false;
    return rest === 0 || (v6[whole]! & partial) === want[whole];
  };
}
