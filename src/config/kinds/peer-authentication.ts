// security.istio.io PeerAuthentication (istio/api security/v1beta1/peer_authentication.proto):
// whether a workload's inbound side accepts plaintext, mTLS or both (PA-01..04). Implemented and
// typed: selector, mtls.mode and portLevelMtls. Istio's rules (ValidatePeerAuthentication and the
// CRD's own checks) are applied: portLevelMtls only with a selector and never empty, port keys
// 1..65535, no wildcards in the selector, no dry-run annotation. Scope resolution (mesh →
// namespace → workload, most specific wins) is in security-scope.ts; policies that can never
// apply (a selector in the root namespace) are found by the analyzers, which know the mesh config.

import { enumOf, field, mapOf, mapped, obj } from '../schema.js';
import type { MutualTLSMode, PeerAuthenticationResource, PortLevelMtls } from '../types.js';
import { defineKind, resourceSchema } from './common.js';
import { ISTIO_SECURITY_VERSIONS, rejectDryRun, toSelector, workloadSelectorSchema } from './security-common.js';

export const MTLS_MODES = ['UNSET', 'DISABLE', 'PERMISSIVE', 'STRICT'] as const;

const mutualTlsSchema = mapped(
  obj({ mode: field(enumOf(MTLS_MODES), 'UNSET (the default) inherits from the parent scope; PERMISSIVE when none sets a mode') }),
  (m): { mode: MutualTLSMode } => ({ mode: m.mode ?? 'UNSET' }),
);

/** A decimal port 1..65535: the keys of portLevelMtls (proto map<uint32, ...>). */
function checkPortKey(k: string): string | undefined {
  return /^\d+$/.test(k) && Number(k) >= 1 && Number(k) <= 65535 ? undefined : 'a port number between 1 and 65535 (the workload\'s container port)';
}

export const peerAuthenticationSpecSchema = obj(
  {
    selector: field(workloadSelectorSchema, 'absent: the namespace (the mesh, in the root namespace); selector policies in the root namespace are ignored'),
    mtls: field(mutualTlsSchema),
    portLevelMtls: field(mapOf(mutualTlsSchema, { keyRule: checkPortKey, expected: 'a map of port numbers to {mode}' }), 'container port → mode; only with a selector'),
  },
  {
    refine(s, r) {
      const labels = Object.keys(s.selector?.matchLabels ?? {}).length;
      if (s.selector !== undefined && labels === 0) {
        r.warn(['selector'], 'empty-selector', 'selector has no labels, so this PeerAuthentication is the namespace\'s (the mesh\'s in the root namespace)', 'add matchLabels, or remove selector', 'key');
      }
      if (s.portLevelMtls !== undefined) {
        if (Object.keys(s.portLevelMtls).length === 0) r.error(['portLevelMtls'], 'invalid-value', 'portLevelMtls, if written, needs at least one port', 'add a port (e.g. 8080: {mode: DISABLE}), or remove portLevelMtls', 'key');
        else if (labels === 0) r.error(['portLevelMtls'], 'conflict', 'a mesh-wide or namespace-wide PeerAuthentication (without selector labels) cannot have portLevelMtls (Istio rejects it)', 'add selector.matchLabels for the workloads whose ports these are, or remove portLevelMtls', 'key');
      }
    },
  },
);

export const peerAuthenticationKind = defineKind({
  kind: 'PeerAuthentication',
  apiVersions: ISTIO_SECURITY_VERSIONS,
  origin: 'Istio',
  // `spec: {}` is valid (an UNSET namespace policy); a PeerAuthentication without spec is too.
  schema: resourceSchema({ spec: field(peerAuthenticationSpecSchema) }, undefined, { refine: (v, r) => rejectDryRun(v.metadata.annotations, 'PeerAuthentication', r) }),
  convert(v, base): PeerAuthenticationResource {
    const s = v.spec ?? {};
    const selector = toSelector(s.selector);
    const ports: PortLevelMtls[] = Object.entries(s.portLevelMtls ?? {})
      .map(([port, m]) => ({ port: Number(port), mode: m.mode, path: ['spec', 'portLevelMtls', port] }))
      .sort((a, b) => a.port - b.port);
    return {
      ...base,
      kind: 'PeerAuthentication',
      spec: { ...(selector ? { selector } : {}), mtls: s.mtls ?? { mode: 'UNSET' }, portLevelMtls: ports },
    };
  },
});
