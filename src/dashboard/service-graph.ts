// The service graph Kiali draws from Istio's metrics: workload → service → workload, each edge
// with its request rate, error rate, p50/p99 latency and mTLS state over a window. An edge from a
// client workload to a service uses what the client's proxy reported (reporter="source", which
// also sees requests that never reached a server); an edge from a service to the workload that
// served it uses the server's report (reporter="destination"). Either falls back to the other
// reporter when only one side has a proxy. mTLS comes from the server side's
// connection_security_policy, the only side that knows it.

import type { EdgeLabels, Rates, Totals } from './mesh-metrics.js';
import { ratesOf, sumTotals } from './mesh-metrics.js';

export type NodeKind = 'workload' | 'service' | 'unknown';
export type Security = 'mtls' | 'plaintext' | 'mixed' | 'unknown';

export interface GraphNode {
  readonly id: string;
  readonly kind: NodeKind;
  readonly name: string;
  readonly namespace: string;
  /** The mesh's ingress gateway (a workload that only sends). */
  readonly gateway: boolean;
  /** No traffic in the window (a running workload, or an edge seen earlier). */
  readonly idle: boolean;
  /** Inbound traffic (what reached it); a gateway's is what it sent. */
  readonly rates: Rates;
}

export interface GraphEdge {
  readonly id: string;
  readonly source: string;
  readonly target: string;
  readonly reporter: string;
  readonly security: Security;
  readonly rates: Rates;
}

export interface ServiceGraph {
  readonly windowSeconds: number;
  readonly nodes: GraphNode[];
  readonly edges: GraphEdge[];
}

/** A workload the mesh runs, shown even before it has traffic. */
export interface KnownWorkload {
  readonly name: string;
  readonly namespace: string;
  readonly gateway: boolean;
}

export interface Entry {
  readonly labels: EdgeLabels;
  readonly totals: Totals;
}

const workloadId = (ns: string, name: string) => `workload:${ns}/${name}`;
const serviceId = (fqdn: string) => `service:${fqdn}`;
const UNKNOWN_ID = 'unknown';

function sourceNode(l: EdgeLabels): string {
  return l.sourceWorkload === 'unknown' ? UNKNOWN_ID : workloadId(l.sourceNamespace, l.sourceWorkload);
}

function destinationNode(l: EdgeLabels): string | null {
  return l.destinationWorkload === 'unknown' ? null : workloadId(l.destinationNamespace, l.destinationWorkload);
}

function securityOf(entries: readonly Entry[]): Security {
  let mtls = 0;
  let plain = 0;
  for (const e of entries) {
    if (e.labels.reporter !== 'destination') continue;
    // Weight by requests, but let an idle key still say what it was.
    const w = e.totals.requests > 0 ? e.totals.requests : 1e-9;
    if (e.labels.security === 'mutual_tls') mtls += w;
    else if (e.labels.security === 'none') plain += w;
  }
  if (mtls === 0 && plain === 0) return 'unknown';
  if (plain === 0) return 'mtls';
  if (mtls === 0) return 'plaintext';
  return 'mixed';
}

/** Entries of the preferred reporter when it has any, else of the other one. */
function prefer(entries: readonly Entry[], reporter: string): { reporter: string; entries: Entry[] } {
  const pick = entries.filter((e) => e.labels.reporter === reporter);
  if (pick.length > 0) return { reporter, entries: pick };
  const other = entries.filter((e) => e.labels.reporter !== reporter);
  return { reporter: other[0]?.labels.reporter ?? reporter, entries: other };
}

function group(entries: readonly Entry[], key: (e: Entry) => string | null): Map<string, Entry[]> {
  const m = new Map<string, Entry[]>();
  for (const e of entries) {
    const k = key(e);
    if (k === null) continue;
    let list = m.get(k);
    if (!list) m.set(k, (list = []));
    list.push(e);
  }
  return m;
}

export function buildServiceGraph(entries: readonly Entry[], windowSeconds: number, known: readonly KnownWorkload[] = []): ServiceGraph {
  const nodes = new Map<string, { kind: NodeKind; name: string; namespace: string; gateway: boolean; inbound: Entry[]; outbound: Entry[] }>();
  const node = (id: string, kind: NodeKind, name: string, namespace: string) => {
    let n = nodes.get(id);
    if (!n) nodes.set(id, (n = { kind, name, namespace, gateway: false, inbound: [], outbound: [] }));
    return n;
  };
  for (const w of known) node(workloadId(w.namespace, w.name), 'workload', w.name, w.namespace).gateway = w.gateway;

  const edges: GraphEdge[] = [];
  const addEdge = (source: string, target: string, list: Entry[], preferred: string) => {
    const chosen = prefer(list, preferred);
    edges.push({ id: `${source}->${target}`, source, target, reporter: chosen.reporter, security: securityOf(list), rates: ratesOf(sumTotals(chosen.entries.map((e) => e.totals)), windowSeconds) });
  };

  for (const e of entries) {
    const l = e.labels;
    const src = sourceNode(l);
    if (src === UNKNOWN_ID) node(src, 'unknown', 'unknown', '');
    else node(src, 'workload', l.sourceWorkload, l.sourceNamespace).outbound.push(e);
    if (l.destinationService !== 'unknown') node(serviceId(l.destinationService), 'service', l.destinationServiceName, l.destinationServiceNamespace).inbound.push(e);
    const dst = destinationNode(l);
    if (dst) node(dst, 'workload', l.destinationWorkload, l.destinationNamespace).inbound.push(e);
  }
  const withService = entries.filter((e) => e.labels.destinationService !== 'unknown');
  for (const [k, list] of group(withService, (e) => `${sourceNode(e.labels)}\u0000${serviceId(e.labels.destinationService)}`)) {
    const [s, t] = k.split('\u0000') as [string, string];
    addEdge(s, t, list, 'source');
  }
  for (const [k, list] of group(withService, (e) => {
    const d = destinationNode(e.labels);
    return d ? `${serviceId(e.labels.destinationService)}\u0000${d}` : null;
  })) {
    const [s, t] = k.split('\u0000') as [string, string];
    addEdge(s, t, list, 'destination');
  }
  // No service (the proxy could not name one): client straight to server.
  const direct = entries.filter((e) => e.labels.destinationService === 'unknown');
  for (const [k, list] of group(direct, (e) => {
    const d = destinationNode(e.labels);
    return d ? `${sourceNode(e.labels)}\u0000${d}` : null;
  })) {
    const [s, t] = k.split('\u0000') as [string, string];
    addEdge(s, t, list, 'source');
  }

  const out: GraphNode[] = [];
  for (const [id, n] of nodes) {
    // What reached it: the server's own report first; a gateway (nothing inbound) shows what it sent.
    const inbound = n.inbound.length > 0 ? prefer(n.inbound, 'destination').entries : [];
    const basis = inbound.length > 0 ? inbound : prefer(n.outbound, 'source').entries;
    const rates = ratesOf(sumTotals(basis.map((e) => e.totals)), windowSeconds);
    const gateway = n.gateway || (n.kind === 'workload' && /ingressgateway|egressgateway/.test(n.name));
    out.push({ id, kind: n.kind, name: n.name, namespace: n.namespace, gateway, idle: rates.requests === 0 && rates.connections === 0 && rates.bytesPerSecond === 0, rates });
  }
  out.sort((a, b) => a.id.localeCompare(b.id));
  edges.sort((a, b) => a.id.localeCompare(b.id));
  return { windowSeconds, nodes: out, edges };
}
