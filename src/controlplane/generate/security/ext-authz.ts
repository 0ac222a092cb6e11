// CUSTOM AuthorizationPolicies → Envoy external authorization, as Istio builds it (AZ-01, AZ-02;
// pilot/pkg/security/authz/builder/extauthz.go):
//
// - the policies' rules go into an RBAC filter as `shadow_rules` only (action DENY, stat prefix
//   `istio_ext_authz_`): it enforces nothing, but when a rule matches it records the rule's name
//   in its dynamic metadata under `istio_ext_authz_shadow_effective_policy_id`;
// - the ext_authz filter right after it runs only when that metadata value starts with
//   `istio-ext-authz-<provider>` (`filter_enabled_metadata`), so the external service is asked
//   about exactly the requests the CUSTOM rules select;
// - the provider comes from MeshConfig `extensionProviders[]` (envoyExtAuthzHttp or
//   envoyExtAuthzGrpc). An unknown or invalid provider, or more than one provider on a workload
//   (Istio allows one unless a feature flag is set), turns the rules into an enforced DENY, so a
//   broken CUSTOM policy fails closed;
// - on TCP chains only gRPC providers apply (network ext_authz); HTTP providers are skipped.
//
// Dry-run CUSTOM policies are left out: they neither call the service nor deny. Istio's
// single-provider builder did the same; its multi-provider rewrite (istio#58082) puts them in
// the RBAC filter's enforced DENY rules, which denies what they match, against the point of a
// dry run.

import type { Duration, EnvoyExtAuthzGrpcProvider, EnvoyExtAuthzHttpProvider, ExtAuthzRequestBody, ExtensionProvider } from '../../../config/types.js';
import type { Filter, HttpFilter, StringMatcher } from '../../../xds/resources.js';
import { protoDuration } from '../destination-policy.js';
import { outboundClusterName } from '../names.js';
import type { AuthzPolicy } from './authz-builder.js';
import { buildRules } from './authz-builder.js';
import type { GrpcService, HttpExtAuthzConfig, HttpRbacConfig, ListStringMatcher, MetadataMatcher, NetworkExtAuthzConfig, NetworkRbacConfig, Rbac } from './envoy-types.js';
import { HTTP_EXT_AUTHZ_FILTER, HTTP_EXT_AUTHZ_TYPE, HTTP_RBAC_FILTER, HTTP_RBAC_TYPE, NETWORK_EXT_AUTHZ_FILTER, NETWORK_EXT_AUTHZ_TYPE, NETWORK_RBAC_FILTER, NETWORK_RBAC_TYPE } from './envoy-types.js';

/** Prefix of CUSTOM rule names; ext_authz looks for it in the RBAC filter's metadata. */
export const EXT_AUTHZ_MATCH_PREFIX = 'istio-ext-authz';
/** The shadow-rules stat prefix of the CUSTOM RBAC filter, and so the prefix of its metadata keys. */
export const EXT_AUTHZ_SHADOW_PREFIX = 'istio_ext_authz_';
/** Envoy's RBAC metadata key for the matched shadow rule (after the stat prefix). */
export const SHADOW_EFFECTIVE_POLICY_ID = 'shadow_effective_policy_id';
const BAD_CUSTOM_SUFFIX = '-deny-due-to-bad-CUSTOM-action';

/** `[<namespace>/]<hostname>` → the service's hostname, or an error (Istio's LookupCluster). */
export type ServiceLookup = (service: string) => { hostname: string } | { error: string };

export interface CustomContext {
  readonly providers: readonly ExtensionProvider[];
  readonly lookup: ServiceLookup;
  readonly trustDomains: readonly string[];
}

function timeoutText(t: Duration | undefined): string {
  // Istio's default: the check may take 10 minutes.
  return t === undefined ? '600s' : protoDuration(t.ms);
}

/** Header names: `x*` prefix, `*x` suffix, else exact; always case-insensitive. */
function headerList(headers: readonly string[] | undefined): ListStringMatcher | undefined {
  if (!headers?.length) return undefined;
  return {
    patterns: headers.map((h): StringMatcher => {
      if (h.startsWith('*')) return { suffix: h.slice(1), ignoreCase: true };
      if (h.endsWith('*')) return { prefix: h.slice(0, -1), ignoreCase: true };
      return { exact: h, ignoreCase: true };
    }),
  };
}

function body(b: ExtAuthzRequestBody | undefined): HttpExtAuthzConfig['withRequestBody'] | undefined {
  if (!b) return undefined;
  const out: NonNullable<HttpExtAuthzConfig['withRequestBody']> = {};
  if (b.maxRequestBytes) out.maxRequestBytes = b.maxRequestBytes;
  if (b.allowPartialMessage) out.allowPartialMessage = true;
  if (b.packAsBytes) out.packAsBytes = true;
  return out;
}

/** The RBAC filter's metadata that turns ext_authz on for this provider's rules. */
export function filterEnabledMetadata(rbacFilter: string, provider: string): MetadataMatcher {
  return {
    filter: rbacFilter,
    path: [{ key: EXT_AUTHZ_SHADOW_PREFIX + SHADOW_EFFECTIVE_POLICY_ID }],
    value: { stringMatch: { prefix: `${EXT_AUTHZ_MATCH_PREFIX}-${provider}` } },
  };
}

interface ResolvedProvider {
  readonly http: HttpExtAuthzConfig;
  /** Only gRPC providers work on TCP chains. */
  readonly tcp?: NetworkExtAuthzConfig;
}

/** A provider's ext_authz configs, or the reasons it cannot be used (Istio checks the same). */
export function resolveProvider(name: string, ctx: CustomContext): ResolvedProvider | { errors: string[] } {
  const found = ctx.providers.filter((p) => p.name === name);
  if (found.length === 0) return { errors: [`available providers are [${ctx.providers.map((p) => p.name).join(' ')}] but found "${name}"`] };
  const p = found[0]!;
  let h: EnvoyExtAuthzHttpProvider | undefined;
  let g: EnvoyExtAuthzGrpcProvider | undefined;
  if (p.type === 'envoyExtAuthzHttp') h = p.envoyExtAuthzHttp;
  else if (p.type === 'envoyExtAuthzGrpc') g = p.envoyExtAuthzGrpc;
  else return { errors: [`provider "${name}" is a ${p.kind} provider, not envoyExtAuthzHttp or envoyExtAuthzGrpc`] };
  const cfg = (h ?? g)!;
  const svc = ctx.lookup(cfg.service);
  if ('error' in svc) return { errors: [svc.error] };
  // The loader has checked the rest (port range, statusOnError, pathPrefix, header patterns).
  const hostname = svc.hostname;
  const cluster = outboundClusterName(cfg.port, '', hostname);
  const timeout = timeoutText(cfg.timeout);
  const common = {
    transportApiVersion: 'V3' as const,
    ...(cfg.statusOnError !== undefined ? { statusOnError: { code: cfg.statusOnError } } : {}),
    ...(cfg.failOpen ? { failureModeAllow: true } : {}),
  };
  const withBody = body(cfg.includeRequestBodyInCheck);
  if (h) {
    const httpService: NonNullable<HttpExtAuthzConfig['httpService']> = { serverUri: { uri: `http://${hostname}`, cluster, timeout } };
    if (h.pathPrefix) httpService.pathPrefix = h.pathPrefix;
    const extra = Object.keys(h.includeAdditionalHeadersInCheck).sort();
    if (extra.length) httpService.authorizationRequest = { headersToAdd: extra.map((key) => ({ key, value: h.includeAdditionalHeadersInCheck[key]! })) };
    const upstream = headerList(h.headersToUpstreamOnAllow);
    const client = headerList(h.headersToDownstreamOnDeny);
    const clientOnSuccess = headerList(h.headersToDownstreamOnAllow);
    if (upstream || client || clientOnSuccess) {
      httpService.authorizationResponse = {
        ...(upstream ? { allowedUpstreamHeaders: upstream } : {}),
        ...(client ? { allowedClientHeaders: client } : {}),
        ...(clientOnSuccess ? { allowedClientHeadersOnSuccess: clientOnSuccess } : {}),
      };
    }
    const allowed = headerList(h.includeRequestHeadersInCheck);
    const http: HttpExtAuthzConfig = {
      '@type': HTTP_EXT_AUTHZ_TYPE,
      httpService,
      ...common,
      // Istio leaves this MeshConfig field out; Strait passes it to Envoy's field of the same meaning.
      ...(h.clearRouteCache ? { clearRouteCache: true } : {}),
      ...(allowed ? { allowedHeaders: allowed } : {}),
      filterEnabledMetadata: filterEnabledMetadata(HTTP_RBAC_FILTER, name),
      ...(withBody ? { withRequestBody: withBody } : {}),
    };
    return { http };
  }
  const grpcService: GrpcService = { envoyGrpc: { clusterName: cluster, authority: hostname }, timeout };
  return {
    http: {
      '@type': HTTP_EXT_AUTHZ_TYPE,
      grpcService,
      ...common,
      ...(cfg.clearRouteCache ? { clearRouteCache: true } : {}),
      filterEnabledMetadata: filterEnabledMetadata(HTTP_RBAC_FILTER, name),
      ...(withBody ? { withRequestBody: withBody } : {}),
    },
    tcp: {
      '@type': NETWORK_EXT_AUTHZ_TYPE,
      statPrefix: 'tcp.',
      grpcService,
      ...(cfg.failOpen ? { failureModeAllow: true } : {}),
      transportApiVersion: 'V3',
      filterEnabledMetadata: filterEnabledMetadata(NETWORK_RBAC_FILTER, name),
    },
  };
}

/** The CUSTOM rules of one provider, enforced as DENY under names that say why. */
function badCustomDeny(rules: Rbac | undefined): Rbac {
  const policies: Rbac['policies'] = {};
  for (const [k, v] of Object.entries(rules?.policies ?? {})) policies[k + BAD_CUSTOM_SUFFIX] = v;
  return { action: 'DENY', policies };
}

interface ProviderRules {
  readonly provider: string;
  readonly rules: Rbac;
}

function rulesByProvider(custom: readonly AuthzPolicy[], forTcp: boolean, trustDomains: readonly string[]): ProviderRules[] {
  const names = [...new Set(custom.filter((p) => !p.dryRun).map((p) => p.provider ?? ''))].sort();
  return names.map((provider) => {
    const policies = custom.filter((p) => !p.dryRun && (p.provider ?? '') === provider);
    const built = buildRules(policies, 'DENY', { forTcp, trustDomains }, `${EXT_AUTHZ_MATCH_PREFIX}-${provider}-`);
    return { provider, rules: built.rules ?? { action: 'DENY', policies: {} } };
  });
}

/** The HTTP filters of the CUSTOM policies: [RBAC (shadow), ext_authz] per provider. */
export function customHttpFilters(custom: readonly AuthzPolicy[], ctx: CustomContext): HttpFilter[] {
  const groups = rulesByProvider(custom, false, ctx.trustDomains);
  const out: HttpFilter[] = [];
  const rbac = (c: HttpRbacConfig): HttpFilter => ({ name: HTTP_RBAC_FILTER, typedConfig: c as unknown as HttpFilter['typedConfig'] });
  for (const g of groups) {
    const resolved = groups.length > 1 ? undefined : resolveProvider(g.provider, ctx);
    if (!resolved || 'errors' in resolved) {
      out.push(rbac({ '@type': HTTP_RBAC_TYPE, rules: badCustomDeny(g.rules) }));
      continue;
    }
    out.push(rbac({ '@type': HTTP_RBAC_TYPE, shadowRules: g.rules, shadowRulesStatPrefix: EXT_AUTHZ_SHADOW_PREFIX }));
    out.push({ name: HTTP_EXT_AUTHZ_FILTER, typedConfig: resolved.http as unknown as HttpFilter['typedConfig'] });
  }
  return out;
}

/** The network filters of the CUSTOM policies on TCP chains (gRPC providers only). */
export function customTcpFilters(custom: readonly AuthzPolicy[], ctx: CustomContext): Filter[] {
  const groups = rulesByProvider(custom, true, ctx.trustDomains);
  const out: Filter[] = [];
  const rbac = (c: NetworkRbacConfig): Filter => ({ name: NETWORK_RBAC_FILTER, typedConfig: c as unknown as Filter['typedConfig'] });
  for (const g of groups) {
    const resolved = groups.length > 1 ? undefined : resolveProvider(g.provider, ctx);
    if (!resolved || 'errors' in resolved) {
      out.push(rbac({ '@type': NETWORK_RBAC_TYPE, statPrefix: 'tcp.', rules: badCustomDeny(g.rules) }));
      continue;
    }
    if (!resolved.tcp) continue;
    out.push(rbac({ '@type': NETWORK_RBAC_TYPE, statPrefix: 'tcp.', shadowRules: g.rules, shadowRulesStatPrefix: EXT_AUTHZ_SHADOW_PREFIX }));
    out.push({ name: NETWORK_EXT_AUTHZ_FILTER, typedConfig: resolved.tcp as unknown as Filter['typedConfig'] });
  }
  return out;
}
