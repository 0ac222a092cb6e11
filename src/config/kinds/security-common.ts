// Pieces shared by the security.istio.io kinds (PeerAuthentication, RequestAuthentication,
// AuthorizationPolicy): the API versions, the workload selector, targetRef(s) and the checks of
// Istio's string values (exact, `prefix*`, `*suffix`, `*`). The rules are Istio's
// (pkg/config/validation: validateWorkloadSelector, validateOneOfSelectorType,
// validatePolicyTargetReference; pkg/config/security: CheckEmptyValues, CheckServiceAccount,
// ValidateIPs, ValidatePorts), so what passes here passes `kubectl apply` against Istio.

import { field, listOf, obj, required, str, unsupported } from '../schema.js';
import type { ObjectOf, Refiner } from '../schema.js';
import type { FieldPath, PolicyTargetKind, PolicyTargetReference, WorkloadSelector } from '../types.js';
import { checkDns1123Subdomain } from '../names.js';
import { checkIpOrCidr, selectorLabels } from './istio-common.js';

export const ISTIO_SECURITY_VERSIONS = ['security.istio.io/v1', 'security.istio.io/v1beta1'] as const;

export const DRY_RUN_ANNOTATION = 'istio.io/dry-run';

// ---- selector and targetRefs -------------------------------------------------------------------

export const workloadSelectorSchema = obj({ matchLabels: field(selectorLabels, 'no wildcards; empty = no selector') });

/** Istio's allowed targets: kind and canonical group ('' is written 'core'). */
const TARGET_KINDS: Readonly<Record<PolicyTargetKind, string>> = {
  Gateway: 'gateway.networking.k8s.io',
  GatewayClass: 'gateway.networking.k8s.io',
  Service: 'core',
  ServiceEntry: 'networking.istio.io',
};

const targetRefSchema = obj(
  {
    group: field(str({ rule: (g) => (g === '' ? undefined : checkDns1123Subdomain(g)) }), "'' (core) for Service"),
    kind: required(str({ nonEmpty: true })),
    name: required(str({ nonEmpty: true, rule: (n) => (n.length > 253 ? 'at most 253 characters' : undefined) })),
    namespace: field(str(), 'must be empty: cross-namespace references are not supported'),
  },
  {
    refine(t, r) {
      if (t.namespace) r.error(['namespace'], 'invalid-value', 'targetRef namespace must not be set: Istio does not support cross-namespace references', 'remove namespace; the target is in the policy\'s namespace', 'key');
      const canonical = t.group === undefined || t.group === '' ? 'core' : t.group;
      const expected = Object.hasOwn(TARGET_KINDS, t.kind) ? TARGET_KINDS[t.kind as PolicyTargetKind] : undefined;
      if (expected !== canonical) {
        const allowed = Object.entries(TARGET_KINDS).map(([k, g]) => `${k} (group ${g === 'core' ? '""' : g})`).join(', ');
        r.error(expected === undefined ? ['kind'] : ['group'], 'invalid-value', `a policy cannot target ${t.group ? `${t.group}/` : ''}${t.kind}; Istio accepts ${allowed}`, expected === undefined ? 'target one of those kinds' : `write group: ${expected === 'core' ? '""' : expected}`);
      }
    },
  },
);

const TARGET_NOTE = 'Gateway API gateways and waypoints, which Strait does not run: such a policy applies to no Strait proxy';

/** `selector`, `targetRef` and `targetRefs`, as every security kind declares them. */
export function scopeFields() {
  return {
    selector: field(workloadSelectorSchema, 'absent: every workload of the namespace (of the mesh in the root namespace)'),
    targetRef: unsupported(targetRefSchema, `deprecated singular form of targetRefs; ${TARGET_NOTE}`, { ownWarning: true }),
    targetRefs: unsupported(listOf(targetRefSchema, { maxItems: 16 }), TARGET_NOTE, { ownWarning: true }),
  };
}

type CheckedScope = ObjectOf<ReturnType<typeof scopeFields>>;

/**
 * Istio's cross-field rules of the scope (at most one of selector, targetRef, targetRefs; a
 * selector without labels is no selector) and the one warning about targets.
 */
export function checkScope(spec: CheckedScope, r: Refiner, kind: string): void {
  const set = (['selector', 'targetRef', 'targetRefs'] as const).filter((k) => (k === 'targetRefs' ? (spec.targetRefs ?? []).length > 0 : spec[k] !== undefined));
  if (set.length > 1) r.error([set[1]], 'conflict', `only one of selector, targetRef and targetRefs can be set, found ${set.join(' and ')}`, `keep only ${set[0]}`, 'key');
  if (spec.selector !== undefined && Object.keys(spec.selector.matchLabels ?? {}).length === 0) {
    r.warn(['selector'], 'empty-selector', `selector has no labels, so this ${kind} applies to every workload of the namespace (every workload of the mesh in the root namespace)`, 'add matchLabels, or remove selector', 'key');
  }
  const targeted = spec.targetRef !== undefined ? 'targetRef' : (spec.targetRefs ?? []).length > 0 ? 'targetRefs' : undefined;
  if (targeted) {
    r.warn(
      [targeted],
      'unsupported-field',
      `${targeted} attaches this ${kind} to Gateway API gateways, GatewayClasses, ServiceEntries or waypoints, which Strait does not run: it applies to no Strait proxy (not to the whole namespace)`,
      `use selector.matchLabels to apply it to workloads (app: istio-ingressgateway for Strait's ingress gateway)`,
      'key',
    );
  }
}

export function toSelector(s: CheckedScope['selector']): WorkloadSelector | undefined {
  const labels = s?.matchLabels ?? {};
  return Object.keys(labels).length > 0 ? { matchLabels: labels } : undefined;
}

export function toTargetRefs(spec: CheckedScope): PolicyTargetReference[] {
  const one = (t: NonNullable<CheckedScope['targetRef']>, path: FieldPath): PolicyTargetReference => ({ group: t.group ?? '', kind: t.kind as PolicyTargetKind, name: t.name, path });
  if (spec.targetRef !== undefined) return [one(spec.targetRef, ['spec', 'targetRef'])];
  return (spec.targetRefs ?? []).map((t, i) => one(t, ['spec', 'targetRefs', i]));
}

// ---- annotations -------------------------------------------------------------------------------

/** Go's strconv.ParseBool, which Istio uses for `istio.io/dry-run`. */
export function parseGoBool(v: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v)) return false;
  return undefined;
}

/** Istio rejects `istio.io/dry-run` on every kind but AuthorizationPolicy. */
export function rejectDryRun(annotations: Readonly<Record<string, string>> | undefined, kind: string, r: Refiner): void {
  if (annotations === undefined || !Object.hasOwn(annotations, DRY_RUN_ANNOTATION)) return;
  r.error(['metadata', 'annotations', DRY_RUN_ANNOTATION], 'invalid-value', `${kind} does not support the annotation ${DRY_RUN_ANNOTATION} (only AuthorizationPolicy does); Istio rejects it`, 'remove the annotation', 'key');
}

// ---- string values -----------------------------------------------------------------------------

/**
 * How Istio matches a string value: `*` is presence, a leading `*` a suffix match, a trailing `*`
 * a prefix match, anything else exact. A `*` elsewhere (or a second one) is matched literally,
 * which is never what was meant: Istio rejects it in trust domains and accepts it elsewhere.
 */
export function hasLiteralWildcard(v: string): boolean {
  const stars = v.split('*').length - 1;
  if (v === '*' || stars === 0) return false;
  return stars > 1 || !(v.startsWith('*') || v.endsWith('*'));
}

/** How a list's values are checked; 'path' is 'match' where `{*}` and `{**}` are path templates. */
export type ValueRule = 'match' | 'path' | 'ip' | 'port' | 'serviceAccount' | 'trustDomain';

/** Istio's checks of one list of values (`field` names it in messages), reported at `path`. */
export function checkValues(values: readonly string[], rule: ValueRule, path: FieldPath, r: Refiner, field: string): void {
  values.forEach((v, i) => {
    const p = [...path, i];
    if (v === '') {
      r.error(p, 'invalid-value', `empty value not allowed in ${field}`, 'write a value, or use "*" for "any non-empty value"');
      return;
    }
    switch (rule) {
      case 'ip':
        if (checkIpOrCidr(v) !== undefined) r.error(p, 'invalid-value', `${JSON.stringify(v)} is not an IP address or CIDR block`, 'write an IP such as 203.0.113.4 or a CIDR such as 203.0.113.0/24');
        return;
      case 'port':
        if (!/^\d+$/.test(v) || Number(v) > 65535) r.error(p, 'invalid-value', `${JSON.stringify(v)} is not a port number`, 'write a port between 0 and 65535 as a string, e.g. "8080"');
        return;
      case 'serviceAccount': {
        const broken = serviceAccountProblem(v);
        if (broken) r.error(p, 'invalid-value', `${JSON.stringify(v)} ${broken}`, "write 'namespace/serviceaccount', or 'serviceaccount' for the policy's namespace, without *");
        return;
      }
      case 'trustDomain': {
        if (hasLiteralWildcard(v)) r.error(p, 'invalid-value', `${JSON.stringify(v)} is not a valid trust domain match: Istio allows one * only, at the start or the end`, 'use an exact trust domain, prefix*, *suffix or *');
        else if (v.includes('/')) r.error(p, 'invalid-value', `trust domain ${JSON.stringify(v)} must not contain '/'`, 'write the trust domain alone, e.g. cluster.local');
        return;
      }
      case 'match':
      case 'path': {
        // Path templates are checked by the AuthorizationPolicy kind; their stars are not wildcards.
        if (hasLiteralWildcard(rule === 'path' ? v.replace(/\{\*\*?\}/g, '') : v)) {
          r.warn(p, 'literal-wildcard', `${JSON.stringify(v)} has a * that is not one leading or trailing wildcard; Istio accepts it and matches that * literally`, 'use only an exact value, prefix*, *suffix or *');
        }
      }
    }
  });
}

function serviceAccountProblem(v: string): string | undefined {
  if (v.includes('*')) return 'has a wildcard; service accounts are matched exactly';
  if (v.length > 320) return 'is longer than 320 characters';
  const parts = v.split('/');
  if (parts.length > 2 || parts.some((s) => s === '')) return "is not 'namespace/serviceaccount' or 'serviceaccount'";
  return undefined;
}
