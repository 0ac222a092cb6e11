// Tables of `strait proxy-config` and `strait proxy-status`, in the columns `istioctl
// proxy-config` and `istioctl proxy-status` print, computed from what a proxy's admin endpoint
// returns (/config_dump, /clusters, /certs) and the control plane's per-proxy versions. Pure
// functions over parsed JSON/text so they are unit-tested without a running mesh.

import type { Cluster, ClusterLoadAssignment, FilterChain, Listener, RouteConfiguration, RouteMatch, TcpProxy, HttpConnectionManager } from '../xds/resources.js';

/** What /config_dump returns, reduced to the parts the tables read. */
export interface ConfigDump {
  configs: {
    '@type': string;
    dynamicListeners?: { name: string; activeState?: { listener: Listener } }[];
    dynamicRouteConfigs?: { routeConfig: RouteConfiguration }[];
    dynamicActiveClusters?: { cluster: Cluster }[];
    dynamicEndpointConfigs?: { endpointConfig: ClusterLoadAssignment }[];
  }[];
}

/** /certs (Envoy's admin shape). */
export interface CertsView {
  certificates: {
    name?: string;
    ca_cert: CertDetail[];
    cert_chain: CertDetail[];
  }[];
}
interface CertDetail {
  serial_number: string;
  subject_alt_names: { uri?: string; dns?: string }[];
  days_until_expiration: string;
  valid_from: string;
  expiration_time: string;
}

export type Row = readonly string[];

/** Columns padded to the widest cell, separated by spaces; the last column is not padded. */
export function renderTable(header: Row, rows: readonly Row[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 4))).join('').trimEnd()).join('\n') + '\n';
}

function section<T>(dump: ConfigDump, suffix: string, pick: (c: ConfigDump['configs'][number]) => T[] | undefined): T[] {
  const c = dump.configs.find((x) => x['@type'].endsWith(suffix));
  return (c && pick(c)) ?? [];
}

export function dumpListeners(dump: ConfigDump): Listener[] {
  return section(dump, 'ListenersConfigDump', (c) => c.dynamicListeners).flatMap((l) => (l.activeState ? [l.activeState.listener] : []));
}
export function dumpRoutes(dump: ConfigDump): RouteConfiguration[] {
  return section(dump, 'RoutesConfigDump', (c) => c.dynamicRouteConfigs).map((r) => r.routeConfig);
}
export function dumpClusters(dump: ConfigDump): Cluster[] {
  return section(dump, 'ClustersConfigDump', (c) => c.dynamicActiveClusters).map((r) => r.cluster);
}
export function dumpEndpoints(dump: ConfigDump): ClusterLoadAssignment[] {
  return section(dump, 'EndpointsConfigDump', (c) => c.dynamicEndpointConfigs).map((r) => r.endpointConfig);
}

// ---- listeners --------------------------------------------------------------------------------

export interface ListenerFilter {
  port?: number;
  address?: string;
}

/** What a filter chain matches, in istioctl's words (`ALL` when it matches everything). */
export function describeMatch(fc: FilterChain): string {
  const m = fc.filterChainMatch;
  if (!m) return 'ALL';
  const parts: string[] = [];
  if (m.serverNames?.length) parts.push(`SNI: ${m.serverNames.join(',')}`);
  if (m.transportProtocol) parts.push(`Trans: ${m.transportProtocol}`);
  const apps = (m as { applicationProtocols?: string[] }).applicationProtocols;
  if (apps?.length) parts.push(`App: ${apps.join(',')}`);
  if (m.destinationPort !== undefined) parts.push(`Port: ${m.destinationPort}`);
  return parts.length ? parts.join('; ') : 'ALL';
}

/** Where a filter chain sends traffic: `Route: <rds>`, `Inline Route: <name>`, `Cluster: <name>`. */
export function describeDestination(fc: FilterChain): string {
  for (const f of fc.filters ?? []) {
    const tc = f.typedConfig as unknown as Partial<Pick<HttpConnectionManager, 'rds' | 'routeConfig'> & Pick<TcpProxy, 'cluster' | 'weightedClusters'>>;
    if (f.name.endsWith('http_connection_manager')) {
      if (tc.rds?.routeConfigName) return `Route: ${tc.rds.routeConfigName}`;
      if (tc.routeConfig) return `Inline Route: ${tc.routeConfig.name}`;
      return 'HTTP';
    }
    if (f.name.endsWith('tcp_proxy')) {
      if (tc.cluster) return tc.cluster === 'PassthroughCluster' || tc.cluster === 'BlackHoleCluster' ? tc.cluster : `Cluster: ${tc.cluster}`;
      if (tc.weightedClusters) return `Clusters: ${tc.weightedClusters.clusters.map((c) => `${c.name} (${c.weight})`).join(', ')}`;
    }
  }
  return 'Non-HTTP/Non-TCP';
}

export function listenerRows(listeners: readonly Listener[], f: ListenerFilter = {}): Row[] {
  const rows: Row[] = [];
  for (const l of listenersFiltered(listeners, f)) {
    const sa = l.address.socketAddress;
    for (const fc of l.filterChains) rows.push([sa.address, String(sa.portValue ?? 0), describeMatch(fc), describeDestination(fc)]);
  }
  return rows;
}

export function listenersFiltered(listeners: readonly Listener[], f: ListenerFilter): Listener[] {
  return listeners
    .filter((l) => (f.port === undefined || l.address.socketAddress.portValue === f.port) && (f.address === undefined || l.address.socketAddress.address === f.address))
    .sort((a, b) => (a.address.socketAddress.portValue ?? 0) - (b.address.socketAddress.portValue ?? 0) || a.name.localeCompare(b.name));
}

export const LISTENER_HEADER: Row = ['ADDRESSES', 'PORT', 'MATCH', 'DESTINATION'];

// ---- routes -----------------------------------------------------------------------------------

/** Route configurations from RDS plus the ones listeners carry inline (sidecar inbound). */
export function allRouteConfigs(dump: ConfigDump): RouteConfiguration[] {
  const out = [...dumpRoutes(dump)];
  const seen = new Set(out.map((r) => r.name));
  for (const l of dumpListeners(dump)) {
    for (const fc of l.filterChains) {
      for (const f of fc.filters ?? []) {
        const rc = (f.typedConfig as unknown as Partial<HttpConnectionManager>).routeConfig;
        if (rc && !seen.has(rc.name)) {
          seen.add(rc.name);
          out.push(rc);
        }
      }
    }
  }
  return out;
}

export function describeRouteMatch(m: RouteMatch): string {
  let s: string;
  if (m.prefix !== undefined) s = `${m.prefix}*`;
  else if (m.pathSeparatedPrefix !== undefined) s = `${m.pathSeparatedPrefix}/*`;
  else if (m.path !== undefined) s = m.path;
  else if (m.safeRegex) s = `~${m.safeRegex.regex}`;
  else s = '/*';
  const extra = (m.headers?.length ?? 0) + (m.queryParameters?.length ?? 0);
  return extra ? `${s} (+${extra} header/query)` : s;
}

function domains(ds: readonly string[]): string {
  return ds.length <= 2 ? ds.join(', ') : `${ds.slice(0, 2).join(', ')} + ${ds.length - 2} more...`;
}

/** `name.namespace` of the Istio resource in metadata.filterMetadata.istio.config, or `-`. */
function istioConfigName(md: { filterMetadata?: Record<string, Record<string, unknown>> } | undefined): string {
  const cfg = md?.filterMetadata?.istio?.config;
  if (typeof cfg !== 'string') return '-';
  const m = /\/namespaces\/([^/]+)\/[^/]+\/([^/]+)$/.exec(cfg);
  return m ? `${m[2]}.${m[1]}` : cfg;
}

export function routeRows(configs: readonly RouteConfiguration[], f: { name?: string } = {}): Row[] {
  const rows: Row[] = [];
  for (const rc of configs) {
    if (f.name !== undefined && rc.name !== f.name) continue;
    for (const vh of rc.virtualHosts) {
      if (vh.routes.length === 0) rows.push([rc.name, vh.name, domains(vh.domains), '-', '-']);
      for (const r of vh.routes) rows.push([rc.name, vh.name, domains(vh.domains), describeRouteMatch(r.match), istioConfigName(r.metadata as never)]);
    }
  }
  return rows;
}

export const ROUTE_HEADER: Row = ['NAME', 'VHOST NAME', 'DOMAINS', 'MATCH', 'VIRTUAL SERVICE'];

// ---- clusters ---------------------------------------------------------------------------------

export interface ClusterName {
  direction: 'inbound' | 'outbound' | '';
  port: string;
  subset: string;
  fqdn: string;
}

/** Splits Istio's `outbound|<port>|<subset>|<fqdn>` / `inbound|<port>||` names; others are opaque. */
export function parseClusterName(name: string): ClusterName {
  const p = name.split('|');
  if (p.length === 4 && (p[0] === 'inbound' || p[0] === 'outbound')) return { direction: p[0], port: p[1]!, subset: p[2]!, fqdn: p[3]! };
  return { direction: '', port: '', subset: '', fqdn: name };
}

export interface ClusterFilter {
  fqdn?: string;
  port?: number;
  subset?: string;
  direction?: string;
}

export function clustersFiltered(clusters: readonly Cluster[], f: ClusterFilter): Cluster[] {
  return clusters
    .filter((c) => {
      const n = parseClusterName(c.name);
      if (f.fqdn !== undefined && n.fqdn !== f.fqdn && !n.fqdn.startsWith(`${f.fqdn}.`)) return false;
      if (f.port !== undefined && n.port !== String(f.port)) return false;
      if (f.subset !== undefined && n.subset !== f.subset) return false;
      if (f.direction !== undefined && n.direction !== f.direction) return false;
      return true;
    })
    .sort((a, b) => {
      const x = parseClusterName(a.name);
      const y = parseClusterName(b.name);
      return x.fqdn.localeCompare(y.fqdn) || Number(x.port || 0) - Number(y.port || 0) || x.subset.localeCompare(y.subset) || x.direction.localeCompare(y.direction);
    });
}

export function clusterRows(clusters: readonly Cluster[], f: ClusterFilter = {}): Row[] {
  return clustersFiltered(clusters, f).map((c) => {
    const n = parseClusterName(c.name);
    const dash = (s: string) => s || '-';
    // istioctl leaves the FQDN of inbound clusters empty.
    return [n.direction === 'inbound' ? '' : n.fqdn, dash(n.port), dash(n.subset), dash(n.direction), c.type ?? 'EDS', istioConfigName(c.metadata as never)];
  });
}

export const CLUSTER_HEADER: Row = ['SERVICE FQDN', 'PORT', 'SUBSET', 'DIRECTION', 'TYPE', 'DESTINATION RULE'];

// ---- endpoints --------------------------------------------------------------------------------

export interface HostHealth {
  cluster: string;
  address: string;
  flags: string;
  rqActive: number;
}

/** Reads the hosts of Envoy's text /clusters (`cluster::host::health_flags::flags` lines). */
export function parseClustersText(text: string): HostHealth[] {
  const hosts = new Map<string, HostHealth>();
  for (const line of text.split('\n')) {
    const parts = line.split('::');
    if (parts.length !== 4 || parts[1] === 'default_priority' || parts[1] === 'high_priority') continue;
    const [cluster, address, key, value] = parts as [string, string, string, string];
    const id = `${cluster}\u0000${address}`;
    let h = hosts.get(id);
    if (!h) hosts.set(id, (h = { cluster, address, flags: 'healthy', rqActive: 0 }));
    if (key === 'health_flags') h.flags = value;
    else if (key === 'rq_active') h.rqActive = Number(value) || 0;
  }
  return [...hosts.values()];
}

export interface EndpointFilter {
  cluster?: string;
  address?: string;
  port?: number;
  status?: string;
}

export function endpointRows(hosts: readonly HostHealth[], f: EndpointFilter = {}): Row[] {
  return hosts
    .map((h) => {
      const healthy = !h.flags.includes('failed_eds_health') && !h.flags.includes('failed_active_hc');
      const outlier = h.flags.includes('failed_outlier_check') ? 'FAILED' : 'OK';
      return { h, status: healthy ? 'HEALTHY' : 'UNHEALTHY', outlier };
    })
    .filter(({ h, status }) => {
      const i = h.address.lastIndexOf(':');
      if (f.cluster !== undefined && h.cluster !== f.cluster) return false;
      if (f.address !== undefined && h.address.slice(0, i) !== f.address) return false;
      if (f.port !== undefined && h.address.slice(i + 1) !== String(f.port)) return false;
      if (f.status !== undefined && status !== f.status.toUpperCase()) return false;
      return true;
    })
    .sort((a, b) => a.h.address.localeCompare(b.h.address) || a.h.cluster.localeCompare(b.h.cluster))
    .map(({ h, status, outlier }) => [h.address, status, outlier, h.cluster]);
}

export const ENDPOINT_HEADER: Row = ['ENDPOINT', 'STATUS', 'OUTLIER CHECK', 'CLUSTER'];

// ---- secrets ----------------------------------------------------------------------------------

/** `now` (epoch ms) decides VALID CERT: within [valid_from, expiration_time). */
export function secretRows(certs: CertsView, now: number): Row[] {
  const rows: Row[] = [];
  for (const c of certs.certificates) {
    for (const [kind, list] of [['Cert Chain', c.cert_chain], ['CA', c.ca_cert]] as const) {
      for (const d of list) {
        const valid = Date.parse(d.valid_from) <= now && now < Date.parse(d.expiration_time);
        rows.push([c.name ?? '-', kind, 'ACTIVE', String(valid), d.serial_number, d.expiration_time, d.valid_from]);
      }
    }
  }
  return rows;
}

export const SECRET_HEADER: Row = ['RESOURCE NAME', 'TYPE', 'STATUS', 'VALID CERT', 'SERIAL NUMBER', 'NOT AFTER', 'NOT BEFORE'];

// ---- proxy-status -----------------------------------------------------------------------------

export type SyncState = 'SYNCED' | 'STALE' | 'NOT SENT' | 'NACK';

/** istioctl's per-type state: nothing sent, sent and acknowledged, sent and not (yet) acknowledged. */
export function syncState(v: { sent: string; acked: string; nack: string | null } | undefined): SyncState {
  if (!v || !v.sent) return 'NOT SENT';
  if (v.nack) return 'NACK';
  return v.sent === v.acked ? 'SYNCED' : 'STALE';
}

export const STATUS_TYPES = ['CDS', 'LDS', 'EDS', 'RDS', 'SDS'] as const;

export interface ProxyStatusInput {
  name: string;
  namespace: string;
  connected: boolean;
  versions: Record<string, { sent: string; acked: string; nack: string | null }>;
}

export function proxyStatusRows(proxies: readonly ProxyStatusInput[], controlPlane: string, version: string): Row[] {
  return [...proxies]
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name))
    .map((p) => [`${p.name}.${p.namespace}`, 'Local', ...STATUS_TYPES.map((t) => (p.connected ? syncState(p.versions[t]) : 'DISCONNECTED')), controlPlane, version]);
}

export const PROXY_STATUS_HEADER: Row = ['NAME', 'CLUSTER', ...STATUS_TYPES, 'CONTROL PLANE', 'VERSION'];
