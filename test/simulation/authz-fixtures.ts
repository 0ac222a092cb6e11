// Fixtures for the authorization and authentication simulation tables: Bookinfo in `default`
// (each app its own service account, as the sample deploys it) and httpbin/sleep in `foo` (the
// authz-deny and authz-jwt tasks), plus accessors for the security filters of a generated
// listener.

import assert from 'node:assert/strict';
import type { ProxyResources } from '../../src/controlplane/generate/generate.js';
import type { HttpRbacConfig, NetworkRbacConfig } from '../../src/controlplane/generate/security/envoy-types.js';
import type { Workload } from '../../src/registry/registry.js';
import { HCM_FILTER_NAME } from '../../src/xds/resources.js';
import type { Filter, HttpConnectionManager, HttpFilter, Listener } from '../../src/xds/resources.js';
import { pod, yaml } from './mesh.js';

const service = (name: string, ns: string, port: number, portName = 'http') => yaml`
  apiVersion: v1
  kind: Service
  metadata: { name: ${name}, namespace: ${ns} }
  spec:
    selector: { app: ${name} }
    ports: [{ name: ${portName}, port: ${port} }]
  ---
`;

export const BOOKINFO_SERVICES = ['productpage', 'details', 'reviews', 'ratings'].map((s) => service(s, 'default', 9080)).join('');

export const BOOKINFO: Record<'productpage' | 'details' | 'reviews' | 'ratings', Workload> = {
  productpage: pod('productpage-0', 'default', '127.0.0.11', { serviceAccount: 'bookinfo-productpage' }),
  details: pod('details-0', 'default', '127.0.0.12', { serviceAccount: 'bookinfo-details' }),
  reviews: pod('reviews-0', 'default', '127.0.0.13', { serviceAccount: 'bookinfo-reviews', labels: { app: 'reviews', version: 'v2' } }),
  ratings: pod('ratings-0', 'default', '127.0.0.14', { serviceAccount: 'bookinfo-ratings' }),
};

export const FOO_SERVICES =
  yaml`
    apiVersion: v1
    kind: Namespace
    metadata: { name: foo }
    ---
  ` +
  service('httpbin', 'foo', 8000) +
  service('sleep', 'foo', 80) +
  service('mysql', 'foo', 3306, 'tcp');

export const HTTPBIN = pod('httpbin-0', 'foo', '127.0.1.2', { serviceAccount: 'httpbin' });
export const SLEEP = pod('sleep-0', 'foo', '127.0.1.3', { serviceAccount: 'sleep' });
export const MYSQL = pod('mysql-0', 'foo', '127.0.1.4', { serviceAccount: 'mysql' });

export function listenerOnPort(res: ProxyResources, port: number): Listener {
  const l = res.listeners.find((x) => x.address.socketAddress.portValue === port);
  assert.ok(l, `a listener on port ${port}`);
  return l;
}

/** The HTTP filters of the (first) HTTP filter chain on a port. */
export function httpFilters(res: ProxyResources, port: number): HttpFilter[] {
  const chain = listenerOnPort(res, port).filterChains.find((c) => c.filters.some((f) => f.name === HCM_FILTER_NAME));
  assert.ok(chain, `an HTTP filter chain on port ${port}`);
  const hcm = chain.filters.find((f) => f.name === HCM_FILTER_NAME)!.typedConfig as unknown as HttpConnectionManager;
  return hcm.httpFilters;
}

/** The network filters of the first filter chain on a port. */
export function networkFilters(res: ProxyResources, port: number): Filter[] {
  return listenerOnPort(res, port).filterChains[0]!.filters;
}

export function filterNames(filters: readonly { name: string }[]): string[] {
  return filters.map((f) => f.name);
}

/** The RBAC configs of a filter list, in order. */
export function rbacConfigs(filters: readonly HttpFilter[]): HttpRbacConfig[] {
  return filters.filter((f) => f.name === 'envoy.filters.http.rbac').map((f) => f.typedConfig as unknown as HttpRbacConfig);
}

export function networkRbacConfigs(filters: readonly Filter[]): NetworkRbacConfig[] {
  return filters.filter((f) => f.name === 'envoy.filters.network.rbac').map((f) => f.typedConfig as unknown as NetworkRbacConfig);
}
