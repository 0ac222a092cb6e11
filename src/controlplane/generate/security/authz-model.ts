// One AuthorizationPolicy rule → one Envoy RBAC policy, with the semantics of Istio's
// pilot/pkg/security/authz/model (AZ-05..AZ-10):
//
// - a rule matches when one `from`, one `to` and every `when` match: each `from` becomes a
//   principal and each `to` a permission (Envoy ORs them), each an AND of its fields; the `when`
//   conditions are added to every principal (source-side keys) or permission (request-side keys);
//   an omitted from/to/when matches anything (`any: true`);
// - inside a field the values are ORed, and a `not*` field is NOT(any of its values);
// - a value that cannot be compiled (a bad IP, a port out of range, or an HTTP attribute on a TCP
//   chain) fails the whole rule in an ALLOW policy (a narrower allow) and only drops that value in
//   DENY, AUDIT and CUSTOM policies (a broader deny). A `when` key Istio does not know skips the
//   rule, whatever the action.

import type { HeaderMatcher, StringMatcher } from '../../../xds/resources.js';
import type { Permission, Principal, RbacAction, RbacPolicy } from './envoy-types.js';
import { URI_TEMPLATE_MATCH_TYPE } from './envoy-types.js';
import { cidrRange, headerMatcher, jwtClaimMatcher, jwtStringClaimMatcher, metadataMatcher, orValues, portNumber, quoteRegex, regexMatcher, stringMatcher, stringValue } from './authz-matchers.js';

// ---- input: the rule as the AuthorizationPolicy writes it (security/v1beta1) ---------------------

type Values = readonly string[] | undefined;

export interface AuthzSource {
  readonly principals?: Values;
  readonly notPrincipals?: Values;
  readonly requestPrincipals?: Values;
  readonly notRequestPrincipals?: Values;
  readonly namespaces?: Values;
  readonly notNamespaces?: Values;
  readonly ipBlocks?: Values;
  readonly notIpBlocks?: Values;
  readonly remoteIpBlocks?: Values;
  readonly notRemoteIpBlocks?: Values;
  readonly serviceAccounts?: Values;
  readonly notServiceAccounts?: Values;
  readonly trustDomains?: Values;
  readonly notTrustDomains?: Values;
}

export interface AuthzOperation {
  readonly hosts?: Values;
  readonly notHosts?: Values;
  readonly ports?: Values;
  readonly notPorts?: Values;
  readonly methods?: Values;
  readonly notMethods?: Values;
  readonly paths?: Values;
  readonly notPaths?: Values;
}

export interface AuthzCondition {
  readonly key: string;
  readonly values?: Values;
  readonly notValues?: Values;
}

export interface AuthzRule {
  readonly from?: readonly { readonly source?: AuthzSource }[];
  readonly to?: readonly { readonly operation?: AuthzOperation }[];
  readonly when?: readonly AuthzCondition[];
}

export interface RuleContext {
  /** The policy's namespace: `serviceAccounts` without a namespace are in it. */
  readonly namespace: string;
  /** The chain is TCP (network RBAC): HTTP attributes cannot be evaluated there (AZ-10). */
  readonly forTcp: boolean;
  /** ALLOW fails a rule on a bad value; DENY and LOG (AUDIT, CUSTOM) drop the value. */
  readonly action: RbacAction;
  /** The mesh trust domain, then its aliases (MeshConfig trustDomain, trustDomainAliases). */
  readonly trustDomains: readonly string[];
}

/** Why a rule produced no RBAC policy (for logs and tests). */
export class RuleSkipped extends Error {}

// ---- attributes ---------------------------------------------------------------------------------

/**
 * One attribute of a rule and its values. `one` compiles a single value (the values are ORed);
 * `all` compiles every value into one matcher (JWT attributes, whose values share a path).
 * Either throws when a value cannot be used.
 */
interface Attr<T> {
  readonly key: string;
  readonly values: readonly string[];
  readonly notValues: readonly string[];
  readonly one?: (value: string) => T;
  readonly all?: (values: readonly string[]) => T;
}

function attr<T>(key: string, values: Values, notValues: Values, g: Pick<Attr<T>, 'one' | 'all'>): Attr<T> | undefined {
  if (!values?.length && !notValues?.length) return undefined;
  return { key, values: values ?? [], notValues: notValues ?? [], ...g };
}

function httpOnly(ctx: RuleContext, key: string): void {
  if (ctx.forTcp) throw new Error(`"${key}" is HTTP only`);
}

function authenticated(m: StringMatcher): Principal {
  return { authenticated: { principalName: m } };
}

/** Principals `<td>/ns/<ns>/sa/<sa>` (AZ-06): the SPIFFE URI of the peer's certificate. */
const principal = (): Pick<Attr<Principal>, 'one'> => ({ one: (v) => authenticated(stringMatcher(v, 'spiffe://')) });

/** Namespaces: any identity whose path holds `/ns/<ns>/`; `*` inside a value is a wildcard. */
const namespace = (): Pick<Attr<Principal>, 'one'> => ({
  one: (v) => authenticated(regexMatcher(`.*/ns/${v.split('*').map(quoteRegex).join('.*')}/.*`)),
});

/**
 * Service accounts `<ns>/<sa>`, or `<sa>` in the policy's namespace: the identity's namespace and
 * account segments, allowing extra key/value segments in between and after, never a longer
 * account name (`sa/<sa>-x` does not match).
 */
const serviceAccount = (ctx: RuleContext): Pick<Attr<Principal>, 'one'> => ({
  one: (v) => {
    const slash = v.indexOf('/');
    const [ns, sa] = slash < 0 ? [ctx.namespace, v] : [v.slice(0, slash), v.slice(slash + 1)];
    return authenticated(regexMatcher(`spiffe://.+/ns/${quoteRegex(ns)}/(.+/|)sa/${quoteRegex(sa)}(/.+)?`));
  },
});

/** Trust domains: the host part of the SPIFFE URI (`*` alone: any; one `*`: a wildcard in it). */
const trustDomain = (): Pick<Attr<Principal>, 'one'> => ({
  one: (v) => {
    if (v === '*') return authenticated({ prefix: 'spiffe://' });
    if (!v.includes('*')) return authenticated({ prefix: `spiffe://${v}/` });
    const star = v.indexOf('*');
    return authenticated(regexMatcher(`spiffe://${quoteRegex(v.slice(0, star))}[^/]*${quoteRegex(v.slice(star + 1))}/.*`));
  },
});

const anyValue: StringMatcher = regexMatcher('.+');

/**
 * Request principals `<iss>/<sub>` (RA-09), split at the last `/` because issuers are often URLs:
 * the verified token's `iss` and `sub` claims. `*` anywhere stands for "any non-empty value" on
 * its side; `*x` with no `/` is a suffix of the subject, `x*` a prefix of the issuer.
 */
const requestPrincipal = (ctx: RuleContext, key: string): Pick<Attr<Principal>, 'all'> => ({
  all: (values) => {
    httpOnly(ctx, key);
    const ids = values.map((v): Principal => {
      const i = v.lastIndexOf('/');
      const iss = i >= 0 ? v.slice(0, i) : v;
      const sub = i >= 0 ? v.slice(i + 1) : '';
      let mi: StringMatcher;
      let ms: StringMatcher;
      if (v === '*') [mi, ms] = [anyValue, anyValue];
      else if (v.startsWith('*')) {
        if (i >= 0) [mi, ms] = [iss === '*' ? anyValue : { suffix: iss.slice(1) }, { exact: sub }];
        else [mi, ms] = [anyValue, { suffix: v.slice(1) }];
      } else if (v.endsWith('*')) {
        if (i >= 0) [mi, ms] = [{ exact: iss }, sub === '*' ? anyValue : { prefix: sub.slice(0, -1) }];
        else [mi, ms] = [{ prefix: v.slice(0, -1) }, anyValue];
      } else [mi, ms] = [{ exact: iss }, { exact: sub }];
      return { andIds: { ids: [{ metadata: jwtStringClaimMatcher('iss', mi) }, { metadata: jwtStringClaimMatcher('sub', ms) }] } };
    });
    return ids.length === 1 ? ids[0]! : { orIds: { ids } };
  },
});

/** A list-or-string claim of the verified token against any of the values. */
const claim = (ctx: RuleContext, key: string, claims: () => string[]): Pick<Attr<Principal>, 'all'> => ({
  all: (values) => {
    httpOnly(ctx, key);
    return { metadata: jwtClaimMatcher(claims(), orValues(values.map((v) => stringValue(stringMatcher(v))))) };
  },
});

const requestHeader = (ctx: RuleContext, key: string): Pick<Attr<Principal>, 'one'> => ({
  one: (v) => {
    httpOnly(ctx, key);
    return { header: headerMatcher(nameInBrackets(key.slice('request.headers'.length)), v) };
  },
});

const sourceIp = (): Pick<Attr<Principal>, 'one'> => ({ one: (v) => ({ directRemoteIp: cidrRange(v) }) });
const remoteIp = (): Pick<Attr<Principal>, 'one'> => ({ one: (v) => ({ remoteIp: cidrRange(v) }) });

const header = (ctx: RuleContext, key: string, name: string, ignoreCase = false): Pick<Attr<Permission>, 'one'> => ({
  one: (v) => {
    httpOnly(ctx, key);
    const h: HeaderMatcher = headerMatcher(name, v, ignoreCase);
    return { header: h };
  },
});

/**
 * Paths: exact, prefix, suffix or presence on the path without its query (Envoy's url_path).
 * Istio's templates `{*}` (one segment) and `{**}` (any segments) become a URI template match.
 */
const path = (ctx: RuleContext, key: string): Pick<Attr<Permission>, 'one'> => ({
  one: (v) => {
    httpOnly(ctx, key);
    if (v.includes('{*}') || v.includes('{**}')) {
      const pathTemplate = v.replaceAll('{**}', '**').replaceAll('{*}', '*');
      return { uriTemplate: { name: 'uri-template', typedConfig: { '@type': URI_TEMPLATE_MATCH_TYPE, pathTemplate } } };
    }
    return { urlPath: { path: stringMatcher(v) } };
  },
});

const destinationPort = (): Pick<Attr<Permission>, 'one'> => ({ one: (v) => ({ destinationPort: portNumber(v) }) });
const destinationIp = (): Pick<Attr<Permission>, 'one'> => ({ one: (v) => ({ destinationIp: cidrRange(v) }) });
const sni = (): Pick<Attr<Permission>, 'one'> => ({ one: (v) => ({ requestedServerName: stringMatcher(v) }) });

/**
 * `experimental.envoy.filters.<filter>[<key>]`: a string in another filter's dynamic metadata;
 * a value written `[v]` matches an element of a list there.
 */
const envoyFilter = (key: string): Pick<Attr<Permission>, 'all'> => ({
  all: (values) => {
    const body = key.slice('experimental.'.length).replace(/\]$/, '');
    const open = body.indexOf('[');
    if (open < 0) throw new Error(`invalid key: ${key}`);
    const matchers = values.map((v) =>
      v.startsWith('[') && v.endsWith(']') ? { listMatch: { oneOf: stringValue(stringMatcher(v.slice(1, -1))) } } : stringValue(stringMatcher(v)),
    );
    return { metadata: metadataMatcher(body.slice(0, open), [body.slice(open + 1)], orValues(matchers)) };
  },
});

function nameInBrackets(s: string): string {
  if (!s.startsWith('[') || !s.endsWith(']')) throw new RuleSkipped(`expecting format [<NAME>], but found ${s}`);
  return s.slice(1, -1);
}

/** `[a][b]` → [a, b]; anything else must be one `[name]` (which may itself hold `][`). */
function namesInNestedBrackets(s: string): string[] {
  const out: string[] = [];
  const re = /\[([^[\]]*)\]/y;
  let m: RegExpExecArray | null;
  while (re.lastIndex < s.length && (m = re.exec(s))) out.push(m[1]!);
  return re.lastIndex === s.length && out.length > 0 ? out : [nameInBrackets(s)];
}

// ---- trust domain aliases -------------------------------------------------------------------------

/**
 * Principals written for the local trust domain, one of its aliases, or `cluster.local` (which
 * stands for the local one) match under every one of them, as Istio's trust-domain bundle does;
 * principals of other trust domains, or with `*` as the trust domain, stay as written.
 */
export function withTrustDomainAliases(principals: readonly string[], trustDomains: readonly string[]): string[] {
  const out: string[] = [];
  const add = (p: string): void => void (out.includes(p) ? undefined : out.push(p));
  for (const p of principals) {
    const parts = p.split('/');
    if (parts.length !== 5 || parts[0] === '*') {
      add(p);
      continue;
    }
    const td = parts[0]!;
    if (td !== 'cluster.local' && !trustDomains.some((t) => wildcardEqual(td, t))) {
      add(p);
      continue;
    }
    for (const t of trustDomains) add(td.startsWith('*') && t.endsWith(td.slice(1)) ? p : [t, ...parts.slice(1)].join('/'));
  }
  return out;
}

/** Equal, or one of the two is a `*` / prefix `x*` / suffix `*x` pattern the other fits. */
function wildcardEqual(a: string, b: string): boolean {
  const fits = (s: string, pattern: string): boolean =>
    pattern === '*' || (pattern.endsWith('*') && s.startsWith(pattern.slice(0, -1))) || (pattern.startsWith('*') && s.endsWith(pattern.slice(1)));
  return a === b || fits(a, b) || fits(b, a);
}

function expandTrustDomains(values: readonly string[], trustDomains: readonly string[]): string[] {
  return [...new Set(values.flatMap((v) => (trustDomains.includes(v) ? [...trustDomains] : [v])))];
}

// ---- the rule ---------------------------------------------------------------------------------------

interface Lists {
  readonly principals: Attr<Principal>[][];
  readonly permissions: Attr<Permission>[][];
}

/** The rule's attributes, in the order Istio lays them out (from/to fields, then `when`). */
function attributes(rule: AuthzRule, ctx: RuleContext): Lists {
  const td = ctx.trustDomains;
  const basePrincipal: Attr<Principal>[] = [];
  const basePermission: Attr<Permission>[] = [];
  const push = <T>(list: Attr<T>[], a: Attr<T> | undefined): void => void (a && list.push(a));
  for (const c of rule.when ?? []) {
    const k = c.key;
    const v = c.values;
    const nv = c.notValues;
    if (k === 'destination.ip') push(basePermission, attr(k, v, nv, destinationIp()));
    else if (k === 'destination.port') push(basePermission, attr(k, v, nv, destinationPort()));
    else if (k === 'connection.sni') push(basePermission, attr(k, v, nv, sni()));
    else if (k.startsWith('experimental.envoy.filters.')) push(basePermission, attr(k, v, nv, envoyFilter(k)));
    else if (k === 'source.ip') push(basePrincipal, attr(k, v, nv, sourceIp()));
    else if (k === 'remote.ip') push(basePrincipal, attr(k, v, nv, remoteIp()));
    else if (k === 'source.namespace') push(basePrincipal, attr(k, v, nv, namespace()));
    else if (k === 'source.trustDomain') push(basePrincipal, attr(k, v && expandTrustDomains(v, td), nv && expandTrustDomains(nv, td), trustDomain()));
    else if (k === 'source.serviceAccount') push(basePrincipal, attr(k, v, nv, serviceAccount(ctx)));
    else if (k === 'source.principal') push(basePrincipal, attr(k, v && withTrustDomainAliases(v, td), nv && withTrustDomainAliases(nv, td), principal()));
    else if (k === 'request.auth.principal') push(basePrincipal, attr(k, v, nv, requestPrincipal(ctx, k)));
    else if (k === 'request.auth.audiences') push(basePrincipal, attr(k, v, nv, claim(ctx, k, () => ['aud'])));
    else if (k === 'request.auth.presenter') push(basePrincipal, attr(k, v, nv, claim(ctx, k, () => ['azp'])));
    else if (k.startsWith('request.headers')) push(basePrincipal, attr(k, v, nv, requestHeader(ctx, k)));
    else if (k.startsWith('request.auth.claims')) push(basePrincipal, attr(k, v, nv, claim(ctx, k, () => namesInNestedBrackets(k.slice('request.auth.claims'.length)))));
    else throw new RuleSkipped(`unknown attribute ${k}`);
  }

  const principals = (rule.from?.length ? rule.from : [undefined]).map((f) => {
    const s = f?.source;
    if (!s) return [...basePrincipal];
    const own = [
      attr('source.principal', s.principals && withTrustDomainAliases(s.principals, td), s.notPrincipals && withTrustDomainAliases(s.notPrincipals, td), principal()),
      attr('request.auth.principal', s.requestPrincipals, s.notRequestPrincipals, requestPrincipal(ctx, 'request.auth.principal')),
      attr('source.serviceAccount', s.serviceAccounts, s.notServiceAccounts, serviceAccount(ctx)),
      attr('source.trustDomain', s.trustDomains && expandTrustDomains(s.trustDomains, td), s.notTrustDomains && expandTrustDomains(s.notTrustDomains, td), trustDomain()),
      attr('source.namespace', s.namespaces, s.notNamespaces, namespace()),
      attr('remote.ip', s.remoteIpBlocks, s.notRemoteIpBlocks, remoteIp()),
      attr('source.ip', s.ipBlocks, s.notIpBlocks, sourceIp()),
    ].filter((a): a is Attr<Principal> => a !== undefined);
    return [...own, ...basePrincipal];
  });

  const permissions = (rule.to?.length ? rule.to : [undefined]).map((t) => {
    const o = t?.operation;
    if (!o) return [...basePermission];
    const own = [
      attr('hosts', o.hosts, o.notHosts, header(ctx, 'hosts', ':authority', true)),
      attr('methods', o.methods, o.notMethods, header(ctx, 'methods', ':method')),
      attr('paths', o.paths, o.notPaths, path(ctx, 'paths')),
      attr('ports', o.ports, o.notPorts, destinationPort()),
    ].filter((a): a is Attr<Permission> => a !== undefined);
    return [...own, ...basePermission];
  });
  return { principals, permissions };
}

interface Combinators<T> {
  readonly any: T;
  and(xs: T[]): T;
  or(xs: T[]): T;
  not(x: T): T;
}

const PERMISSION: Combinators<Permission> = {
  any: { any: true },
  and: (rules) => ({ andRules: { rules } }),
  or: (rules) => ({ orRules: { rules } }),
  not: (notRule) => ({ notRule }),
};

const PRINCIPAL: Combinators<Principal> = {
  any: { any: true },
  and: (ids) => ({ andIds: { ids } }),
  or: (ids) => ({ orIds: { ids } }),
  not: (notId) => ({ notId }),
};

/** AND of the attributes; a value that fails is dropped, or fails the rule for ALLOW. */
function combine<T>(attrs: readonly Attr<T>[], c: Combinators<T>, ctx: RuleContext): T {
  const tryOne = (f: () => T): T | undefined => {
    try {
      return f();
    } catch (err) {
      if (ctx.action === 'ALLOW') throw new RuleSkipped((err as Error).message);
      return undefined;
    }
  };
  const and: T[] = [];
  for (const a of attrs) {
    if (a.all) {
      const all = a.all;
      const yes = a.values.length ? tryOne(() => all(a.values)) : undefined;
      if (yes) and.push(yes);
      const no = a.notValues.length ? tryOne(() => all(a.notValues)) : undefined;
      if (no) and.push(c.not(no));
      continue;
    }
    const one = a.one!;
    const yes = a.values.map((v) => tryOne(() => one(v))).filter((x): x is NonNullable<typeof x> => x !== undefined);
    if (yes.length) and.push(c.or(yes));
    const no = a.notValues.map((v) => tryOne(() => one(v))).filter((x): x is NonNullable<typeof x> => x !== undefined);
    if (no.length) and.push(c.not(c.or(no)));
  }
  return c.and(and.length ? and : [c.any]);
}

/**
 * The RBAC policy for one rule, or RuleSkipped when the rule cannot be generated (an unknown
 * `when` key; in an ALLOW policy, any value that does not compile on this chain).
 */
export function rulePolicy(rule: AuthzRule, ctx: RuleContext): RbacPolicy {
  const { principals, permissions } = attributes(rule, ctx);
  return {
    permissions: permissions.map((list) => combine(list, PERMISSION, ctx)),
    principals: principals.map((list) => combine(list, PRINCIPAL, ctx)),
  };
}

/** The policy Istio writes for a policy without rules: it never matches anything. */
export const MATCH_NEVER: RbacPolicy = { permissions: [{ notRule: { any: true } }], principals: [{ notId: { any: true } }] };
