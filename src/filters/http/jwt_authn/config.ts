// The JWT filter's config (envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication) in its
// proto3-JSON shape: validated and compiled once per listener config into providers (with their
// key sources), requirement verifiers and rules, and the route-level PerRouteConfig. Istio's
// RequestAuthentication becomes one provider per jwtRule (`origins-<i>`) and one rule
// `{match: {prefix: /}, requires: {requires_any: [provider, allow_missing]}}` (more providers:
// see README.md). Anything Strait would not honour exactly is a ConfigError naming the field,
// so the proxy NACKs instead of authenticating differently from what was asked.

import type { FilterFactoryContext, HttpFilter, HttpFilterFactory } from '../api.js';
import { ConfigError } from '../api.js';
import type { JwtAuthentication } from '../../../xds/resources.js';
import { JWT_AUTHN_FILTER_NAME, JwtAuthnFilter } from './jwt-authn-filter.js';
import type { CompiledRule, JwtAuthnSettings, PerRouteSettings } from './jwt-authn-filter.js';
import { array, bool, isEmptyValue, object, onlyFields, string } from './json-shape.js';
import { ProviderIndex } from './provider.js';
import type { Provider } from './provider.js';
import { compileProvider } from './provider-config.js';
import type { ProviderDeps } from './provider-config.js';
import { compileRuleMatch } from './rule-matcher.js';
import { jwtAuthnStats } from './stats.js';
import { buildVerifier } from './verifier.js';
import type { Requirement, Verifier } from './verifier.js';

export { JWT_AUTHN_FILTER_NAME };
export const JWT_AUTHN_TYPE_URL = 'type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication';
export const JWT_AUTHN_PER_ROUTE_TYPE_URL = 'type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.PerRouteConfig';

const FIELDS = ['@type', 'providers', 'rules', 'filterStateRules', 'bypassCorsPreflight', 'requirementMap', 'stripFailureResponse'];

/** Parses and compiles one JwtAuthentication. Throws ConfigError. */
export function compileJwtAuthentication(config: Readonly<Record<string, unknown>>, deps: ProviderDeps): JwtAuthnSettings {
  const at = 'JwtAuthentication';
  const o = object(config, at);
  onlyFields(o, FIELDS, at, 'JwtAuthentication');
  checkType(o, JWT_AUTHN_TYPE_URL, at);
  if (!isEmptyValue(o.filterStateRules)) {
    throw new ConfigError(`${at}.filterStateRules: not supported (Strait filters share no filter state); use rules or a route's PerRouteConfig`);
  }
  const providers = new Map<string, Provider>();
  const rawProviders = o.providers === undefined ? {} : object(o.providers, `${at}.providers`);
  for (const [name, p] of Object.entries(rawProviders)) providers.set(name, compileProvider(name, p, `${at}.providers.${name}`, deps));
  const index = new ProviderIndex(providers);

  const requirements = new Map<string, Verifier>();
  const rawMap = o.requirementMap === undefined ? {} : object(o.requirementMap, `${at}.requirementMap`);
  for (const [name, r] of Object.entries(rawMap)) {
    requirements.set(name, buildVerifier(parseRequirement(r, `${at}.requirementMap.${name}`, providers), index));
  }
  const names = [...requirements.keys()].sort().join(',');

  const rules: CompiledRule[] = (o.rules === undefined ? [] : array(o.rules, `${at}.rules`)).map((v, i) => {
    const rat = `${at}.rules[${i}]`;
    const r = object(v, rat);
    onlyFields(r, ['match', 'requires', 'requirementName'], rat, 'RequirementRule');
    if (r.match === undefined) throw new ConfigError(`${rat}.match: required`);
    const match = compileRuleMatch(r.match, `${rat}.match`);
    if (r.requires !== undefined && r.requirementName !== undefined) throw new ConfigError(`${rat}: set at most one of requires or requirementName`);
    if (r.requirementName !== undefined) {
      const name = string(r.requirementName, `${rat}.requirementName`);
      const verifier = requirements.get(name);
      if (!verifier) throw new ConfigError(`${rat}.requirementName: Wrong requirement_name: ${name}. It should be one of [${names}]`);
      return { match, verifier };
    }
    if (r.requires === undefined) return { match, verifier: null };
    return { match, verifier: buildVerifier(parseRequirement(r.requires, `${rat}.requires`, providers), index) };
  });

  return {
    rules,
    requirements,
    bypassCorsPreflight: bool(o.bypassCorsPreflight, `${at}.bypassCorsPreflight`),
    stripFailureResponse: bool(o.stripFailureResponse, `${at}.stripFailureResponse`),
  };
}

const REQUIREMENT_KINDS = ['providerName', 'providerAndAudiences', 'requiresAny', 'requiresAll', 'allowMissingOrFailed', 'allowMissing'];

/** JwtRequirement (a oneof): provider names must be configured providers. */
export function parseRequirement(v: unknown, at: string, providers: ReadonlyMap<string, Provider>): Requirement {
  const o = object(v, at);
  onlyFields(o, REQUIREMENT_KINDS, at, 'JwtRequirement');
  const set = REQUIREMENT_KINDS.filter((k) => o[k] !== undefined);
  if (set.length > 1) throw new ConfigError(`${at}: set at most one of ${REQUIREMENT_KINDS.join(', ')} (got ${set.join(' and ')})`);
  const known = (name: string, where: string): string => {
    if (!providers.has(name)) throw new ConfigError(`${where}: Required provider ['${name}'] is not configured.`);
    return name;
  };
  switch (set[0]) {
    case undefined:
      return { kind: 'none' };
    case 'providerName':
      return { kind: 'provider', provider: known(string(o.providerName, `${at}.providerName`), `${at}.providerName`), audiences: null };
    case 'providerAndAudiences': {
      const pa = object(o.providerAndAudiences, `${at}.providerAndAudiences`);
      onlyFields(pa, ['providerName', 'audiences'], `${at}.providerAndAudiences`, 'ProviderWithAudiences');
      const name = known(string(pa.providerName, `${at}.providerAndAudiences.providerName`), `${at}.providerAndAudiences.providerName`);
      const audiences = pa.audiences === undefined ? [] : array(pa.audiences, `${at}.providerAndAudiences.audiences`).map((a, i) => string(a, `${at}.providerAndAudiences.audiences[${i}]`));
      return { kind: 'provider', provider: name, audiences };
    }
    case 'requiresAny':
    case 'requiresAll': {
      const kind = set[0] === 'requiresAny' ? 'any' : 'all';
      const list = object(o[set[0]], `${at}.${set[0]}`);
      onlyFields(list, ['requirements'], `${at}.${set[0]}`, kind === 'any' ? 'JwtRequirementOrList' : 'JwtRequirementAndList');
      const of = array(list.requirements, `${at}.${set[0]}.requirements`).map((c, i) => parseRequirement(c, `${at}.${set[0]}.requirements[${i}]`, providers));
      if (of.length < 2) throw new ConfigError(`${at}.${set[0]}.requirements: needs at least 2 requirements, got ${of.length}`);
      return { kind, of };
    }
    case 'allowMissingOrFailed':
    case 'allowMissing': {
      const e = object(o[set[0]], `${at}.${set[0]}`);
      if (Object.keys(e).length > 0) throw new ConfigError(`${at}.${set[0]}: this message has no fields; write {}`);
      return { kind: set[0] };
    }
    default:
      throw new ConfigError(`${at}: unknown requirement ${set[0]}`);
  }
}

/** PerRouteConfig: `{disabled: true}` or `{requirementName: <requirement_map key>}`. */
export function compilePerRouteConfig(config: Readonly<Record<string, unknown>>): PerRouteSettings {
  const at = 'PerRouteConfig';
  const o = object(config, at);
  onlyFields(o, ['@type', 'disabled', 'requirementName'], at, 'PerRouteConfig');
  checkType(o, JWT_AUTHN_PER_ROUTE_TYPE_URL, at);
  if (o.disabled !== undefined && o.requirementName !== undefined) throw new ConfigError(`${at}: set exactly one of disabled or requirementName`);
  if (o.disabled !== undefined) {
    if (o.disabled !== true) throw new ConfigError(`${at}.disabled: must be true when set, got ${JSON.stringify(o.disabled)}`);
    return { disabled: true };
  }
  if (o.requirementName === undefined) throw new ConfigError(`${at}: set exactly one of disabled or requirementName`);
  const name = string(o.requirementName, `${at}.requirementName`);
  if (name === '') throw new ConfigError(`${at}.requirementName: must not be empty`);
  // Checked against the filter's requirement_map per request (the route does not know the
  // filter's config), as Envoy does: a name that is not there answers 403.
  return { requirementName: name };
}

function checkType(o: Record<string, unknown>, want: string, at: string): void {
  const t = o['@type'];
  if (t !== undefined && t !== want) throw new ConfigError(`${at}: @type is ${JSON.stringify(t)}, expected ${want}`);
}

export const jwtAuthnFilterFactory: HttpFilterFactory = {
  name: JWT_AUTHN_FILTER_NAME,
  typeUrl: JWT_AUTHN_TYPE_URL,
  perRouteTypeUrl: JWT_AUTHN_PER_ROUTE_TYPE_URL,
  create(config: Readonly<Record<string, unknown>>, ctx: FilterFactoryContext): HttpFilter {
    const stats = jwtAuthnStats(ctx.stats, ctx.statPrefix);
    const settings = compileJwtAuthentication(config, { clock: ctx.clock, random: ctx.random, stats });
    return new JwtAuthnFilter(settings, ctx.clock, stats);
  },
  compilePerRoute(config: Readonly<Record<string, unknown>>): PerRouteSettings {
    return compilePerRouteConfig(config);
  },
};

/** The typed config, for callers that build one (tests, generators): the proto3-JSON shape. */
export type { JwtAuthentication };
