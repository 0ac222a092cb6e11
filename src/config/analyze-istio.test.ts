import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  canonicalHost,
  checkDelegates,
  checkDestinationRuleHosts,
  checkDuplicateDestinationRules,
  checkServiceEntryHosts,
  checkSubsets,
  checkVirtualServiceHostConflicts,
  matchConflict,
} from './analyze-istio.js';
import { checkVirtualServices } from './analyze.js';
import { ConfigStore } from './config-store.js';
import { loadConfig, loadConfigText } from './load-config.js';
import { where, yaml } from './test-support.js';
import type { HTTPMatchRequest } from './types.js';

function storeOf(text: string): ConfigStore {
  const { resources, diagnostics } = loadConfigText(text, 'a.yaml');
  assert.deepEqual(diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.code}@${d.line}: ${d.message}`), [], 'fixture text must load without errors');
  return new ConfigStore(resources);
}

const reviewsService = yaml(
  'apiVersion: v1', //                                   1
  'kind: Service',
  'metadata: {name: reviews, namespace: bookinfo}',
  'spec: {selector: {app: reviews}, ports: [{name: http, port: 9080}]}',
  '---', //                                              5
  'apiVersion: apps/v1',
  'kind: Deployment',
  'metadata: {name: reviews-v1, namespace: bookinfo}',
  'spec:',
  '  selector: {matchLabels: {app: reviews, version: v1}}', // 10
  '  template:',
  '    metadata: {labels: {app: reviews, version: v1}}',
  '    spec: {containers: [{name: app, image: x}]}',
  '---', //                                              14
);

test('canonical hosts: short names resolve in the namespace, FQDNs and wildcards stay', () => {
  assert.equal(canonicalHost('reviews', 'bookinfo'), 'reviews.bookinfo.svc.cluster.local');
  assert.equal(canonicalHost('reviews.other', 'bookinfo', new Set(['other'])), 'reviews.other.svc.cluster.local');
  assert.equal(canonicalHost('reviews.other', 'bookinfo'), 'reviews.other');
  assert.equal(canonicalHost('reviews.other.svc', 'bookinfo'), 'reviews.other.svc.cluster.local');
  assert.equal(canonicalHost('httpbin.org', 'bookinfo'), 'httpbin.org');
  assert.equal(canonicalHost('*.Example.com', 'bookinfo'), '*.example.com');
});

test('a subset no DestinationRule defines is an error at the subset (IST0101); other namespaces\' rules count', () => {
  const store = storeOf(
    reviewsService +
      yaml(
        'apiVersion: networking.istio.io/v1', //         15
        'kind: DestinationRule',
        'metadata: {name: reviews, namespace: bookinfo}',
        'spec:',
        '  host: reviews',
        '  subsets: [{name: v1, labels: {version: v1}}]', // 20
        '---',
        'apiVersion: networking.istio.io/v1', //         22
        'kind: VirtualService',
        'metadata: {name: reviews, namespace: bookinfo}',
        'spec:',
        '  hosts: [reviews]',
        '  http:',
        '  - route:', //                                  28
        '    - destination: {host: reviews, subset: v1}',
        '      weight: 50',
        '    - destination: {host: reviews.bookinfo.svc.cluster.local, subset: v3}', // 31
        '      weight: 50',
        '    mirror: {host: ratings, subset: v2}', //     33
      ),
  );
  const diags = checkSubsets(store);
  assert.deepEqual(where(diags), ['error:unknown-subset@31:71', 'error:unknown-subset@33:37']);
  assert.match(diags[0].message, /referenced subset not found: "v3": the DestinationRule for reviews\.bookinfo\.svc\.cluster\.local \(bookinfo\/reviews\) defines v1/);
  assert.equal(diags[0].fix, 'use one of v1, or add subset v3 to bookinfo/reviews');
  assert.match(diags[1].message, /no DestinationRule defines subsets for ratings\.bookinfo\.svc\.cluster\.local/);
});

test('two VirtualServices for one host on one gateway: warning at the second host (merged in load order)', () => {
  const vs = (name: string, gateways: string, hosts: string) =>
    yaml('apiVersion: networking.istio.io/v1', 'kind: VirtualService', `metadata: {name: ${name}, namespace: bookinfo}`, 'spec:', `  hosts: ${hosts}`, `  gateways: ${gateways}`, '  http: [{route: [{destination: {host: reviews}}]}]', '---');
  const store = storeOf(
    vs('a', '[istio-system/gw]', '[shop.example.com]') + // 1-8
      vs('b', '[istio-system/gw]', '[api.example.com, shop.example.com]') + // 9-16, hosts at 13
      vs('c', '[other/gw]', '[shop.example.com]') + // another gateway: fine
      vs('d', '[mesh]', '[reviews]') + // 25-32
      vs('e', '[]', '[reviews.bookinfo.svc.cluster.local]'), // 33-40, hosts at 37
  );
  const diags = checkVirtualServiceHostConflicts(store);
  assert.deepEqual(where(diags), ['warning:duplicate-gateway-host@13:28', 'warning:conflicting-mesh-hosts@37:11']);
  assert.match(diags[0].message, /merged in load order as Istio does \(this one's after\); prefer one VirtualService per host/);
  assert.match(diags[0].message, /VirtualService bookinfo\/a \(a\.yaml:1\)/);
});

test('two DestinationRules for one host in one namespace: warning at the second host; the first one wins', () => {
  const dr = (name: string, ns: string, host: string) => yaml('apiVersion: networking.istio.io/v1', 'kind: DestinationRule', `metadata: {name: ${name}, namespace: ${ns}}`, 'spec:', `  host: ${host}`, '---');
  const store = storeOf(dr('a', 'bookinfo', 'reviews') + dr('b', 'bookinfo', 'reviews.bookinfo.svc.cluster.local') + dr('c', 'other', 'reviews.bookinfo.svc.cluster.local'));
  const diags = checkDuplicateDestinationRules(store);
  assert.deepEqual(where(diags), ['warning:duplicate-destination-rule@11:9']);
  assert.match(diags[0].message, /the first one's traffic policy wins/);
});

const root = (gateways: string, match: string, delegate: string) =>
  yaml(
    'apiVersion: networking.istio.io/v1', //   1
    'kind: VirtualService',
    'metadata: {name: root, namespace: bookinfo}',
    'spec:',
    '  hosts: [shop.example.com]', //          5
    `  gateways: ${gateways}`,
    '  http:',
    `  - match: ${match}`, //                  8
    `    delegate: ${delegate}`, //            9
    '---', //                                  10
  );

test('delegation (VS-24): the delegate must exist, have no hosts, and the root must be bound to gateways', () => {
  const missing = checkDelegates(storeOf(root('[gw]', '[{uri: {prefix: /api}}]', '{name: api}')));
  assert.deepEqual(where(missing), ['error:unknown-delegate@9:22']);
  const withHosts = checkDelegates(
    storeOf(root('[gw]', '[{uri: {prefix: /api}}]', '{name: api}') + yaml('apiVersion: networking.istio.io/v1', 'kind: VirtualService', 'metadata: {name: api, namespace: bookinfo}', 'spec: {hosts: [api], http: [{route: [{destination: {host: api}}]}]}')),
  );
  assert.deepEqual(where(withHosts), ['error:delegate-has-hosts@9:22']);
  const mesh = checkDelegates(storeOf(root('[mesh, gw]', '[{uri: {prefix: /api}}]', '{name: api, namespace: team}') + yaml('apiVersion: networking.istio.io/v1', 'kind: VirtualService', 'metadata: {name: api, namespace: team}', 'spec: {http: [{route: [{destination: {host: api}}]}]}')));
  assert.deepEqual(where(mesh), ['error:delegate-on-mesh@9:5']);
});

test('delegation (VS-24): a delegate match outside the root\'s match is an error at that match; unused delegates warn', () => {
  const store = storeOf(
    root('[gw]', '[{uri: {prefix: /api}}]', '{name: api}') +
      yaml(
        'apiVersion: networking.istio.io/v1', //   11
        'kind: VirtualService',
        'metadata: {name: api, namespace: bookinfo}',
        'spec:',
        '  http:', //                              15
        '  - match: [{uri: {prefix: /api/v1}}]', // 16 fine: within /api
        '    route: [{destination: {host: api}}]',
        '  - match:', //                           18
        '    - uri: {prefix: /static}', //         19 outside /api
        '    route: [{destination: {host: api}}]',
        '---', //                                  21
        'apiVersion: networking.istio.io/v1',
        'kind: VirtualService',
        'metadata: {name: orphan, namespace: bookinfo}', // 24
        'spec:', //                                25
        '  http: [{route: [{destination: {host: api}}]}]',
      ),
  );
  const diags = checkDelegates(store);
  assert.deepEqual(where(diags), ['error:delegate-match-conflict@19:7', 'warning:unused-delegate@25:1']);
  assert.match(diags[0].message, /conflicts on uri, so Istio drops it/);
});

test('match conflicts follow Istio\'s hasConflict: prefixes nest, exacts equal, regex never compares', () => {
  const m = (x: Partial<HTTPMatchRequest>): HTTPMatchRequest => ({ path: [], ...x });
  assert.equal(matchConflict(m({ uri: { prefix: '/api' } }), m({ uri: { prefix: '/api/v1' } })), undefined);
  assert.equal(matchConflict(m({ uri: { prefix: '/api' } }), m({ uri: { exact: '/api/x' } })), undefined);
  assert.equal(matchConflict(m({ uri: { exact: '/a' } }), m({ uri: { prefix: '/' } })), undefined);
  assert.equal(matchConflict(m({ uri: { exact: '/a' } }), m({ uri: { exact: '/b' } })), 'uri');
  assert.equal(matchConflict(m({ uri: { regex: '/a.*' } }), m({ uri: { prefix: '/a' } })), 'uri');
  assert.equal(matchConflict(m({ headers: { a: { exact: 'x' } } }), m({ headers: { a: { exact: 'y' } } })), 'headers.a');
  assert.equal(matchConflict(m({ port: 80 }), m({ port: 81 })), 'port');
  assert.equal(matchConflict(m({ gateways: ['a'] }), m({ gateways: ['a', 'b'] })), 'gateways');
  assert.equal(matchConflict(m({}), m({ uri: { regex: 'x' } })), undefined);
});

test('DestinationRule hosts without Service or ServiceEntry, and subsets selecting no Deployment, are warnings', () => {
  const store = storeOf(
    reviewsService +
      yaml(
        'apiVersion: networking.istio.io/v1', //   15
        'kind: DestinationRule',
        'metadata: {name: reviews, namespace: bookinfo}',
        'spec:',
        '  host: reviews', //                      19
        '  subsets:',
        '  - name: v1',
        '    labels: {version: v1}',
        '  - name: v2', //                         23
        '    labels: {version: v2}', //            24
        '---',
        'apiVersion: networking.istio.io/v1',
        'kind: DestinationRule',
        'metadata: {name: typo, namespace: bookinfo}',
        'spec:',
        '  host: reviw', //                        30
        '---',
        'apiVersion: networking.istio.io/v1',
        'kind: ServiceEntry',
        'metadata: {name: ext, namespace: bookinfo}',
        'spec: {hosts: [httpbin.org], ports: [{number: 80, name: http, protocol: HTTP}], resolution: DNS}',
        '---',
        'apiVersion: networking.istio.io/v1',
        'kind: DestinationRule',
        'metadata: {name: ext, namespace: bookinfo}',
        'spec: {host: httpbin.org, trafficPolicy: {tls: {mode: SIMPLE}}}',
      ),
  );
  const diags = checkDestinationRuleHosts(store);
  assert.deepEqual(where(diags), ['warning:subset-selects-nothing@24:5', 'warning:unknown-host@30:9']);
  assert.match(diags[0].message, /subset v2 selects \{version: v2\}, which no Deployment behind reviews\.bookinfo\.svc\.cluster\.local \(reviews-v1\) has/);
});

test('a ServiceEntry host equal to a Service\'s cluster name is a warning; VirtualService destinations may be ServiceEntry hosts', () => {
  const store = storeOf(
    reviewsService +
      yaml(
        'apiVersion: networking.istio.io/v1', //   15
        'kind: ServiceEntry',
        'metadata: {name: shadow, namespace: bookinfo}',
        'spec:',
        '  hosts:',
        '  - reviews.bookinfo.svc.cluster.local', // 20
        '  - api.example.com',
        '  ports: [{number: 443, name: https, protocol: HTTPS}]',
        '  resolution: DNS',
        '---',
        'apiVersion: networking.istio.io/v1',
        'kind: VirtualService',
        'metadata: {name: ext, namespace: bookinfo}',
        'spec:',
        '  hosts: [api.example.com]',
        '  tls:',
        '  - match: [{sniHosts: [api.example.com]}]',
        '    route:',
        '    - destination: {host: api.example.com, port: {number: 443}}',
        '  - match: [{sniHosts: [api.example.com], port: 8443}]',
        '    route:',
        '    - destination: {host: api.example.com, port: {number: 8443}}', // 36
      ),
  );
  assert.deepEqual(where(checkServiceEntryHosts(store)), ['warning:service-entry-shadows-service@20:5']);
  const vsDiags = checkVirtualServices(store);
  assert.deepEqual(where(vsDiags), ['error:unknown-port@36:59']);
  assert.match(vsDiags[0].message, /ServiceEntry bookinfo\/shadow has no port 8443 for api\.example\.com \(it has 443\)/);
});

test('the analyzer fixture file gives each Istio finding once, non-blocking', async () => {
  const { diagnostics } = await loadConfig([new URL('../../test/fixtures/config/istio-analyzers.yaml', import.meta.url).pathname]);
  const codes = diagnostics.map((d) => `${d.severity}:${d.code}`).sort();
  assert.deepEqual(codes, ['error:unknown-subset', 'warning:duplicate-destination-rule', 'warning:duplicate-gateway-host']);
  assert.ok(diagnostics.every((d) => d.blocking === false));
});
