// The network RBAC filter's config (envoy.extensions.filters.network.rbac.v3.RBAC), parsed from
// proto3 JSON and compiled once with the HTTP filter's engine (src/filters/http/rbac/): the
// enforced rules, the dry-run (shadow) rules, stat_prefix (required; Istio writes `tcp.`),
// shadow_rules_stat_prefix, enforcement_type and delay_deny. The matcher API (`matcher`,
// `shadow_matcher`) is a ConfigError, as in the HTTP filter.

import type { NetworkFilter, NetworkFilterFactory, NetworkFilterFactoryContext } from '../api.js';
import { ConfigError } from '../api.js';
import { parseDurationMs } from '../../../dataplane/config/durations.js';
import { compileRbacEngine } from '../../http/rbac/engine.js';
import type { RbacEngine } from '../../http/rbac/engine.js';
import { checkFields, checkType, object, optString } from '../../http/rbac/proto-json.js';
import { NetworkRbacFilter } from './rbac-filter.js';
import { networkRbacStats } from './stats.js';

export const NETWORK_RBAC_FILTER_NAME = 'envoy.filters.network.rbac';
export const NETWORK_RBAC_TYPE_URL = 'type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC';

export interface CompiledNetworkRbac {
  /** null: no `rules`, nothing is enforced. */
  readonly rules: RbacEngine | null;
  /** null: no `shadow_rules`, nothing is dry-run. */
  readonly shadow: RbacEngine | null;
  readonly statPrefix: string;
  readonly shadowRulesStatPrefix: string;
  /** delay_deny: a denied connection is closed this much later (reads paused); 0 closes at once. */
  readonly delayDenyMs: number;
  /** `<shadow_rules_stat_prefix>shadow_effective_policy_id` / `..._engine_result`. */
  readonly shadowKeys: { readonly effectivePolicyId: string; readonly engineResult: string };
}

const FIELDS = ['rules', 'shadowRules', 'shadowRulesStatPrefix', 'statPrefix', 'enforcementType', 'delayDeny'];
const UNSUPPORTED = {
  matcher: 'the RBAC matcher API is not supported; use rules',
  shadowMatcher: 'the RBAC matcher API is not supported; use shadow_rules',
};
const ENFORCEMENT = ['ONE_TIME_ON_FIRST_BYTE', 'CONTINUOUS', 0, 1];

/** Parses a network RBAC message. Throws ConfigError. */
export function compileNetworkRbacConfig(config: Readonly<Record<string, unknown>>, at = 'network RBAC'): CompiledNetworkRbac {
  const o = object(config, at);
  checkType(o, at, NETWORK_RBAC_TYPE_URL);
  checkFields(o, at, 'RBAC', FIELDS, UNSUPPORTED);
  const statPrefix = optString(o.statPrefix, `${at}.statPrefix`);
  if (!statPrefix) throw new ConfigError(`${at}.statPrefix: required (Istio writes "tcp.")`);
  // Both enforcement types decide once here: a TCP connection's attributes do not change, and
  // CONTINUOUS only differs for protocols with message boundaries (Mongo, Redis).
  if (o.enforcementType !== undefined && !ENFORCEMENT.includes(o.enforcementType as string)) {
    throw new ConfigError(`${at}.enforcementType: expected ONE_TIME_ON_FIRST_BYTE or CONTINUOUS, got ${JSON.stringify(o.enforcementType)}`);
  }
  const shadowRulesStatPrefix = optString(o.shadowRulesStatPrefix, `${at}.shadowRulesStatPrefix`);
  return {
    // As in the HTTP filter: a present, empty `rules: {}` allows nothing; an absent one enforces nothing.
    rules: o.rules === undefined ? null : compileRbacEngine(o.rules, `${at}.rules`),
    shadow: o.shadowRules === undefined ? null : compileRbacEngine(o.shadowRules, `${at}.shadowRules`),
    statPrefix,
    shadowRulesStatPrefix,
    delayDenyMs: o.delayDeny === undefined ? 0 : parseDurationMs(optString(o.delayDeny, `${at}.delayDeny`), `${at}.delayDeny`),
    shadowKeys: { effectivePolicyId: `${shadowRulesStatPrefix}shadow_effective_policy_id`, engineResult: `${shadowRulesStatPrefix}shadow_engine_result` },
  };
}

export const networkRbacFilterFactory: NetworkFilterFactory = {
  name: NETWORK_RBAC_FILTER_NAME,
  typeUrl: NETWORK_RBAC_TYPE_URL,
  create(config: Readonly<Record<string, unknown>>, ctx: NetworkFilterFactoryContext): NetworkFilter {
    const cfg = compileNetworkRbacConfig(config);
    return new NetworkRbacFilter(cfg, networkRbacStats(ctx.stats, cfg.statPrefix, cfg.shadowRulesStatPrefix));
  },
};
