// The RBAC HTTP filter's config (envoy.extensions.filters.http.rbac.v3.RBAC) and its per-route
// override (RBACPerRoute {rbac}), parsed from proto3 JSON and compiled once: the enforced engine
// (`rules`), the dry-run engine (`shadow_rules`), and the dynamic-metadata keys the results are
// written under (Envoy prefixes them with the stat prefixes, which is how Istio gets
// `istio_ext_authz_shadow_effective_policy_id` for CUSTOM policies and `istio_dry_run_allow_...`
// for dry-run ones). Matcher-API configs (`matcher`, `shadow_matcher`) are ConfigErrors.

import type { FilterFactoryContext, HttpFilter, HttpFilterFactory } from '../api.js';
import { ConfigError } from '../api.js';
import { compileRbacEngine } from './engine.js';
import type { RbacEngine } from './engine.js';
import { checkFields, checkType, object, optBool, optString } from './proto-json.js';
import { RBAC_FILTER_NAME, RbacFilter } from './rbac-filter.js';
import { httpRbacStats } from './stats.js';

export { RBAC_FILTER_NAME };
export const RBAC_TYPE_URL = 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC';
export const RBAC_PER_ROUTE_TYPE_URL = 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBACPerRoute';

/** Keys of the results in dynamic metadata `envoy.filters.http.rbac`. */
export interface RbacMetadataKeys {
  readonly effectivePolicyId: string;
  readonly engineResult: string;
}

/** One compiled RBAC message: the filter's, or a route's override. */
export interface CompiledRbac {
  /** null: no `rules`, nothing is enforced. */
  readonly rules: RbacEngine | null;
  /** null: no `shadow_rules`, nothing is dry-run. */
  readonly shadow: RbacEngine | null;
  readonly rulesStatPrefix: string;
  readonly shadowRulesStatPrefix: string;
  readonly trackPerRuleStats: boolean;
  /** `<rules_stat_prefix>enforced_effective_policy_id` / `..._engine_result`. */
  readonly enforcedKeys: RbacMetadataKeys;
  /** `<shadow_rules_stat_prefix>shadow_effective_policy_id` / `..._engine_result`. */
  readonly shadowKeys: RbacMetadataKeys;
}

const FIELDS = ['rules', 'rulesStatPrefix', 'shadowRules', 'shadowRulesStatPrefix', 'trackPerRuleStats'];
const UNSUPPORTED = {
  matcher: 'the RBAC matcher API is not supported; use rules',
  shadowMatcher: 'the RBAC matcher API is not supported; use shadow_rules',
};

/** Parses an RBAC filter message. Throws ConfigError. */
export function compileRbacConfig(config: Readonly<Record<string, unknown>>, at = 'RBAC'): CompiledRbac {
  const o = object(config, at);
  checkType(o, at, RBAC_TYPE_URL);
  checkFields(o, at, 'RBAC', FIELDS, UNSUPPORTED);
  const rulesStatPrefix = optString(o.rulesStatPrefix, `${at}.rulesStatPrefix`);
  const shadowRulesStatPrefix = optString(o.shadowRulesStatPrefix, `${at}.shadowRulesStatPrefix`);
  return {
    // A present but empty `rules: {}` is an engine with no policies: ALLOW nothing (Istio's
    // allow-nothing policy); an absent one enforces nothing.
    rules: o.rules === undefined ? null : compileRbacEngine(o.rules, `${at}.rules`),
    shadow: o.shadowRules === undefined ? null : compileRbacEngine(o.shadowRules, `${at}.shadowRules`),
    rulesStatPrefix,
    shadowRulesStatPrefix,
    trackPerRuleStats: optBool(o.trackPerRuleStats, `${at}.trackPerRuleStats`),
    enforcedKeys: { effectivePolicyId: `${rulesStatPrefix}enforced_effective_policy_id`, engineResult: `${rulesStatPrefix}enforced_engine_result` },
    shadowKeys: { effectivePolicyId: `${shadowRulesStatPrefix}shadow_effective_policy_id`, engineResult: `${shadowRulesStatPrefix}shadow_engine_result` },
  };
}

/**
 * Parses a route's RBACPerRoute. Its `rbac` replaces the filter's engines for the route (absent:
 * neither enforced nor shadow rules apply there). Metadata keys use the route's stat prefixes
 * when it sets them, else the filter's (resolved per request by the filter).
 */
export function compileRbacPerRoute(config: Readonly<Record<string, unknown>>): CompiledRbac {
  const at = 'RBACPerRoute';
  const o = object(config, at);
  checkType(o, at, RBAC_PER_ROUTE_TYPE_URL);
  checkFields(o, at, 'RBACPerRoute', ['rbac']);
  if (o.rbac === undefined) return compileRbacConfig({}, `${at}.rbac`);
  const inner = object(o.rbac, `${at}.rbac`);
  if (inner['@type'] !== undefined) throw new ConfigError(`${at}.rbac: is a plain RBAC message (no @type)`);
  return compileRbacConfig(inner, `${at}.rbac`);
}

export const rbacFilterFactory: HttpFilterFactory = {
  name: RBAC_FILTER_NAME,
  typeUrl: RBAC_TYPE_URL,
  perRouteTypeUrl: RBAC_PER_ROUTE_TYPE_URL,
  create(config: Readonly<Record<string, unknown>>, ctx: FilterFactoryContext): HttpFilter {
    const cfg = compileRbacConfig(config);
    return new RbacFilter(cfg, httpRbacStats(ctx.stats, ctx.statPrefix, cfg.rulesStatPrefix, cfg.shadowRulesStatPrefix));
  },
  compilePerRoute(config: Readonly<Record<string, unknown>>): CompiledRbac {
    return compileRbacPerRoute(config);
  },
};
