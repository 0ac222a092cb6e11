// Unit tests for the DestinationRule index (DR-01): Istio's host matching (exact, the longest
// wildcard), the merge of several rules for one host in one namespace, and the lookup order
// (proxy namespace, service namespace, root namespace) with exportTo.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigStore } from '../../config/config-store.js';
import { loadConfigText } from '../../config/load-config.js';
import type { DestinationRuleResource } from '../../config/types.js';
import { DestinationRuleIndex, hostMatches, mostSpecificHostMatch } from './destination-rule-index.js';

const MATCHES: readonly [pattern: string, host: string, want: boolean][] = [
  ['a.example.com', 'a.example.com', true],
  ['a.example.com', 'b.example.com', false],
  ['*.example.com', 'a.example.com', true],
  ['*.example.com', 'a.b.example.com', true],
  ['*.example.com', 'example.com', false],
  ['*.example.com', 'aexample.com', false],
  ['*.example.com', '*.example.com', true],
  ['*.example.com', '*.api.example.com', true],
  ['*.api.example.com', '*.example.com', false],
  ['*', 'anything.at.all', true],
  ['a.example.com', '*.example.com', false],
];

for (const [pattern, host, want] of MATCHES) {
  test(`hostMatches(${pattern}, ${host}) is ${want}`, () => {
    assert.equal(hostMatches(pattern, host), want);
  });
}

const SPECIFIC = new Map([['reviews.default.svc.cluster.local', 'exact']]);
const WILDCARD = new Map([
  ['*.svc.cluster.local', 'svc'],
  ['*.default.svc.cluster.local', 'default'],
  ['*.example.com', 'example'],
  ['*', 'all'],
]);

const MOST_SPECIFIC: readonly [host: string, want: string | undefined][] = [
  ['reviews.default.svc.cluster.local', 'exact'],
  ['ratings.default.svc.cluster.local', 'default'],
  ['db.prod.svc.cluster.local', 'svc'],
  ['api.example.com', 'example'],
  ['*.example.com', 'example'],
  ['*.api.example.com', 'example'],
  ['other.org', 'all'],
];

for (const [host, want] of MOST_SPECIFIC) {
  test(`mostSpecificHostMatch(${host}) picks ${want}`, () => {
    assert.equal(mostSpecificHostMatch(host, SPECIFIC, WILDCARD), want);
  });
}

test('mostSpecificHostMatch: nothing matches without a catch-all', () => {
  assert.equal(mostSpecificHostMatch('other.org', SPECIFIC, new Map([['*.example.com', 'x']])), undefined);
});

function rules(text: string): DestinationRuleResource[] {
  const { resources, diagnostics } = loadConfigText(text, 'dr.yaml');
  assert.deepEqual(diagnostics.filter((d) => d.severity === 'error').map((d) => d.message), []);
  return [...new ConfigStore(resources).list('DestinationRule')];
}

function dr(name: string, namespace: string, spec: string): string {
  return `---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: { name: ${name}, namespace: ${namespace} }\nspec:\n${spec.split('\n').map((l) => `  ${l}`).join('\n')}\n`;
}

const resolve = (h: string, ns: string) => (h.includes('.') ? h : `${h}.${ns}.svc.cluster.local`);
const index = (text: string, defaultExportTo: readonly string[] = ['*']) => new DestinationRuleIndex(rules(text), { resolveHost: resolve, rootNamespace: 'istio-system', defaultExportTo });
const names = (found: readonly { from: readonly DestinationRuleResource[] }[]) => found.map((c) => c.from.map((r) => `${r.metadata.namespace}/${r.metadata.name}`).join('+'));
const REVIEWS = 'reviews.default.svc.cluster.local';

test('merge: rules for one host in one namespace become one (subsets concatenated, first policy kept)', () => {
  const idx = index(
    dr('a', 'default', 'host: reviews\nsubsets: [{ name: v1, labels: { version: v1 } }]') +
      dr('b', 'default', 'host: reviews.default.svc.cluster.local\ntrafficPolicy: { loadBalancer: { simple: RANDOM } }\nsubsets: [{ name: v1, labels: { version: x } }, { name: v2, labels: { version: v2 } }]') +
      dr('c', 'default', 'host: reviews\ntrafficPolicy: { loadBalancer: { simple: ROUND_ROBIN } }'),
  );
  const found = idx.lookup('default', REVIEWS, 'default');
  assert.deepEqual(names(found), ['default/a+default/b+default/c']);
  const merged = found[0]!.rule;
  assert.equal(merged.metadata.name, 'a');
  assert.deepEqual(merged.spec.subsets.map((s) => `${s.name}:${s.labels.version}`), ['v1:v1', 'v2:v2']);
  assert.deepEqual(merged.spec.trafficPolicy?.loadBalancer, { simple: 'RANDOM' });
});

test('merge: rules with workloadSelectors stay apart from each other and from the rule without; selector rules come first', () => {
  const idx = index(
    dr('plain', 'default', 'host: reviews\nsubsets: [{ name: v1, labels: { version: v1 } }]') +
      dr('canary', 'default', 'host: reviews\nworkloadSelector: { matchLabels: { version: v2 } }\nsubsets: [{ name: c, labels: { version: v2 } }]') +
      dr('beta', 'default', 'host: reviews\nworkloadSelector: { matchLabels: { track: beta } }'),
  );
  const found = idx.lookup('default', REVIEWS, 'default');
  // A selector rule is exported to its namespace only (`.`), the plain one by default: with
  // different exportTo, Istio's enhanced merge keeps them apart, so the plain rule is the catch-all.
  assert.deepEqual(names(found), ['default/canary', 'default/beta', 'default/plain']);
  assert.deepEqual(found[0]!.rule.spec.subsets.map((s) => s.name), ['c']);
});

const LOOKUP =
  dr('local', 'default', 'host: db.prod.svc.cluster.local') +
  dr('owner', 'prod', 'host: db.prod.svc.cluster.local') +
  dr('private', 'prod', 'host: cache.prod.svc.cluster.local\nexportTo: ["."]') +
  dr('listed', 'prod', 'host: queue.prod.svc.cluster.local\nexportTo: [team]') +
  dr('mesh', 'istio-system', 'host: "*.svc.cluster.local"') +
  dr('gateways', 'istio-system', 'host: "*.prod.svc.cluster.local"\nexportTo: ["."]');

const ORDER: readonly [proxyNs: string, host: string, svcNs: string | undefined, want: string[]][] = [
  ['default', 'db.prod.svc.cluster.local', 'prod', ['default/local']],
  ['team', 'db.prod.svc.cluster.local', 'prod', ['prod/owner']],
  ['team', 'cache.prod.svc.cluster.local', 'prod', ['istio-system/mesh']],
  ['prod', 'cache.prod.svc.cluster.local', 'prod', ['prod/private']],
  ['team', 'queue.prod.svc.cluster.local', 'prod', ['prod/listed']],
  ['default', 'queue.prod.svc.cluster.local', 'prod', ['istio-system/mesh']],
  ['istio-system', 'cache.prod.svc.cluster.local', 'prod', ['istio-system/gateways']],
  ['istio-system', 'db.prod.svc.cluster.local', 'prod', ['istio-system/gateways']],
  ['default', 'db.prod.svc.cluster.local', undefined, ['default/local']],
  ['team', 'db.prod.svc.cluster.local', undefined, ['istio-system/mesh']],
  ['team', 'example.org', undefined, []],
];

for (const [proxyNs, host, svcNs, want] of ORDER) {
  test(`lookup from ${proxyNs} for ${host} (service namespace ${svcNs ?? 'unknown'}): ${want.join(', ') || 'none'}`, () => {
    assert.deepEqual(names(index(LOOKUP).lookup(proxyNs, host, svcNs)), want);
  });
}

test('lookup: defaultDestinationRuleExportTo ["."] makes rules without exportTo private to their namespace', () => {
  const idx = index(dr('owner', 'prod', 'host: db.prod.svc.cluster.local'), ['.']);
  assert.deepEqual(names(idx.lookup('team', 'db.prod.svc.cluster.local', 'prod')), []);
  assert.deepEqual(names(idx.lookup('prod', 'db.prod.svc.cluster.local', 'prod')), ['prod/owner']);
});

test('merge: rules with the same workloadSelector merge, as rules without do', () => {
  const idx = index(
    dr('a', 'default', 'host: reviews\nworkloadSelector: { matchLabels: { app: web } }\nsubsets: [{ name: v1, labels: { version: v1 } }]') +
      dr('b', 'default', 'host: reviews\nworkloadSelector: { matchLabels: { app: web } }\nsubsets: [{ name: v2, labels: { version: v2 } }]'),
  );
  const found = idx.lookup('default', REVIEWS, 'default');
  assert.deepEqual(names(found), ['default/a+default/b']);
  assert.deepEqual(found[0]!.rule.spec.subsets.map((s) => s.name), ['v1', 'v2']);
});
