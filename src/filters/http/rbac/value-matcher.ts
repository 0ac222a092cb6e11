// Envoy's MetadataMatcher and ValueMatcher (envoy/type/matcher/v3/metadata.proto, value.proto)
// over the request's dynamic metadata (StreamInfo.dynamicMetadata, by filter name). This is how
// RBAC reads what other filters learned: Istio's request.auth.* conditions become matchers on
// `envoy.filters.http.jwt_authn` → `payload` → <claim> (the verified JWT payload), and ext_authz's
// filter_enabled_metadata reads the RBAC filter's shadow result.
//
// Values are JSON values, mapped to google.protobuf.Value kinds as Envoy stores them: string,
// number, boolean, null, array (list) and plain object (struct); anything missing along the path
// is Envoy's "kind not set", which only a negated matcher accepts.

import { ConfigError } from '../api.js';
import type { StreamInfo } from '../../../dataplane/http/stream-info.js';
import { checkFields, list, object, oneOf, optBool } from './proto-json.js';
import { compileStringMatcher } from './string-matcher.js';

export type ValuePredicate = (value: unknown) => boolean;
export type MetadataPredicate = (info: StreamInfo) => boolean;

const VALUE_KINDS = ['nullMatch', 'doubleMatch', 'stringMatch', 'boolMatch', 'presentMatch', 'listMatch', 'orMatch'] as const;

/** MetadataMatcher {filter, path: [{key}], value, invert}. */
export function compileMetadataMatcher(v: unknown, at: string): MetadataPredicate {
  const o = object(v, at, 'a MetadataMatcher object {filter, path, value}');
  checkFields(o, at, 'MetadataMatcher', ['filter', 'path', 'value', 'invert']);
  if (typeof o.filter !== 'string' || o.filter === '') throw new ConfigError(`${at}.filter: expected a filter name, got ${JSON.stringify(o.filter)}`);
  const filter = o.filter;
  const path = list(o.path, `${at}.path`, 'PathSegment {key}').map((seg, i) => {
    const s = object(seg, `${at}.path[${i}]`, 'a PathSegment object {key}');
    checkFields(s, `${at}.path[${i}]`, 'PathSegment', ['key']);
    if (typeof s.key !== 'string' || s.key === '') throw new ConfigError(`${at}.path[${i}].key: expected a non-empty string, got ${JSON.stringify(s.key)}`);
    return s.key;
  });
  if (path.length === 0) throw new ConfigError(`${at}.path: at least one segment is required`);
  if (o.value === undefined) throw new ConfigError(`${at}.value: required`);
  const match = compileValueMatcher(o.value, `${at}.value`);
  const invert = optBool(o.invert, `${at}.invert`);
  return (info) => match(metadataValue(info, filter, path)) !== invert;
}

/**
 * The value at `path` under the filter's metadata (Envoy's Metadata::metadataValue): each
 * segment but the last must name an object; anything else ends the walk with "not set".
 */
export function metadataValue(info: StreamInfo, filter: string, path: readonly string[]): unknown {
  let cur: unknown = info.dynamicMetadata[filter];
  for (const key of path) {
    if (!isStruct(cur)) return undefined;
    cur = Object.hasOwn(cur, key) ? cur[key] : undefined;
  }
  return cur;
}

export function compileValueMatcher(v: unknown, at: string): ValuePredicate {
  const o = object(v, at, 'a ValueMatcher object');
  checkFields(o, at, 'ValueMatcher', VALUE_KINDS);
  const kind = oneOf(o, at, VALUE_KINDS);
  const x = o[kind];
  const where = `${at}.${kind}`;
  switch (kind) {
    case 'nullMatch':
      object(x, where, 'an empty NullMatch object');
      return (value) => value === null;
    case 'boolMatch': {
      const want = optBool(x, where);
      return (value) => value === want;
    }
    case 'presentMatch': {
      // Envoy: present_match false matches nothing (it is not "absent").
      const want = optBool(x, where);
      return (value) => want && value !== undefined;
    }
    case 'stringMatch': {
      const m = compileStringMatcher(x, where);
      return (value) => typeof value === 'string' && m(value);
    }
    case 'doubleMatch':
      return compileDoubleMatcher(x, where);
    case 'listMatch': {
      const lm = object(x, where, 'a ListMatcher object {oneOf}');
      checkFields(lm, where, 'ListMatcher', ['oneOf']);
      if (lm.oneOf === undefined) throw new ConfigError(`${where}.oneOf: required`);
      const one = compileValueMatcher(lm.oneOf, `${where}.oneOf`);
      return (value) => Array.isArray(value) && value.some(one);
    }
    case 'orMatch': {
      const om = object(x, where, 'an OrMatcher object {valueMatchers}');
      checkFields(om, where, 'OrMatcher', ['valueMatchers']);
      const all = list(om.valueMatchers, `${where}.valueMatchers`, 'ValueMatcher').map((m, i) => compileValueMatcher(m, `${where}.valueMatchers[${i}]`));
      if (all.length < 2) throw new ConfigError(`${where}.valueMatchers: at least two matchers are required`);
      return (value) => {
        for (const m of all) if (m(value)) return true;
        return false;
      };
    }
  }
  throw new ConfigError(`${at}: unsupported ValueMatcher`);
}

/** DoubleMatcher {range: DoubleRange [start, end) | exact}. */
function compileDoubleMatcher(v: unknown, at: string): ValuePredicate {
  const o = object(v, at, 'a DoubleMatcher object {range | exact}');
  checkFields(o, at, 'DoubleMatcher', ['range', 'exact']);
  const kind = oneOf(o, at, ['range', 'exact']);
  if (kind === 'exact') {
    const want = num(o.exact, `${at}.exact`);
    return (value) => typeof value === 'number' && value === want;
  }
  const r = object(o.range, `${at}.range`, 'a DoubleRange object {start, end}');
  checkFields(r, `${at}.range`, 'DoubleRange', ['start', 'end']);
  const start = r.start === undefined ? 0 : num(r.start, `${at}.range.start`);
  const end = r.end === undefined ? 0 : num(r.end, `${at}.range.end`);
  return (value) => typeof value === 'number' && value >= start && value < end;
}

function num(v: unknown, at: string): number {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || Number.isNaN(n)) throw new ConfigError(`${at}: expected a number, got ${JSON.stringify(v)}`);
  return n;
}

function isStruct(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
