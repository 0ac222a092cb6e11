// Envoy's route HeaderMatcher (envoy/config/route/v3/route_components.proto) with the semantics
// RBAC's `header` permission and principal use (Envoy's HeaderUtility::matchHeaders):
//   - the value is all of the header's values joined with ",";
//   - pseudo-headers :method, :path (query included), :authority and :scheme are readable;
//   - a missing header never matches, even inverted, unless treat_missing_header_as_empty;
//     present_match is the exception: it tests presence, and invert_match flips it.
// On a TCP connection (no request) every header is missing.

import type { FilterRequest } from '../api.js';
import { ConfigError } from '../api.js';
import { checkFields, object, optBool, optInt } from './proto-json.js';
import { compileSafeRegex, compileStringMatcher, literalMatcher } from './string-matcher.js';
import type { StringPredicate } from './string-matcher.js';

export type HeaderGetter = (req: FilterRequest) => string | undefined;
export type HeaderPredicate = (req: FilterRequest | null) => boolean;

const SPECIFIERS = ['exactMatch', 'safeRegexMatch', 'rangeMatch', 'presentMatch', 'prefixMatch', 'suffixMatch', 'containsMatch', 'stringMatch'] as const;
const FIELDS = ['name', ...SPECIFIERS, 'invertMatch', 'treatMissingHeaderAsEmpty'];

/** How to read one header (or pseudo-header) from a request, chosen once per matcher. */
export function headerGetter(name: string): HeaderGetter {
  switch (name) {
    case ':method':
      return (r) => r.method;
    case ':path':
      return (r) => r.path;
    case ':authority':
    case 'host':
      return (r) => r.authority;
    case ':scheme':
      return (r) => r.scheme;
  }
  return (r) => {
    const v = r.headers[name];
    return Array.isArray(v) ? v.join(',') : v;
  };
}

export function compileHeaderMatcher(v: unknown, at: string): HeaderPredicate {
  const o = object(v, at, 'a HeaderMatcher object');
  checkFields(o, at, 'HeaderMatcher', FIELDS);
  if (typeof o.name !== 'string' || o.name === '') throw new ConfigError(`${at}.name: expected a header name, got ${JSON.stringify(o.name)}`);
  const name = o.name.toLowerCase();
  const get = headerGetter(name);
  const invert = optBool(o.invertMatch, `${at}.invertMatch`);
  const missingAsEmpty = optBool(o.treatMissingHeaderAsEmpty, `${at}.treatMissingHeaderAsEmpty`);
  const set = SPECIFIERS.filter((k) => o[k] !== undefined);
  if (set.length > 1) throw new ConfigError(`${at}: set at most one of ${SPECIFIERS.join(', ')} (got ${set.join(' and ')})`);
  const kind = set[0];

  if (kind === undefined || kind === 'presentMatch') {
    // No specifier at all means "the header is present".
    const want = kind === undefined ? true : optBool(o.presentMatch, `${at}.presentMatch`);
    return (r) => {
      const present = r !== null && get(r) !== undefined;
      return (present !== invert) === want;
    };
  }
  const test = valueTest(kind, o[kind], `${at}.${kind}`);
  return (r) => {
    let value = r === null ? undefined : get(r);
    if (value === undefined) {
      if (!missingAsEmpty) return false;
      value = '';
    }
    return test(value) !== invert;
  };
}

function valueTest(kind: Exclude<(typeof SPECIFIERS)[number], 'presentMatch'>, v: unknown, at: string): StringPredicate {
  switch (kind) {
    case 'stringMatch':
      return compileStringMatcher(v, at);
    case 'safeRegexMatch':
      return compileSafeRegex(v, at);
    case 'rangeMatch': {
      // Int64Range, half-open [start, end); the header must be a base-10 integer.
      const r = object(v, at, 'an Int64Range object {start, end}');
      checkFields(r, at, 'Int64Range', ['start', 'end']);
      const start = optInt(r.start, `${at}.start`, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 0);
      const end = optInt(r.end, `${at}.end`, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 0);
      return (s) => {
        if (!/^[-+]?\d+$/.test(s)) return false;
        const n = Number(s);
        return n >= start && n < end;
      };
    }
    default: {
      // The deprecated literal forms: exact (may be empty) and non-empty prefix, suffix, contains.
      if (typeof v !== 'string') throw new ConfigError(`${at}: expected a string, got ${JSON.stringify(v)}`);
      if (kind !== 'exactMatch' && v === '') throw new ConfigError(`${at}: must not be empty`);
      const literal = ({ exactMatch: 'exact', prefixMatch: 'prefix', suffixMatch: 'suffix', containsMatch: 'contains' } as const)[kind];
      return literalMatcher(literal, v, false);
    }
  }
}
