// Simulation of the gateway's TLS and TCP servers (IG-04..IG-08, TASK-04, TASK-09): SIMPLE
// servers terminate TLS per SNI with their own route configuration, httpsRedirect answers 301,
// MUTUAL adds the client CA as `<credential>-cacert` and requires a certificate, PASSTHROUGH
// routes by SNI to a tcp_proxy without terminating, and TCP servers proxy with weights. Requests
// go through the data plane's own chain selection and route table (simulate.ts).

import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { gatewaySecrets } from '../../src/controlplane/generate/gateway.js';
import type { ProxyResources } from '../../src/controlplane/generate/generate.js';
import type { DownstreamTlsContext, Listener, TcpProxy } from '../../src/xds/resources.js';
import { haveOpenssl, makeCert } from '../helpers/certs.js';
import { GATEWAY_PROXY, buildSnapshot, pod, resourcesFor, yaml } from './mesh.js';
import { simulate } from './simulate.js';

const HTTPBIN = 'outbound|8000||httpbin.default.svc.cluster.local';
const HELLO = 'outbound|5000||helloworld.default.svc.cluster.local';
const skip = haveOpenssl() ? false : 'openssl is not installed (scripts/install-test-deps.sh)';

let secrets = '';

before(() => {
  if (skip) return;
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const httpbin = makeCert('httpbin.example.com');
  const hello = makeCert('helloworld.example.com');
  const ca = makeCert('example.com CA');
  secrets = yaml`
    ---
    apiVersion: v1
    kind: Secret
    metadata: { name: httpbin-credential, namespace: istio-system }
    type: kubernetes.io/tls
    data: { tls.crt: ${b64(httpbin.cert)}, tls.key: ${b64(httpbin.key)} }
    ---
    apiVersion: v1
    kind: Secret
    metadata: { name: helloworld-credential, namespace: istio-system }
    type: kubernetes.io/tls
    data: { tls.crt: ${b64(hello.cert)}, tls.key: ${b64(hello.key)} }
    ---
    apiVersion: v1
    kind: Secret
    metadata: { name: mutual-credential, namespace: istio-system }
    type: Opaque
    data: { tls.crt: ${b64(httpbin.cert)}, tls.key: ${b64(httpbin.key)}, ca.crt: ${b64(ca.cert)} }
  `;
});

const SERVICES = yaml`
  apiVersion: v1
  kind: Namespace
  metadata: { name: istio-system }
  ---
  apiVersion: v1
  kind: Service
  metadata: { name: httpbin, namespace: default }
  spec:
    selector: { app: httpbin }
    ports: [{ name: http, port: 8000, targetPort: 80 }]
  ---
  apiVersion: v1
  kind: Service
  metadata: { name: helloworld, namespace: default }
  spec:
    selector: { app: helloworld }
    ports: [{ name: http, port: 5000 }]
  ---
  apiVersion: v1
  kind: Service
  metadata: { name: tcp-echo, namespace: default }
  spec:
    selector: { app: tcp-echo }
    ports: [{ name: tcp, port: 9000 }]
`;

const PODS = [pod('httpbin-0', 'default', '127.0.0.2'), pod('helloworld-0', 'default', '127.0.0.3'), pod('tcp-echo-0', 'default', '127.0.0.4', { labels: { app: 'tcp-echo', version: 'v1' } })];

function vs(name: string, host: string, gateway: string, dest: string, port: number): string {
  return yaml`
    ---
    apiVersion: networking.istio.io/v1
    kind: VirtualService
    metadata: { name: ${name}, namespace: default }
    spec:
      hosts: [${host}]
      gateways: [${gateway}]
      http:
      - route: [{ destination: { host: ${dest}, port: { number: ${port} } } }]
  `;
}

const TASK09_TWO_HOSTS = () =>
  SERVICES +
  secrets +
  yaml`
    ---
    apiVersion: networking.istio.io/v1
    kind: Gateway
    metadata: { name: mygateway, namespace: default }
    spec:
      selector: { istio: ingressgateway }
      servers:
      - port: { number: 443, name: https-httpbin, protocol: HTTPS }
        tls: { mode: SIMPLE, credentialName: httpbin-credential }
        hosts: [httpbin.example.com]
      - port: { number: 443, name: https-helloworld, protocol: HTTPS }
        tls: { mode: SIMPLE, credentialName: helloworld-credential }
        hosts: [helloworld.example.com]
      - port: { number: 80, name: http, protocol: HTTP }
        tls: { httpsRedirect: true }
        hosts: [httpbin.example.com]
  ` +
  vs('httpbin', 'httpbin.example.com', 'mygateway', 'httpbin', 8000) +
  vs('helloworld', 'helloworld.example.com', 'mygateway', 'helloworld', 5000);

function listenerOn(res: ProxyResources, port: number): Listener {
  const l = res.listeners.find((x) => x.address.socketAddress.portValue === port);
  assert.ok(l, `a listener on ${port}: ${res.listeners.map((x) => x.name).join(', ')}`);
  return l;
}

test('TASK-09 SIMPLE: each host terminates with its own certificate, chosen by SNI, and routes to its service', { skip }, () => {
  const res = resourcesFor({ manifests: TASK09_TWO_HOSTS(), pods: PODS });
  const a = simulate(res, { port: 8443, scheme: 'https', authority: 'httpbin.example.com', path: '/status/418' });
  assert.equal(a.cluster, HTTPBIN);
  const b = simulate(res, { port: 8443, scheme: 'https', authority: 'helloworld.example.com', path: '/hello' });
  assert.equal(b.cluster, HELLO);
  assert.notEqual(a.routeConfig, b.routeConfig, 'each server has its own route configuration');

  const l = listenerOn(res, 8443);
  const certOf = (sni: string) => {
    const fc = l.filterChains.find((c) => c.filterChainMatch?.serverNames?.includes(sni));
    return (fc?.transportSocket?.typedConfig as DownstreamTlsContext | undefined)?.commonTlsContext?.tlsCertificateSdsSecretConfigs?.[0]?.name;
  };
  assert.equal(certOf('httpbin.example.com'), 'kubernetes://istio-system/httpbin-credential');
  assert.equal(certOf('helloworld.example.com'), 'kubernetes://istio-system/helloworld-credential');
  // The credentials travel over SDS from the gateway's namespace.
  const names = gatewaySecrets(buildSnapshot({ manifests: TASK09_TWO_HOSTS(), pods: PODS }), GATEWAY_PROXY).map((s) => s.name);
  assert.deepEqual(names, ['kubernetes://istio-system/helloworld-credential', 'kubernetes://istio-system/httpbin-credential']);
});

test('TASK-09 note: an SNI no HTTPS server names finds no chain (the handshake fails)', { skip }, () => {
  const res = resourcesFor({ manifests: TASK09_TWO_HOSTS(), pods: PODS });
  assert.equal(simulate(res, { port: 8443, scheme: 'https', authority: 'other.example.com', path: '/' }).error, 'filter_chain_not_found');
});

test('IG-05 httpsRedirect: plain HTTP gets a 301 to https on the same host', { skip }, () => {
  const res = resourcesFor({ manifests: TASK09_TWO_HOSTS(), pods: PODS });
  const r = simulate(res, { port: 8080, authority: 'httpbin.example.com', path: '/status/200' });
  assert.equal(r.redirect?.status, 301);
  assert.equal(r.redirect?.scheme, 'https');
});

test('TASK-09 MUTUAL: the chain requires a client certificate verified against <credential>-cacert', { skip }, () => {
  const manifests =
    SERVICES +
    secrets +
    yaml`
      ---
      apiVersion: networking.istio.io/v1
      kind: Gateway
      metadata: { name: mygateway, namespace: default }
      spec:
        selector: { istio: ingressgateway }
        servers:
        - port: { number: 443, name: https, protocol: HTTPS }
          tls: { mode: MUTUAL, credentialName: mutual-credential }
          hosts: [httpbin.example.com]
    ` +
    vs('httpbin', 'httpbin.example.com', 'mygateway', 'httpbin', 8000);
  const res = resourcesFor({ manifests, pods: PODS });
  assert.equal(simulate(res, { port: 8443, scheme: 'https', authority: 'httpbin.example.com', path: '/' }).cluster, HTTPBIN);
  const tls = listenerOn(res, 8443).filterChains[0]!.transportSocket!.typedConfig;
  assert.equal(tls.requireClientCertificate, true);
  assert.equal(tls.commonTlsContext.validationContextSdsSecretConfig?.name, 'kubernetes://istio-system/mutual-credential-cacert');
  const secret = gatewaySecrets(buildSnapshot({ manifests, pods: PODS }), GATEWAY_PROXY).find((s) => s.name.endsWith('-cacert'));
  assert.match(secret?.validationContext?.trustedCa?.inlineString ?? '', /BEGIN CERTIFICATE/);
});

test('MUTUAL without any CA in the credential serves no chain for its hosts (and asks for no secret that cannot come)', { skip }, () => {
  const manifests =
    SERVICES +
    secrets +
    yaml`
      ---
      apiVersion: networking.istio.io/v1
      kind: Gateway
      metadata: { name: mygateway, namespace: default }
      spec:
        selector: { istio: ingressgateway }
        servers:
        - port: { number: 443, name: https, protocol: HTTPS }
          tls: { mode: MUTUAL, credentialName: httpbin-credential }
          hosts: [httpbin.example.com]
        - port: { number: 443, name: https-hello, protocol: HTTPS }
          tls: { mode: SIMPLE, credentialName: helloworld-credential }
          hosts: [helloworld.example.com]
    ` +
    vs('httpbin', 'httpbin.example.com', 'mygateway', 'httpbin', 8000) +
    vs('helloworld', 'helloworld.example.com', 'mygateway', 'helloworld', 5000);
  const res = resourcesFor({ manifests, pods: PODS });
  assert.equal(simulate(res, { port: 8443, scheme: 'https', authority: 'httpbin.example.com', path: '/' }).error, 'filter_chain_not_found');
  assert.equal(simulate(res, { port: 8443, scheme: 'https', authority: 'helloworld.example.com', path: '/' }).cluster, HELLO);
});

test('IG-07 PASSTHROUGH: SNI hosts of tls routes become tcp_proxy chains, TLS not terminated', () => {
  const manifests =
    SERVICES +
    yaml`
      ---
      apiVersion: networking.istio.io/v1
      kind: Gateway
      metadata: { name: pass, namespace: default }
      spec:
        selector: { istio: ingressgateway }
        servers:
        - port: { number: 443, name: tls, protocol: TLS }
          tls: { mode: PASSTHROUGH }
          hosts: [nginx.example.com]
      ---
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: { name: nginx, namespace: default }
      spec:
        hosts: [nginx.example.com]
        gateways: [pass]
        tls:
        - match: [{ port: 443, sniHosts: [nginx.example.com] }]
          route: [{ destination: { host: httpbin, port: { number: 8000 } } }]
    `;
  const res = resourcesFor({ manifests, pods: PODS });
  const l = listenerOn(res, 8443);
  assert.equal(l.filterChains.length, 1);
  const fc = l.filterChains[0]!;
  assert.deepEqual(fc.filterChainMatch?.serverNames, ['nginx.example.com']);
  assert.equal(fc.filterChainMatch?.transportProtocol, 'tls');
  assert.equal(fc.transportSocket, undefined, 'passthrough does not terminate TLS');
  const tcp = fc.filters.at(-1)!.typedConfig as unknown as TcpProxy;
  assert.equal(tcp.cluster ?? tcp.weightedClusters?.clusters[0]?.name, HTTPBIN);
  assert.equal(simulate(res, { port: 8443, sni: 'nginx.example.com', authority: 'nginx.example.com', path: '/' }).error, 'no_http_connection_manager');
});

test('TASK-04 TCP server: a tcp route with weights becomes a weighted tcp_proxy on the server port', () => {
  const manifests =
    SERVICES +
    yaml`
      ---
      apiVersion: networking.istio.io/v1
      kind: Gateway
      metadata: { name: tcp-echo-gateway, namespace: default }
      spec:
        selector: { istio: ingressgateway }
        servers:
        - port: { number: 31400, name: tcp, protocol: TCP }
          hosts: ["*"]
      ---
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: { name: tcp-echo-destination, namespace: default }
      spec:
        host: tcp-echo
        subsets:
        - { name: v1, labels: { version: v1 } }
        - { name: v2, labels: { version: v2 } }
      ---
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: { name: tcp-echo, namespace: default }
      spec:
        hosts: ["*"]
        gateways: [tcp-echo-gateway]
        tcp:
        - match: [{ port: 31400 }]
          route:
          - { destination: { host: tcp-echo, port: { number: 9000 }, subset: v1 }, weight: 80 }
          - { destination: { host: tcp-echo, port: { number: 9000 }, subset: v2 }, weight: 20 }
    `;
  const res = resourcesFor({ manifests, pods: PODS });
  const tcp = listenerOn(res, 31400).filterChains[0]!.filters.at(-1)!.typedConfig as unknown as TcpProxy;
  assert.deepEqual(
    tcp.weightedClusters?.clusters.map((c) => [c.name, c.weight]),
    [
      ['outbound|9000|v1|tcp-echo.default.svc.cluster.local', 80],
      ['outbound|9000|v2|tcp-echo.default.svc.cluster.local', 20],
    ],
  );
});
