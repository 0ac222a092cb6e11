// Where tokens are found (Envoy's jwt_authn Extractor): the headers, query parameters and
// cookies a set of providers names, each location remembering which issuers may use it. A
// provider that names no location gets the defaults, `Authorization: Bearer <token>` and the
// `access_token` query parameter (RA-05). Every token found is returned, in Envoy's order
// (headers by name+prefix, then parameters, then cookies, each sorted), because Envoy verifies
// all of them: a request carrying a good token and a bad one must not pass on the good one.
//
// A header location with a value prefix finds the prefix anywhere in the value (case-sensitive,
// as Envoy's find()), then skips to the first base64url or '.' character; a value without the
// prefix holds no token for that location (so `bearer x` or `Basic x` is "no token", RA-09's
// anonymous request). The extractor also removes, before verification, every header the
// providers would write (forward_payload_header, claim_to_headers), so a client cannot forge them.

import type { FilterRequest } from '../api.js';
import type { HeaderMap } from '../../../dataplane/http/headers.js';

/** What the extractor needs to know of a provider. */
export interface LocationSpec {
  readonly issuer: string;
  readonly fromHeaders: readonly { readonly name: string; readonly valuePrefix: string }[];
  readonly fromParams: readonly string[];
  readonly fromCookies: readonly string[];
  /** Headers the provider writes from a verified token: removed from every incoming request. */
  readonly outputHeaders: readonly string[];
}

/** One token and where it came from. */
export interface TokenLocation {
  readonly token: string;
  /** Whether a token with this `iss` may come from this location (Envoy's JwtIssuerChecker). */
  isIssuerAllowed(iss: string): boolean;
  /** Takes the token out of the request (forward: false). */
  remove(req: FilterRequest): void;
}

/** The issuers that named one location; an empty issuer allows any. */
class IssuerChecker {
  private all = false;
  private readonly issuers = new Set<string>();
  add(issuer: string): void {
    if (issuer === '') this.all = true;
    else this.issuers.add(issuer);
  }
  allows(iss: string): boolean {
    return this.all || this.issuers.has(iss);
  }
}

interface HeaderLocation {
  readonly header: string;
  readonly prefix: string;
  readonly issuers: IssuerChecker;
}

const DEFAULT_HEADER = { name: 'authorization', valuePrefix: 'Bearer ' };
const DEFAULT_PARAM = 'access_token';

/** RFC 4648 §5 base64url characters plus '.', where a token may start after its prefix. */
const TOKEN_CHARS = /[A-Za-z0-9_.-]/;

export class Extractor {
  private readonly headers: HeaderLocation[];
  private readonly params: [string, IssuerChecker][];
  private readonly cookies: [string, IssuerChecker][];
  private readonly sanitize: readonly string[];

  constructor(providers: readonly LocationSpec[]) {
    const headers = new Map<string, HeaderLocation>();
    const params = new Map<string, IssuerChecker>();
    const cookies = new Map<string, IssuerChecker>();
    const sanitize = new Set<string>();
    const addHeader = (issuer: string, name: string, prefix: string): void => {
      const key = name + prefix;
      let loc = headers.get(key);
      if (!loc) headers.set(key, (loc = { header: name, prefix, issuers: new IssuerChecker() }));
      loc.issuers.add(issuer);
    };
    const addTo = (m: Map<string, IssuerChecker>, name: string, issuer: string): void => {
      let c = m.get(name);
      if (!c) m.set(name, (c = new IssuerChecker()));
      c.add(issuer);
    };
    for (const p of providers) {
      for (const h of p.fromHeaders) addHeader(p.issuer, h.name.toLowerCase(), h.valuePrefix);
      for (const q of p.fromParams) addTo(params, q, p.issuer);
      for (const c of p.fromCookies) addTo(cookies, c, p.issuer);
      if (p.fromHeaders.length === 0 && p.fromParams.length === 0 && p.fromCookies.length === 0) {
        addHeader(p.issuer, DEFAULT_HEADER.name, DEFAULT_HEADER.valuePrefix);
        addTo(params, DEFAULT_PARAM, p.issuer);
      }
      for (const h of p.outputHeaders) sanitize.add(h.toLowerCase());
    }
    // Envoy keeps these in ordered maps (std::map, absl::btree_map): byte order of the key.
    const byKey = <T>(m: Map<string, T>): [string, T][] => [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    this.headers = byKey(headers).map(([, v]) => v);
    this.params = byKey(params);
    this.cookies = byKey(cookies);
    this.sanitize = [...sanitize];
  }

  /** Removes the headers the providers write, so only a verified token can set them. */
  sanitizeHeaders(headers: HeaderMap): void {
    for (const h of this.sanitize) delete headers[h];
  }

  /** Every token in the request, in Envoy's order. */
  extract(req: FilterRequest): TokenLocation[] {
    const out: TokenLocation[] = [];
    for (const loc of this.headers) {
      const v = req.headers[loc.header];
      if (v === undefined) continue;
      for (const value of Array.isArray(v) ? v : [v]) {
        const token = tokenInHeader(value, loc.prefix);
        if (token !== undefined) out.push(headerLocation(token, loc));
      }
    }
    if (this.params.length > 0) {
      const qi = req.path.indexOf('?');
      if (qi >= 0) {
        const query = new URLSearchParams(req.path.slice(qi + 1));
        for (const [name, issuers] of this.params) {
          const token = query.get(name);
          if (token !== null) out.push(paramLocation(token, name, issuers));
        }
      }
    }
    if (this.cookies.length > 0) {
      const jar = parseCookies(req.headers.cookie);
      for (const [name, issuers] of this.cookies) {
        const token = jar.get(name);
        if (token !== undefined) out.push(cookieLocation(token, issuers));
      }
    }
    return out;
  }
}

/** The token in one header value for `prefix`, or undefined when the prefix is not there. */
function tokenInHeader(value: string, prefix: string): string | undefined {
  if (prefix === '') return value;
  const at = value.indexOf(prefix);
  if (at < 0) return undefined;
  for (let i = at + prefix.length; i < value.length; i++) {
    if (TOKEN_CHARS.test(value[i]!)) return value.slice(i);
  }
  // Envoy's extractJWT: with no token character after the prefix, the whole value is the
  // "token" (which then fails to parse, rather than counting as missing).
  return value;
}

function headerLocation(token: string, loc: HeaderLocation): TokenLocation {
  return {
    token,
    isIssuerAllowed: (iss) => loc.issuers.allows(iss),
    remove: (req) => {
      delete req.headers[loc.header];
    },
  };
}

function paramLocation(token: string, name: string, issuers: IssuerChecker): TokenLocation {
  return {
    token,
    isIssuerAllowed: (iss) => issuers.allows(iss),
    remove: (req) => {
      req.path = withoutParam(req.path, name);
    },
  };
}

function cookieLocation(token: string, issuers: IssuerChecker): TokenLocation {
  return {
    token,
    isIssuerAllowed: (iss) => issuers.allows(iss),
    // Envoy leaves cookies in place (a TODO in its extractor); so does Strait.
    remove: () => undefined,
  };
}

/** `path` without any `name=...` query pair; the other pairs keep their exact encoding. */
export function withoutParam(path: string, name: string): string {
  const qi = path.indexOf('?');
  if (qi < 0) return path;
  const kept = path
    .slice(qi + 1)
    .split('&')
    .filter((pair) => {
      const eq = pair.indexOf('=');
      const raw = eq < 0 ? pair : pair.slice(0, eq);
      return new URLSearchParams(`${raw}=`).keys().next().value !== name;
    });
  return kept.length === 0 ? path.slice(0, qi) : `${path.slice(0, qi)}?${kept.join('&')}`;
}

/** Http::Utility::parseCookies: `a=b; c="d"`, first occurrence of a name wins. */
function parseCookies(v: string | string[] | undefined): Map<string, string> {
  const jar = new Map<string, string>();
  if (v === undefined) return jar;
  for (const header of Array.isArray(v) ? v : [v]) {
    for (const part of header.split(';')) {
      const s = part.trim();
      const eq = s.indexOf('=');
      if (eq <= 0) continue;
      const name = s.slice(0, eq);
      let value = s.slice(eq + 1);
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
      if (!jar.has(name)) jar.set(name, value);
    }
  }
  return jar;
}
