// An RBAC engine (envoy.config.rbac.v3.RBAC {action, policies}): the policies in name order
// (Envoy keeps them in a sorted map, so the "effective policy" reported for a request is the
// first matching name in that order), each a list of permissions and a list of principals. A
// policy matches when any permission and any principal match. The action then decides:
//   ALLOW  allowed if some policy matched (no policies: nothing is allowed, Istio's allow-nothing)
//   DENY   allowed if no policy matched
//   LOG    always allowed; whether a policy matched is a hint to the access log
// Shared by the HTTP filter and the network (TCP) filter.

import type { FilterRequest } from '../api.js';
import { ConfigError } from '../api.js';
import type { StreamInfo } from '../../../dataplane/http/stream-info.js';
import { compilePermission, compilePrincipal } from './matchers.js';
import type { RbacMatcher } from './matchers.js';
import { checkFields, list, object } from './proto-json.js';

export type RbacAction = 'ALLOW' | 'DENY' | 'LOG';

export interface RbacEngine {
  readonly action: RbacAction;
  /** Policy names in evaluation order. */
  readonly policyNames: readonly string[];
  /** Index (into policyNames) of the first matching policy, or -1. */
  firstMatch(request: FilterRequest | null, info: StreamInfo): number;
}

const ACTIONS: Readonly<Record<string, RbacAction>> = { ALLOW: 'ALLOW', DENY: 'DENY', LOG: 'LOG', '0': 'ALLOW', '1': 'DENY', '2': 'LOG' };

const UNSUPPORTED_RBAC = { auditLoggingOptions: 'RBAC audit loggers are not supported' };
const UNSUPPORTED_POLICY = {
  condition: 'CEL conditions are not supported',
  checkedCondition: 'CEL conditions are not supported',
  celConfig: 'CEL conditions are not supported',
};

/** Whether the engine lets the request through, given firstMatch's result. */
export function engineAllows(engine: RbacEngine, matched: number): boolean {
  switch (engine.action) {
    case 'ALLOW':
      return matched >= 0;
    case 'DENY':
      return matched < 0;
    case 'LOG':
      return true;
  }
}

/** Compiles an RBAC message; `at` names it in errors. */
export function compileRbacEngine(v: unknown, at: string): RbacEngine {
  const o = object(v, at, 'an RBAC object {action, policies}');
  checkFields(o, at, 'RBAC', ['action', 'policies'], UNSUPPORTED_RBAC);
  const action = o.action === undefined ? 'ALLOW' : ACTIONS[String(o.action)];
  if (action === undefined) throw new ConfigError(`${at}.action: expected ALLOW, DENY or LOG, got ${JSON.stringify(o.action)}`);
  const policies = o.policies === undefined ? {} : object(o.policies, `${at}.policies`, 'a map of policy name to Policy');
  // Sorted by UTF-16 code unit, which is byte order for the ASCII names control planes write.
  const names = Object.keys(policies).sort();
  const compiled = names.map((name) => compilePolicy(policies[name], `${at}.policies[${JSON.stringify(name)}]`));
  const count = compiled.length;
  return {
    action,
    policyNames: names,
    firstMatch(request, info) {
      for (let k = 0; k < count; k++) {
        const p = compiled[k]!;
        if (anyMatch(p.permissions, request, info) && anyMatch(p.principals, request, info)) return k;
      }
      return -1;
    },
  };
}

interface CompiledPolicy {
  readonly permissions: readonly RbacMatcher[];
  readonly principals: readonly RbacMatcher[];
}

function compilePolicy(v: unknown, at: string): CompiledPolicy {
  const o = object(v, at, 'a Policy object {permissions, principals}');
  checkFields(o, at, 'Policy', ['permissions', 'principals'], UNSUPPORTED_POLICY);
  const permissions = list(o.permissions, `${at}.permissions`, 'Permission').map((p, i) => compilePermission(p, `${at}.permissions[${i}]`));
  const principals = list(o.principals, `${at}.principals`, 'Principal').map((p, i) => compilePrincipal(p, `${at}.principals[${i}]`));
  // Envoy requires both lists to be non-empty (an empty list would silently match nothing).
  if (permissions.length === 0) throw new ConfigError(`${at}.permissions: at least one permission is required`);
  if (principals.length === 0) throw new ConfigError(`${at}.principals: at least one principal is required`);
  return { permissions, principals };
}

function anyMatch(ms: readonly RbacMatcher[], request: FilterRequest | null, info: StreamInfo): boolean {
  for (const m of ms) if (m(request, info)) return true;
  return false;
}
