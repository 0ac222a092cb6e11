// Workload identities in Istio's SPIFFE form, `spiffe://<trust domain>/ns/<namespace>/sa/<service
// account>` (istio/istio pkg/spiffe). The CA writes exactly this URI into a certificate's SAN;
// authorization principals are the same string without the `spiffe://` scheme.

/** Who a workload is: what a bootstrap token is bound to and what its certificate names. */
export interface WorkloadIdentity {
  readonly namespace: string;
  readonly serviceAccount: string;
}

// Kubernetes names: namespaces are DNS labels, service accounts DNS subdomains. Checked here so a
// malformed name can never produce a URI with extra path segments.
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
// SPIFFE trust domains: lowercase letters, digits, '.', '-', '_' (SPIFFE ID spec §2.1).
const TRUST_DOMAIN = /^[a-z0-9._-]{1,255}$/;

export function checkIdentity(id: WorkloadIdentity): string | undefined {
  if (!DNS_LABEL.test(id.namespace)) return `namespace "${id.namespace}" is not a DNS label`;
  if (!DNS_SUBDOMAIN.test(id.serviceAccount)) return `service account "${id.serviceAccount}" is not a DNS subdomain`;
  return undefined;
}

export function checkTrustDomain(td: string): string | undefined {
  return TRUST_DOMAIN.test(td) ? undefined : `trust domain "${td}" must be lowercase letters, digits, '.', '-' or '_'`;
}

export function spiffeId(trustDomain: string, id: WorkloadIdentity): string {
  const bad = checkTrustDomain(trustDomain) ?? checkIdentity(id);
  if (bad) throw new Error(bad);
  return `spiffe://${trustDomain}/ns/${id.namespace}/sa/${id.serviceAccount}`;
}

/** The trust domain and identity of an Istio-form SPIFFE ID; undefined for anything else. */
export function parseSpiffeId(uri: string): { trustDomain: string; identity: WorkloadIdentity } | undefined {
  const m = /^spiffe:\/\/([^/]+)\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(uri);
  if (!m) return undefined;
  const identity = { namespace: m[2]!, serviceAccount: m[3]! };
  if (checkTrustDomain(m[1]!) || checkIdentity(identity)) return undefined;
  return { trustDomain: m[1]!, identity };
}
