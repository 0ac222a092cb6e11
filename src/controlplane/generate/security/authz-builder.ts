// AuthorizationPolicies → Envoy RBAC filters for one proxy, as Istio's
// pilot/pkg/security/authz/builder writes them (AZ-01..AZ-12):
//
// - one RBAC filter per action, in the order AUDIT (action LOG), DENY, ALLOW: a request passes
//   the filters in turn, so any matching DENY rejects it before ALLOW is asked (AZ-02);
// - no ALLOW policy → no ALLOW filter, so everything is allowed; with ALLOW policies, a request
//   none of them matches is denied (Envoy's ALLOW engine denies what no policy matches);
// - each rule of each policy is one RBAC policy named `ns[<ns>]-policy[<name>]-rule[<i>]`; a
//   policy without rules (`spec: {}`) is one policy that never matches: an ALLOW policy without
//   rules allows nothing (AZ-03), a DENY policy without rules denies nothing;
// - `istio.io/dry-run: "true"` puts the policy's rules in `shadow_rules` (evaluated, recorded in
//   dynamic metadata and stats under `istio_dry_run_{allow,deny}_`, never enforced) (AZ-12);
// - on TCP chains the network RBAC filter (stat prefix `tcp.`) gets the same rules, with HTTP-only
//   attributes failing ALLOW rules and dropped from DENY rules (AZ-10; see authz-model.ts).
//
// CUSTOM policies are built by ext-authz.ts, which reuses `buildRules` with its own names.

import type { Filter, HttpFilter } from '../../../xds/resources.js';
import type { AuthzRule } from './authz-model.js';
import { MATCH_NEVER, rulePolicy, RuleSkipped } from './authz-model.js';
import type { HttpRbacConfig, NetworkRbacConfig, Rbac, RbacAction, RbacPolicy } from './envoy-types.js';
import { HTTP_RBAC_FILTER, HTTP_RBAC_TYPE, NETWORK_RBAC_FILTER, NETWORK_RBAC_TYPE } from './envoy-types.js';

export type AuthzAction = 'ALLOW' | 'DENY' | 'AUDIT' | 'CUSTOM';

/** One AuthorizationPolicy as the builders need it (see policy-selection.ts for the mapping). */
export interface AuthzPolicy {
  readonly name: string;
  readonly namespace: string;
  readonly action: AuthzAction;
  /** CUSTOM: the extension provider's name. */
  readonly provider?: string;
  /** `istio.io/dry-run` is true (parsed by the loader as Go's ParseBool). */
  readonly dryRun: boolean;
  /** Empty when the policy has none (`spec: {}`), which is not the same as `rules: [{}]`. */
  readonly rules: readonly AuthzRule[];
}

/** The policies that apply to one proxy, by action, in the order Istio lists them. */
export interface AuthzPolicies {
  readonly custom: readonly AuthzPolicy[];
  readonly deny: readonly AuthzPolicy[];
  readonly allow: readonly AuthzPolicy[];
  readonly audit: readonly AuthzPolicy[];
}

export interface BuildOptions {
  readonly forTcp: boolean;
  /** The mesh trust domain, then its aliases. */
  readonly trustDomains: readonly string[];
}

/** Dynamic-metadata / stat prefixes of dry-run rules, by action (Envoy shadow_rules_stat_prefix). */
export const DRY_RUN_ALLOW_PREFIX = 'istio_dry_run_allow_';
export const DRY_RUN_DENY_PREFIX = 'istio_dry_run_deny_';
/** Stat prefix of the network RBAC filter. */
export const TCP_RBAC_STAT_PREFIX = 'tcp.';

/** The RBAC policy name of a rule: ext_authz and dry-run logs refer to rules by it. */
export function rbacPolicyName(namespace: string, name: string, rule: number, prefix = ''): string {
  return `${prefix}ns[${namespace}]-policy[${name}]-rule[${rule}]`;
}

export interface BuiltRules {
  /** Enforced rules; absent when every policy is a dry run. */
  readonly rules?: Rbac;
  /** Dry-run rules; absent when no policy is one. */
  readonly shadowRules?: Rbac;
  /** Rules that produced no RBAC policy, with the reason (for logs and tests). */
  readonly skipped: readonly string[];
}

function sortedPolicies(entries: Map<string, RbacPolicy>): Record<string, RbacPolicy> {
  const out: Record<string, RbacPolicy> = {};
  for (const k of [...entries.keys()].sort()) out[k] = entries.get(k)!;
  return out;
}

/**
 * The RBAC rules of a list of policies for one action. `namePrefix` distinguishes CUSTOM rules
 * (`istio-ext-authz-<provider>-`), which ext_authz recognises in the RBAC filter's metadata.
 */
export function buildRules(policies: readonly AuthzPolicy[], action: RbacAction, o: BuildOptions, namePrefix = ''): BuiltRules {
  const enforced = new Map<string, RbacPolicy>();
  const shadow = new Map<string, RbacPolicy>();
  const skipped: string[] = [];
  let hasEnforced = false;
  let hasShadow = false;
  for (const p of policies) {
    const into = p.dryRun ? shadow : enforced;
    if (p.dryRun) hasShadow = true;
    else hasEnforced = true;
    if (p.rules.length === 0) {
      into.set(rbacPolicyName(p.namespace, p.name, 0, namePrefix), MATCH_NEVER);
      continue;
    }
    p.rules.forEach((rule, i) => {
      const name = rbacPolicyName(p.namespace, p.name, i, namePrefix);
      try {
        into.set(name, rulePolicy(rule, { namespace: p.namespace, forTcp: o.forTcp, action, trustDomains: o.trustDomains }));
      } catch (err) {
        if (!(err instanceof RuleSkipped)) throw err;
        skipped.push(`${name}: ${err.message}`);
      }
    });
  }
  return {
    ...(hasEnforced ? { rules: { action, policies: sortedPolicies(enforced) } } : {}),
    ...(hasShadow ? { shadowRules: { action, policies: sortedPolicies(shadow) } } : {}),
    skipped,
  };
}

function shadowPrefix(action: RbacAction): string | undefined {
  return action === 'ALLOW' ? DRY_RUN_ALLOW_PREFIX : action === 'DENY' ? DRY_RUN_DENY_PREFIX : undefined;
}

/** The ALLOW/DENY/AUDIT groups in filter order, with the RBAC action each becomes. */
function localGroups(p: AuthzPolicies): [readonly AuthzPolicy[], RbacAction][] {
  return [
    [p.audit, 'LOG'],
    [p.deny, 'DENY'],
    [p.allow, 'ALLOW'],
  ];
}

/** HTTP RBAC filters for ALLOW, DENY and AUDIT policies (CUSTOM: ext-authz.ts). */
export function authzHttpFilters(p: AuthzPolicies, trustDomains: readonly string[]): HttpFilter[] {
  const out: HttpFilter[] = [];
  for (const [policies, action] of localGroups(p)) {
    if (policies.length === 0) continue;
    const built = buildRules(policies, action, { forTcp: false, trustDomains });
    const config: HttpRbacConfig = { '@type': HTTP_RBAC_TYPE };
    if (built.rules) config.rules = built.rules;
    if (built.shadowRules) {
      config.shadowRules = built.shadowRules;
      const prefix = shadowPrefix(action);
      if (prefix) config.shadowRulesStatPrefix = prefix;
    }
    out.push({ name: HTTP_RBAC_FILTER, typedConfig: config as unknown as HttpFilter['typedConfig'] });
  }
  return out;
}

/** Network RBAC filters for TCP chains, in the same order as the HTTP ones. */
export function authzTcpFilters(p: AuthzPolicies, trustDomains: readonly string[]): Filter[] {
  const out: Filter[] = [];
  for (const [policies, action] of localGroups(p)) {
    if (policies.length === 0) continue;
    const built = buildRules(policies, action, { forTcp: true, trustDomains });
    const config: NetworkRbacConfig = { '@type': NETWORK_RBAC_TYPE, statPrefix: TCP_RBAC_STAT_PREFIX };
    if (built.rules) config.rules = built.rules;
    if (built.shadowRules) {
      config.shadowRules = built.shadowRules;
      const prefix = shadowPrefix(action);
      if (prefix) config.shadowRulesStatPrefix = prefix;
    }
    out.push({ name: NETWORK_RBAC_FILTER, typedConfig: config as unknown as Filter['typedConfig'] });
  }
  return out;
}
