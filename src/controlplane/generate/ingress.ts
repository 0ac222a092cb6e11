// Kubernetes Ingress (networking.k8s.io/v1) for the ingress gateway, with the Ingress spec's own
// semantics, which are not Istio's VirtualService semantics:
// - Prefix matches whole path elements (`/foo` matches `/foo/bar`, not `/foobar`; a trailing
//   slash is ignored): Envoy's path_separated_prefix, not a string prefix (ING-10);
// - the longest path wins, Exact before Prefix on a tie, across every Ingress sharing a host
//   (ING-12); ImplementationSpecific is treated as Prefix (ING-11, documented);
// - `*.foo.com` matches exactly one label (ING-06), where an Envoy domain wildcard matches any
//   number: an RE2 check on the authority keeps the extra labels out, and sends them on to the
//   host-less rules, as if the wildcard rule did not exist for them;
// - a request whose host matches a rule but whose path matches none of its paths goes to the
//   default backend (ING-04), and with no default backend gets 404 `NR` (what the conformance
//   suite expects, ING-03).
// The same virtual hosts serve port 80 and, for hosts with a `tls` entry, port 443 (TLS
// terminated with the Secret, chosen by SNI; ING-16/17).

import { ingressClassOf } from '../../config/ingress-class.js';
import type { IngressBackend, IngressPath, IngressResource } from '../../config/types.js';
import { resourceKey } from '../../config/types.js';
import type { Route, RouteMatch, VirtualHost } from '../../xds/resources.js';
import type { MeshSnapshot } from '../model/mesh-snapshot.js';
import { outboundClusterName } from './names.js';

/** The Ingress's view of where it is served (Kubernetes' status.loadBalancer, ING-18). */
export interface IngressStatus {
  readonly namespace: string;
  readonly name: string;
  readonly className: string | null;
  readonly served: boolean;
  readonly reason: string;
}

export interface IngressTlsChain {
  readonly serverNames: readonly string[];
  /** SDS secret name: kubernetes://<namespace>/<secretName>. */
  readonly secret: string;
}

export interface IngressPlan {
  /** Virtual hosts by Ingress host key ('' = host-less, '*.foo.com', 'foo.com'). */
  readonly hosts: ReadonlyMap<string, Route[]>;
  readonly tls: readonly IngressTlsChain[];
  readonly status: readonly IngressStatus[];
  readonly served: readonly IngressResource[];
}

interface PathEntry {
  readonly path: IngressPath;
  readonly ingress: IngressResource;
  readonly order: number;
}

export function sdsSecretName(namespace: string, name: string): string {
  return `kubernetes://${namespace}/${name}`;
}

export function planIngress(snapshot: MeshSnapshot): IngressPlan {
  const classes = snapshot.store.list('IngressClass');
  const status: IngressStatus[] = [];
  const served: IngressResource[] = [];
  for (const ing of snapshot.store.list('Ingress')) {
    const c = ingressClassOf(ing, classes);
    status.push({ namespace: ing.metadata.namespace, name: ing.metadata.name, className: c.className, served: c.served, reason: c.reason });
    if (c.served) served.push(ing);
  }

  const byHost = new Map<string, PathEntry[]>();
  let order = 0;
  for (const ing of served) {
    for (const rule of ing.spec.rules) {
      const key = rule.host ?? '';
      let list = byHost.get(key);
      if (!list) byHost.set(key, (list = []));
      for (const p of rule.paths) {
        // The same host, path and type in two Ingresses: the first loaded wins (the analyzer warns).
        if (list.some((e) => e.path.path === p.path && kind(e.path) === kind(p))) continue;
        list.push({ path: p, ingress: ing, order: order++ });
      }
    }
  }
  const defaultIngress = served.find((i) => i.spec.defaultBackend);
  const defaultRoute = defaultIngress ? backendRoute(snapshot, defaultIngress, defaultIngress.spec.defaultBackend!, { prefix: '/' }, 'default-backend') : undefined;

  const routesFor = (entries: readonly PathEntry[]): Route[] =>
    [...entries].sort(precedence).map((e) => backendRoute(snapshot, e.ingress, e.path.backend, pathMatch(e.path), routeName(e)));

  const hostless = routesFor(byHost.get('') ?? []);
  const hosts = new Map<string, Route[]>();
  for (const [host, entries] of byHost) {
    if (host === '') continue;
    const own = routesFor(entries);
    if (host.startsWith('*.')) {
      // One label only: the wildcard's own paths (and then the default backend) for one-label
      // hosts; deeper hosts continue to the host-less rules as if this rule did not exist.
      const oneLabel = { name: ':authority', stringMatch: { safeRegex: { regex: `[^.:]+${escapeRe(host.slice(1))}(:[0-9]+)?` } } };
      const deeper = { ...oneLabel, invertMatch: true };
      const routes = own.map((r) => withHeader(r, oneLabel));
      if (defaultRoute) routes.push(withHeader({ ...defaultRoute, name: 'default-backend' }, oneLabel));
      routes.push(...hostless.map((r) => withHeader(r, deeper)));
      if (defaultRoute) routes.push(defaultRoute);
      hosts.set(host, routes);
    } else {
      hosts.set(host, defaultRoute ? [...own, defaultRoute] : own);
    }
  }
  const star = defaultRoute ? [...hostless, defaultRoute] : hostless;
  if (star.length) hosts.set('', star);

  const tls: IngressTlsChain[] = [];
  const claimed = new Set<string>();
  for (const ing of served) {
    for (const t of ing.spec.tls) {
      if (!t.secretName) continue;
      const secret = snapshot.store.get('Secret', ing.metadata.namespace, t.secretName);
      if (!secret || !secret.data['tls.crt'] || !secret.data['tls.key']) continue; // reported by the analyzer
      const names = t.hosts.filter((h) => !claimed.has(h));
      if (t.hosts.length > 0 && names.length === 0) continue;
      if (t.hosts.length === 0 && claimed.has('')) continue;
      for (const n of t.hosts.length ? names : ['']) claimed.add(n);
      tls.push({ serverNames: names, secret: sdsSecretName(ing.metadata.namespace, t.secretName) });
    }
  }
  return { hosts, tls, status, served };
}

function kind(p: IngressPath): 'Exact' | 'Prefix' {
  return p.pathType === 'Exact' ? 'Exact' : 'Prefix';
}

/** Prefix paths compare without their trailing slash (`/foo/` is `/foo`). */
function normalized(p: IngressPath): string {
  return kind(p) === 'Prefix' && p.path.length > 1 ? p.path.replace(/\/+$/, '') || '/' : p.path;
}

/** ING-12: longest path first; on a tie Exact before Prefix; then load order. */
function precedence(a: PathEntry, b: PathEntry): number {
  const la = normalized(a.path).length;
  const lb = normalized(b.path).length;
  if (la !== lb) return lb - la;
  const ka = kind(a.path) === 'Exact' ? 0 : 1;
  const kb = kind(b.path) === 'Exact' ? 0 : 1;
  return ka - kb || a.order - b.order;
}

function pathMatch(p: IngressPath): RouteMatch {
  if (kind(p) === 'Exact') return { path: p.path };
  const n = normalized(p);
  return n === '/' ? { prefix: '/' } : { pathSeparatedPrefix: n };
}

function routeName(e: PathEntry): string {
  return `${e.ingress.metadata.namespace}/${e.ingress.metadata.name}:${kind(e.path)}:${e.path.path}`;
}

function withHeader(r: Route, h: NonNullable<RouteMatch['headers']>[number]): Route {
  return { ...r, match: { ...r.match, headers: [...(r.match.headers ?? []), h] } };
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A route to the backend Service's port; a backend Strait cannot serve answers 503 saying why. */
function backendRoute(snapshot: MeshSnapshot, ing: IngressResource, b: IngressBackend, match: RouteMatch, name: string): Route {
  const svc = b.service;
  if (!svc) {
    return { name, match, directResponse: { status: 503, body: { inlineString: `Ingress ${resourceKey(ing)}: resource backends are not served by Strait\n` } } };
  }
  const host = `${svc.name}.${ing.metadata.namespace}.svc.${snapshot.mesh.domainSuffix}`;
  const service = snapshot.servicesByHost.get(host);
  const port = svc.port.number ?? service?.ports.find((p) => p.name === svc.port.name)?.port;
  if (port === undefined) {
    return {
      name,
      match,
      directResponse: { status: 503, body: { inlineString: `Ingress ${resourceKey(ing)}: service ${svc.name} has no port named "${svc.port.name}"\n` } },
    };
  }
  return { name, match, route: { cluster: outboundClusterName(port, '', host), timeout: '0s' }, decorator: { operation: `${host}:${port}/*` } };
}


/** Domains of an Ingress host on a listener whose clients may name `ports` in Host. */
export function ingressDomains(host: string, ports: readonly number[]): string[] {
  if (host === '') return ['*'];
  if (!host.startsWith('*')) return [host, `${host}:*`];
  return [host, ...new Set(ports.map((p) => `${host}:${p}`))];
}

export function ingressVirtualHosts(plan: IngressPlan, ports: readonly number[]): VirtualHost[] {
  return [...plan.hosts].map(([host, routes]) => ({ name: host === '' ? 'ingress:*' : `ingress:${host}`, domains: ingressDomains(host, ports), routes }));
}
