// Matchers for authorization rules, with Istio's string conventions (AZ-08): a value is an exact
// match, `abc*` a prefix, `*abc` a suffix, and `*` alone means "present and not empty". These
// helpers turn one AuthorizationPolicy value into the Envoy matcher Istio's builder writes for
// it (pilot/pkg/security/authz/matcher), so `strait proxy-config` reads like Istio's output.

import { isIPv4, isIPv6 } from 'node:net';
import type { HeaderMatcher, StringMatcher } from '../../../xds/resources.js';
import type { CidrRange, MetadataMatcher, ValueMatcher } from './envoy-types.js';
import { JWT_AUTHN_FILTER } from './envoy-types.js';

/**
 * Where the JWT filter puts a verified token's payload: `payload_in_metadata`, under the
 * filter's name. Istio writes the fixed key `payload` (pilot/pkg/xds/filters), and its RBAC
 * matchers read claims at [payload, <claim>...]; the issuer needs no key of its own because only
 * one token is verified per request.
 */
export const JWT_PAYLOAD_KEY = 'payload';

/** An RE2 literal: escapes the characters RE2 gives a meaning to. */
export function quoteRegex(s: string): string {
  return s.replace(/[\\.+*?()|[\]{}^$]/g, '\\$&');
}

export function regexMatcher(regex: string): StringMatcher {
  return { safeRegex: { regex } };
}

/**
 * A value in Istio's notation, with `prefix` added in front of the literal part (for example
 * `spiffe://` before a principal). `*` alone becomes the regex `.+` (any non-empty value),
 * because Envoy rejects empty prefix and suffix matchers.
 */
export function stringMatcher(value: string, prefix = '', ignoreCase = false): StringMatcher {
  const ic = ignoreCase ? { ignoreCase: true } : {};
  if (value === '*') return regexMatcher('.+');
  if (value.startsWith('*')) {
    // A suffix after a fixed prefix can only be written as a regex.
    if (prefix) return regexMatcher(`${quoteRegex(prefix)}.*${quoteRegex(value.slice(1))}`);
    return { suffix: value.slice(1), ...ic };
  }
  if (value.endsWith('*')) return { prefix: prefix + value.slice(0, -1), ...ic };
  return { exact: prefix + value, ...ic };
}

/**
 * A header condition: `*` is a presence match (the header must be there), otherwise exact,
 * prefix or suffix on the value. Method and `request.headers[...]` matches are case-sensitive;
 * hosts are not (AZ-07), so `ignoreCase` is set for `:authority`.
 */
export function headerMatcher(name: string, value: string, ignoreCase = false): HeaderMatcher {
  if (value === '*') return { name, presentMatch: true };
  const ic = ignoreCase ? { ignoreCase: true } : {};
  if (value.startsWith('*')) return { name, stringMatch: { suffix: value.slice(1), ...ic } };
  if (value.endsWith('*')) return { name, stringMatch: { prefix: value.slice(0, -1), ...ic } };
  return { name, stringMatch: { exact: value, ...ic } };
}

/**
 * An IP or CIDR as Envoy's CidrRange: a bare address is a /32 (or /128). Throws on anything
 * else, so the caller can drop the value the way Istio's builder does for invalid input.
 */
export function cidrRange(value: string): CidrRange {
  const slash = value.indexOf('/');
  const addr = slash < 0 ? value : value.slice(0, slash);
  const v4 = isIPv4(addr);
  if (!v4 && !isIPv6(addr)) throw new Error(`"${value}" is not an IP address or CIDR`);
  const bits = v4 ? 32 : 128;
  let len = bits;
  if (slash >= 0) {
    const lenText = value.slice(slash + 1);
    if (!/^\d{1,3}$/.test(lenText) || Number(lenText) > bits) throw new Error(`"${value}" has an invalid prefix length`);
    len = Number(lenText);
  }
  // IPv6 in its canonical (compressed, lower-case) text, as Go's netip prints it.
  const address = v4 ? addr : new URL(`http://[${addr}]`).hostname.slice(1, -1);
  return { addressPrefix: address, prefixLen: len };
}

/** A port written as a string (AZ-07 `ports`, `destination.port`); throws when it is not 0..65535. */
export function portNumber(value: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw new Error(`"${value}" is not a port`);
  return Number(value);
}

export function stringValue(m: StringMatcher): ValueMatcher {
  return { stringMatch: m };
}

/** Several values, any of which may match (one value stays a plain matcher). */
export function orValues(matchers: ValueMatcher[]): ValueMatcher {
  return matchers.length === 1 ? matchers[0]! : { orMatch: { valueMatchers: matchers } };
}

/** A metadata matcher on `filter`'s dynamic metadata at `keys`. */
export function metadataMatcher(filter: string, keys: readonly string[], value: ValueMatcher): MetadataMatcher {
  return { filter, path: keys.map((key) => ({ key })), value };
}

/**
 * A JWT claim of the verified token (RA-09): a list claim matches when one of its elements
 * matches, a string claim when it matches itself (TASK-13: `groups: [group1, group2]` matches
 * `group1`).
 */
export function jwtClaimMatcher(claims: readonly string[], value: ValueMatcher): MetadataMatcher {
  return metadataMatcher(JWT_AUTHN_FILTER, [JWT_PAYLOAD_KEY, ...claims], { orMatch: { valueMatchers: [{ listMatch: { oneOf: value } }, value] } });
}

/** A single string claim (`iss`, `sub`) of the verified token. */
export function jwtStringClaimMatcher(claim: string, m: StringMatcher): MetadataMatcher {
  return metadataMatcher(JWT_AUTHN_FILTER, [JWT_PAYLOAD_KEY, claim], { stringMatch: m });
}
