// security.istio.io AuthorizationPolicy (istio/api security/v1beta1/authorization_policy.proto):
// which requests a workload allows, denies, audits or sends to an external authorizer (AZ-01..12).
// Implemented and typed: selector, action, provider, rules[] (from[].source, to[].operation,
// when[]) and the `istio.io/dry-run` annotation. targetRef(s) are typed and checked but warned
// about: they attach to gateways and waypoints Strait does not run.
//
// Istio's rules (ValidateAuthorizationPolicy, pkg/config/security ValidateAttribute and friends,
// checkDryRunAnnotation) are applied: non-empty values, IPs/CIDRs, numeric ports, service
// accounts without wildcards and never with principals or namespaces, path templates, the known
// `when` keys, CUSTOM's provider and its unsupported attributes, DENY and CUSTOM need rules.
// Beyond Istio, a value with a `*` in the middle is warned about: Istio accepts it and then
// matches it literally. Semantics that depend on absent versus empty are documented on the types
// (types-security.ts): no rules matches nothing, an empty rule matches everything.

import { enumOf, field, listOf, mapped, obj, required, str } from '../schema.js';
import type { ObjectOf, Refiner } from '../schema.js';
import type {
  AuthorizationCondition,
  AuthorizationOperation,
  AuthorizationPolicyResource,
  AuthorizationRule,
  AuthorizationSource,
  ConditionAttribute,
  FieldPath,
} from '../types.js';
import { didYouMean } from '../suggest.js';
import { defineKind, resourceSchema } from './common.js';
import { checkHeaderName } from './istio-common.js';
import { DRY_RUN_ANNOTATION, ISTIO_SECURITY_VERSIONS, checkScope, checkValues, parseGoBool, scopeFields, toSelector, toTargetRefs } from './security-common.js';
import type { ValueRule } from './security-common.js';

export const AUTHORIZATION_ACTIONS = ['ALLOW', 'DENY', 'AUDIT', 'CUSTOM'] as const;

// ---- sources and operations --------------------------------------------------------------------

const values = (note?: string) => field(listOf(str()), note);

const SOURCE_FIELDS = {
  principals: values('<trust-domain>/ns/<ns>/sa/<sa>; needs mTLS'),
  notPrincipals: values(),
  requestPrincipals: values('<iss>/<sub> of the JWT; needs RequestAuthentication'),
  notRequestPrincipals: values(),
  namespaces: values('the peer\'s namespace; needs mTLS'),
  notNamespaces: values(),
  serviceAccounts: values('<ns>/<sa> or <sa>; no wildcards; never with principals or namespaces'),
  notServiceAccounts: values(),
  ipBlocks: values('IPs or CIDRs of the peer address'),
  notIpBlocks: values(),
  remoteIpBlocks: values('IPs or CIDRs of the original client (X-Forwarded-For, PROXY protocol)'),
  notRemoteIpBlocks: values(),
  trustDomains: values('the peer identity\'s trust domain'),
  notTrustDomains: values(),
};
type SourceField = keyof typeof SOURCE_FIELDS;

const SOURCE_RULES: Readonly<Record<SourceField, ValueRule>> = {
  principals: 'match', notPrincipals: 'match', requestPrincipals: 'match', notRequestPrincipals: 'match',
  namespaces: 'match', notNamespaces: 'match', serviceAccounts: 'serviceAccount', notServiceAccounts: 'serviceAccount',
  ipBlocks: 'ip', notIpBlocks: 'ip', remoteIpBlocks: 'ip', notRemoteIpBlocks: 'ip', trustDomains: 'trustDomain', notTrustDomains: 'trustDomain',
};

/** Source fields an L4 (TCP) policy can evaluate: anything else makes a DENY rule HTTP-only (AZ-10). */
const TCP_SOURCE_FIELDS: readonly SourceField[] = ['principals', 'notPrincipals', 'ipBlocks', 'notIpBlocks', 'namespaces', 'notNamespaces', 'remoteIpBlocks', 'notRemoteIpBlocks', 'serviceAccounts', 'notServiceAccounts'];

const sourceSchema = obj(SOURCE_FIELDS, {
  refine(s, r) {
    const set = (Object.keys(SOURCE_FIELDS) as SourceField[]).filter((k) => (s[k] ?? []).length > 0);
    if (set.length === 0) r.error([], 'invalid-value', 'source must not be empty: it needs at least one non-empty field', 'add principals, namespaces, ipBlocks, ...; or remove this from entry to allow any source', 'key');
    const identity = set.filter((k) => ['principals', 'notPrincipals', 'namespaces', 'notNamespaces'].includes(k));
    const accounts = set.filter((k) => k === 'serviceAccounts' || k === 'notServiceAccounts');
    if (identity.length > 0 && accounts.length > 0) r.error([accounts[0]], 'conflict', `${accounts[0]} cannot be combined with ${identity.join(' or ')}`, 'use either serviceAccounts or principals/namespaces in one source', 'key');
    for (const k of set) checkValues(s[k] ?? [], SOURCE_RULES[k], [k], r, k);
  },
});

const OPERATION_FIELDS = {
  hosts: values('Host/authority, matched case-insensitively'),
  notHosts: values(),
  ports: values('decimal strings, e.g. "8080"'),
  notPorts: values(),
  methods: values('HTTP methods (gRPC: always POST)'),
  notMethods: values(),
  paths: values('exact, prefix*, *suffix, or {*} / {**} templates'),
  notPaths: values(),
};
type OperationField = keyof typeof OPERATION_FIELDS;

/** Istio's CheckValidPathTemplate: `{*}` is one segment, `{**}` the rest (last); other braces are invalid. */
function pathTemplateProblem(path: string): string | undefined {
  const templated = path.includes('{*}') || path.includes('{**}');
  let sawAny = false;
  for (const glob of path.replace(/^\/+|\/+$/g, '').split('/')) {
    if (glob === '{*}' || glob === '{**}') {
      if (sawAny) return '{**} must be the last operator of a path template';
      sawAny = glob === '{**}';
      continue;
    }
    if (/[{}]/.test(glob)) return `segment ${JSON.stringify(glob)} has { or } outside a {*} or {**} template`;
    if (templated && !/^[A-Za-z0-9\-._~%!$&'()+,;:@=]+$/.test(glob)) return `segment ${JSON.stringify(glob)} of a path template has characters outside RFC 3986 pchar`;
  }
  return undefined;
}

const operationSchema = obj(OPERATION_FIELDS, {
  refine(o, r) {
    const set = (Object.keys(OPERATION_FIELDS) as OperationField[]).filter((k) => (o[k] ?? []).length > 0);
    if (set.length === 0) r.error([], 'invalid-value', 'operation must not be empty: it needs at least one non-empty field', 'add hosts, ports, methods or paths; or remove this to entry to allow any operation', 'key');
    for (const k of set) {
      checkValues(o[k] ?? [], k === 'ports' || k === 'notPorts' ? 'port' : k === 'paths' || k === 'notPaths' ? 'path' : 'match', [k], r, k);
      if (k === 'paths' || k === 'notPaths') {
        (o[k] ?? []).forEach((p, i) => {
          const broken = p === '' ? undefined : pathTemplateProblem(p);
          if (broken) r.error([k, i], 'invalid-value', `invalid path ${JSON.stringify(p)}: ${broken}`, 'use {*} for one segment and {**} (last) for the rest, e.g. /api/{*}/items/{**}');
        });
      }
    }
  },
});

// ---- when conditions ---------------------------------------------------------------------------

type AttributeName = ConditionAttribute['name'];
const PLAIN_ATTRIBUTES: Readonly<Partial<Record<AttributeName, ValueRule>>> = {
  'source.ip': 'ip', 'remote.ip': 'ip', 'destination.ip': 'ip', 'destination.port': 'port',
  'source.namespace': 'match', 'source.serviceAccount': 'serviceAccount', 'source.principal': 'match', 'source.trustDomain': 'trustDomain',
  'request.auth.principal': 'match', 'request.auth.audiences': 'match', 'request.auth.presenter': 'match', 'connection.sni': 'match',
};
const KNOWN_KEYS = [...Object.keys(PLAIN_ATTRIBUTES), 'request.headers[<name>]', 'request.auth.claims[<claim>]', 'experimental.envoy.filters.<filter>[<key>]'];

/** Istio's extractNameInNestedBrackets: `[a][b]` is ['a', 'b']; anything else is the text inside the outer brackets. */
function nestedBrackets(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    const end = s[i] === '[' ? s.indexOf(']', i + 1) : -1;
    if (end < 0 || s.slice(i + 1, end).includes('[')) return [s.slice(1, -1)];
    out.push(s.slice(i + 1, end));
    i = end + 1;
  }
  return out;
}

/** A `when` key parsed into its attribute, or the reason Istio rejects it (ValidateAttribute). */
export function parseConditionKey(key: string): { attribute: ConditionAttribute; rule: ValueRule } | { problem: string; fix: string } {
  const plain = Object.hasOwn(PLAIN_ATTRIBUTES, key) ? PLAIN_ATTRIBUTES[key as AttributeName] : undefined;
  if (plain) return { attribute: { name: key as AttributeName, keys: [] }, rule: plain };
  const bracketed = (prefix: string) => key.startsWith(`${prefix}[`) && key.endsWith(']') && key.length > prefix.length + 2;
  if (key.startsWith('request.headers')) {
    if (!bracketed('request.headers')) return { problem: `bad key ${key}: it must be request.headers[<header name>]`, fix: 'write e.g. request.headers[x-token]' };
    const header = key.slice('request.headers['.length, -1);
    const broken = checkHeaderName(header);
    if (broken) return { problem: `bad key ${key}: ${JSON.stringify(header)} is not ${broken}`, fix: 'write a valid header name inside the brackets' };
    return { attribute: { name: 'request.headers', keys: [header] }, rule: 'match' };
  }
  if (key.startsWith('request.auth.claims')) {
    if (!bracketed('request.auth.claims')) return { problem: `bad key ${key}: it must be request.auth.claims[<claim>] (nested: [a][b])`, fix: 'write e.g. request.auth.claims[groups]' };
    return { attribute: { name: 'request.auth.claims', keys: nestedBrackets(key.slice('request.auth.claims'.length)) }, rule: 'match' };
  }
  if (key.startsWith('experimental.envoy.filters.')) {
    const open = key.indexOf('[');
    if (open <= 'experimental.envoy.filters.'.length || !key.endsWith(']') || open >= key.length - 2) return { problem: `bad key ${key}: it must be experimental.envoy.filters.<filter>[<key>]`, fix: 'add the metadata key in brackets' };
    return { attribute: { name: key.slice(0, open) as AttributeName, keys: [key.slice(open + 1, -1)] }, rule: 'match' };
  }
  if (key === 'destination.namespace') return { problem: 'attribute destination.namespace is replaced by metadata.namespace of the policy', fix: 'put the policy in that namespace, and remove this condition' };
  if (key.startsWith('destination.labels')) return { problem: 'attribute destination.labels is replaced by the workload selector', fix: 'use spec.selector.matchLabels, and remove this condition' };
  if (key === 'destination.name' || key === 'destination.user') return { problem: `attribute ${key} was only supported by the old v1alpha1 RBAC API`, fix: 'use spec.selector to pick the workload, and remove this condition' };
  // Compare the attribute without its bracket part: request.auth.claim[groups] → request.auth.claims.
  const guess = didYouMean(key.split('[')[0], [...Object.keys(PLAIN_ATTRIBUTES), 'request.headers', 'request.auth.claims']);
  return { problem: `unknown attribute ${key}${guess ? `; did you mean ${guess}?` : ''}`, fix: `use one of ${KNOWN_KEYS.join(', ')}` };
}

const conditionSchema = mapped(
  obj(
    {
      key: required(str({ nonEmpty: true }), 'request.headers[..], source.ip, remote.ip, source.namespace, source.principal, request.auth.*, destination.ip/port, connection.sni, experimental.envoy.filters.*'),
      values: values('matches if the attribute equals any of these'),
      notValues: values('matches if the attribute equals none of these'),
    },
    {
      refine(c, r) {
        const parsed = parseConditionKey(c.key);
        if ('problem' in parsed) {
          r.error(['key'], 'invalid-value', parsed.problem, parsed.fix);
          return;
        }
        if ((c.values ?? []).length === 0 && (c.notValues ?? []).length === 0) {
          r.error([], 'missing-field', `at least one of values or notValues must be set for key ${c.key}`, 'add values: [...] or notValues: [...]', 'key');
        }
        for (const k of ['values', 'notValues'] as const) checkValues(c[k] ?? [], parsed.rule, [k], r, `${k} of ${c.key}`);
      },
    },
  ),
  (c, path): AuthorizationCondition => {
    const parsed = parseConditionKey(c.key);
    // Sound: the refine above rejected every key that does not parse.
    const attribute = 'attribute' in parsed ? parsed.attribute : { name: 'source.ip' as const, keys: [] };
    return { key: c.key, attribute, values: c.values ?? [], notValues: c.notValues ?? [], path };
  },
);

// ---- rules ---------------------------------------------------------------------------------------

function toSource(s: ObjectOf<typeof SOURCE_FIELDS>): AuthorizationSource {
  const out = {} as Record<SourceField, readonly string[]>;
  for (const k of Object.keys(SOURCE_FIELDS) as SourceField[]) out[k] = s[k] ?? [];
  return out;
}

function toOperation(o: ObjectOf<typeof OPERATION_FIELDS>): AuthorizationOperation {
  const out = {} as Record<OperationField, readonly string[]>;
  for (const k of Object.keys(OPERATION_FIELDS) as OperationField[]) out[k] = o[k] ?? [];
  return out;
}

const fromSchema = mapped(obj({ source: required(sourceSchema) }), (f, path) => ({ source: toSource(f.source), path }));
const toSchema = mapped(obj({ operation: required(operationSchema) }), (t, path) => ({ operation: toOperation(t.operation), path }));

const ruleSchema = mapped(
  obj(
    {
      from: field(listOf(fromSchema, { maxItems: 512 }), 'at least one must match; absent or [] = any source'),
      to: field(listOf(toSchema), 'at least one must match; absent or [] = any operation'),
      when: field(listOf(conditionSchema), 'all must match'),
    },
    {
      refine(rule, r) {
        // Istio reads `from: []` exactly like no `from` (protobuf JSON), which is "any source".
        for (const k of ['from', 'to'] as const) {
          if (rule[k] !== undefined && rule[k].length === 0) r.warn([k], 'empty-means-any', `${k}: [] is read as if ${k} were absent: it matches any ${k === 'from' ? 'source' : 'operation'}, not none`, `remove ${k}, or list the ${k === 'from' ? 'sources' : 'operations'} it should match`, 'key');
        }
      },
    },
  ),
  (rule, path): AuthorizationRule => ({ from: rule.from ?? [], to: rule.to ?? [], when: rule.when ?? [], path }),
);

// ---- the policy ------------------------------------------------------------------------------------

const CUSTOM_UNSUPPORTED_SOURCE: readonly SourceField[] = ['namespaces', 'notNamespaces', 'serviceAccounts', 'notServiceAccounts', 'trustDomains', 'notTrustDomains', 'principals', 'notPrincipals', 'requestPrincipals', 'notRequestPrincipals'];

function customUnsupportedKey(key: string): boolean {
  return ['source.namespace', 'source.serviceAccount', 'source.trustDomain', 'source.principal'].includes(key) || key.startsWith('request.auth.');
}

/** Istio's action-dependent rules, and its warning about DENY rules that only HTTP can evaluate. */
function checkAction(s: { readonly action?: string; readonly provider?: { readonly name?: string }; readonly rules?: readonly AuthorizationRule[] }, r: Refiner): void {
  const action = s.action ?? 'ALLOW';
  const rules = s.rules ?? [];
  if ((action === 'DENY' || action === 'CUSTOM') && rules.length === 0) {
    r.error(s.rules === undefined ? [] : ['rules'], 'missing-field', `${action} action without rules is meaningless, as it never triggers (Istio rejects it)`, 'add rules; an empty rule `rules: [{}]` triggers for every request', 'key');
  }
  if (action === 'CUSTOM' && rules.length > 0 && !s.provider?.name) {
    r.error(s.provider ? ['provider'] : [], 'missing-field', 'CUSTOM action needs provider.name, the name of a MeshConfig extensionProviders entry', 'add provider: {name: <extension provider>}', 'key');
  }
  if (s.provider !== undefined && action !== 'CUSTOM') {
    r.error(['provider'], 'conflict', `provider can be set only with action CUSTOM, found ${action}`, 'set action: CUSTOM, or remove provider', 'key');
  }
  for (const rule of rules) {
    const rel = rule.path.slice(1);
    if (action === 'CUSTOM') {
      for (const f of rule.from) {
        for (const k of CUSTOM_UNSUPPORTED_SOURCE) if (f.source[k].length > 0) r.error([...f.path.slice(1), 'source', k], 'unsupported-with-custom', `${k} is not supported with the CUSTOM action (Istio rejects it)`, 'match the request by ipBlocks, remoteIpBlocks or the operation, and let the external authorizer check identities', 'key');
      }
      for (const c of rule.when) if (customUnsupportedKey(c.key)) r.error([...c.path.slice(1), 'key'], 'unsupported-with-custom', `condition ${c.key} is not supported with the CUSTOM action (Istio rejects it)`, 'let the external authorizer check identities, or remove this condition');
    }
    if (action === 'DENY') {
      const fromExists = rule.from.length > 0;
      const toExists = rule.to.length > 0;
      const tcpFrom = rule.from.some((f) => TCP_SOURCE_FIELDS.some((k) => f.source[k].length > 0));
      const tcpTo = rule.to.some((t) => t.operation.ports.length > 0 || t.operation.notPorts.length > 0);
      if ((fromExists && !toExists && !tcpFrom) || (toExists && !tcpTo)) {
        r.warn(rel, 'deny-all-tcp', 'this DENY rule uses only HTTP attributes, so it denies all traffic to TCP ports under the policy\'s scope (AZ-10)', 'add to: [{operation: {ports: [...]}}] naming the HTTP ports it is meant for');
      }
    }
  }
}

export const authorizationPolicySpecSchema = obj(
  {
    ...scopeFields(),
    action: field(enumOf(AUTHORIZATION_ACTIONS), 'default ALLOW'),
    provider: field(obj({ name: field(str(), 'a MeshConfig extensionProviders name') }), 'only with CUSTOM'),
    rules: field(listOf(ruleSchema, { maxItems: 512 }), 'absent or []: matches no request (ALLOW: allow nothing); [{}]: matches every request'),
  },
  {
    refine(s, r) {
      checkScope(s, r, 'AuthorizationPolicy');
      checkAction(s, r);
    },
  },
);

function checkDryRun(annotations: Readonly<Record<string, string>> | undefined, action: string, r: Refiner): void {
  if (annotations === undefined || !Object.hasOwn(annotations, DRY_RUN_ANNOTATION)) return;
  const path: FieldPath = ['metadata', 'annotations', DRY_RUN_ANNOTATION];
  if (action !== 'ALLOW' && action !== 'DENY') r.error(path, 'invalid-value', `${DRY_RUN_ANNOTATION} supports only the actions ALLOW and DENY, found ${action}`, 'remove the annotation');
  else if (parseGoBool(annotations[DRY_RUN_ANNOTATION]) === undefined) r.error(path, 'invalid-value', `${DRY_RUN_ANNOTATION} must be a boolean, found ${JSON.stringify(annotations[DRY_RUN_ANNOTATION])}`, 'write "true" or "false"');
}

export const authorizationPolicyKind = defineKind({
  kind: 'AuthorizationPolicy',
  apiVersions: ISTIO_SECURITY_VERSIONS,
  origin: 'Istio',
  // No spec at all is `spec: {}`: ALLOW with no rules, i.e. allow nothing (AZ-03).
  schema: resourceSchema({ spec: field(authorizationPolicySpecSchema) }, undefined, { refine: (v, r) => checkDryRun(v.metadata.annotations, v.spec?.action ?? 'ALLOW', r) }),
  convert(v, base): AuthorizationPolicyResource {
    const s = v.spec ?? {};
    const selector = toSelector(s.selector);
    const action = s.action ?? 'ALLOW';
    const dryRun = parseGoBool(base.metadata.annotations[DRY_RUN_ANNOTATION] ?? 'false') ?? false;
    return {
      ...base,
      kind: 'AuthorizationPolicy',
      spec: {
        ...(selector ? { selector } : {}),
        targetRefs: toTargetRefs(s),
        action,
        ...(action === 'CUSTOM' && s.provider?.name ? { provider: { name: s.provider.name } } : {}),
        rules: s.rules ?? [],
        dryRun,
      },
    };
  },
});
