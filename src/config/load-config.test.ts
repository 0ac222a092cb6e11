import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, loadConfigText } from './load-config.js';
import type { Diagnostic } from './types.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test/fixtures/config');

/** `code@line:col` of every diagnostic, for compact exact assertions. */
function where(diags: readonly Diagnostic[]): string[] {
  return diags.map((d) => `${d.code}@${d.line}:${d.col}`);
}

const yaml = (...lines: string[]) => `${lines.join('\n')}\n`;

test('a YAML syntax error is reported at its position, and the broken document is skipped', () => {
  const text = yaml(
    'apiVersion: v1', //            1
    'kind: Namespace', //           2
    'metadata: {name: ok}', //      3
    '---', //                       4
    'apiVersion: v1', //            5
    'kind: Namespace', //           6
    'metadata:', //                 7
    '  name: a', //                 8
    ' namespace: b', //             9  (bad indentation)
  );
  const { resources, diagnostics } = loadConfigText(text, 'x.yaml');
  assert.deepEqual(resources.map((r) => r.metadata.name), ['ok']);
  assert.equal(diagnostics.length, 1);
  assert.equal(diagnostics[0].code, 'yaml-syntax');
  assert.equal(diagnostics[0].severity, 'error');
  assert.equal(`${diagnostics[0].file}:${diagnostics[0].line}:${diagnostics[0].col}`, 'x.yaml:9:1');
});

test('a duplicate key is a syntax error at the second key', () => {
  const { diagnostics } = loadConfigText(yaml('apiVersion: v1', 'kind: Namespace', 'metadata: {name: a}', 'kind: Service'), 'd.yaml');
  assert.deepEqual(where(diagnostics), ['yaml-syntax@4:1']);
  assert.match(diagnostics[0].fix ?? '', /cannot repeat a key/);
});

test('a semantic error deep inside a document points at the exact value', () => {
  const text = yaml(
    'apiVersion: networking.istio.io/v1', // 1
    'kind: VirtualService', //               2
    'metadata:', //                          3
    '  name: reviews', //                    4
    'spec:', //                              5
    '  hosts: [reviews]', //                 6
    '  http:', //                            7
    '  - route:', //                         8
    '    - destination:', //                 9
    '        host: reviews', //              10
    '        port:', //                      11
    '          number: "9080"', //           12
  );
  const { resources, diagnostics } = loadConfigText(text, 'vs.yaml');
  assert.deepEqual(resources, []);
  assert.deepEqual(where(diagnostics), ['wrong-type@12:19']);
  assert.equal(diagnostics[0].message, 'spec.http[0].route[0].destination.port.number: expected an integer, found a string ("9080")');
});

test('an unknown field points at its key and suggests the close name', () => {
  const text = yaml('apiVersion: networking.istio.io/v1', 'kind: VirtualService', 'metadata: {name: r}', 'spec:', '  hostz: [reviews]');
  const { diagnostics } = loadConfigText(text, 'vs.yaml');
  assert.deepEqual(where(diagnostics), ['unknown-field@5:3']);
  assert.equal(diagnostics[0].message, "unknown field 'spec.hostz' in VirtualService; did you mean 'hosts'?");
});

test('a missing required field is reported at the key of its parent', () => {
  const text = yaml(
    'apiVersion: networking.istio.io/v1',
    'kind: VirtualService',
    'metadata: {name: r}',
    'spec:',
    '  hosts: [reviews]',
    '  http:',
    '  - route:',
    '    - destination:', //  8
    '        subset: v1',
  );
  const { diagnostics } = loadConfigText(text, 'vs.yaml');
  assert.deepEqual(where(diagnostics), ['missing-field@8:7']);
  assert.match(diagnostics[0].message, /required field 'host' is missing/);
});

test('an unsupported field is a warning, and the resource is still loaded', () => {
  const text = yaml(
    'apiVersion: networking.istio.io/v1beta1',
    'kind: Gateway',
    'metadata: {name: gw, namespace: istio-system}',
    'spec:',
    '  selector: {istio: ingressgateway}',
    '  servers:',
    '  - port: {number: 80, name: http, protocol: HTTP}',
    '    hosts: ["*"]',
    '    defaultEndpoint: 127.0.0.1:8080', // 9
  );
  const { resources, diagnostics } = loadConfigText(text, 'gw.yaml');
  assert.deepEqual(where(diagnostics), ['unsupported-field@9:5']);
  assert.equal(diagnostics[0].severity, 'warning');
  assert.equal(diagnostics[0].message, "field 'spec.servers[0].defaultEndpoint' is valid Istio but Strait does not implement it yet; it is ignored");
  assert.equal(resources.length, 1);
  assert.equal(resources[0].kind, 'Gateway');
});

test('every diagnostic has a fix sentence', () => {
  const text = yaml('apiVersion: v1', 'kind: Service', 'metadata: {name: Bad_Name}', 'spec: {ports: [{port: 0}], typo: 1}');
  const { diagnostics } = loadConfigText(text, 's.yaml');
  assert.ok(diagnostics.length >= 3);
  for (const d of diagnostics) assert.ok(d.fix && d.fix.length > 5, `${d.code} has no fix`);
});

test('multiple documents, empty documents and comments-only documents', () => {
  const text = yaml('---', '# only a comment', '---', 'apiVersion: v1', 'kind: Namespace', 'metadata: {name: a}', '---', '---', 'apiVersion: v1', 'kind: Namespace', 'metadata: {name: b}', '...');
  const { resources, diagnostics } = loadConfigText(text, 'm.yaml');
  assert.deepEqual(diagnostics, []);
  assert.deepEqual(resources.map((r) => [r.metadata.name, r.source.docIndex, r.source.line]), [
    ['a', 1, 4],
    ['b', 3, 9],
  ]);
});

test('kind: List is expanded, and positions inside items are exact', () => {
  const text = yaml(
    'apiVersion: v1', //               1
    'kind: List', //                   2
    'items:', //                       3
    '- apiVersion: v1', //             4
    '  kind: Namespace', //            5
    '  metadata: {name: one}', //      6
    '- apiVersion: v1', //             7
    '  kind: Service', //              8
    '  metadata: {name: two}', //      9
    '  spec:', //                      10
    '    ports: [{port: 80, protocol: tcp}]', // 11
  );
  const { resources, diagnostics } = loadConfigText(text, 'l.yaml');
  assert.deepEqual(resources.map((r) => r.metadata.name), ['one']);
  assert.equal(resources[0].source.line, 4);
  assert.equal(resources[0].source.col, 3);
  assert.deepEqual(where(diagnostics), ['invalid-value@11:34']);
  assert.match(diagnostics[0].message, /"tcp" is not one of TCP, UDP, SCTP/);
  assert.equal(diagnostics[0].fix, 'write TCP');
});

test('source.at finds fields, prefers keys for collections, and falls back to the closest ancestor', () => {
  const text = yaml(
    'apiVersion: v1', //           1
    'kind: Service', //            2
    'metadata:', //                3
    '  name: web', //              4
    'spec:', //                    5
    '  selector:', //              6
    '    app: web', //             7
    '  ports:', //                 8
    '  - port: 80', //             9
  );
  const { resources } = loadConfigText(text, 's.yaml');
  const src = resources[0].source;
  const pos = (p: (string | number)[]) => `${src.at(p).line}:${src.at(p).col}`;
  assert.equal(pos(['metadata', 'name']), '4:9');
  assert.equal(pos(['spec', 'selector']), '6:3');
  assert.equal(pos(['spec', 'ports', 0, 'port']), '9:11');
  assert.equal(pos(['spec', 'ports', 0]), '9:5');
  assert.equal(pos(['spec', 'ports', 0, 'targetPort']), '9:5');
  assert.equal(pos(['metadata', 'namespace']), '3:1');
  assert.equal(pos([]), '1:1');
});

test('defaults: namespace default, Service type and protocol, targetPort = port', () => {
  const { resources } = loadConfigText(yaml('apiVersion: v1', 'kind: Service', 'metadata: {name: web}', 'spec:', '  ports: [{port: 80}]'), 's.yaml');
  const svc = resources[0];
  assert.equal(svc.kind, 'Service');
  if (svc.kind !== 'Service') return;
  assert.equal(svc.metadata.namespace, 'default');
  assert.deepEqual(svc.metadata.labels, {});
  assert.equal(svc.spec.type, 'ClusterIP');
  assert.deepEqual(svc.spec.ports, [{ port: 80, targetPort: 80, protocol: 'TCP' }]);
  assert.equal(svc.spec.selector, undefined);
});

test('unknown kinds get a suggestion; future kinds a warning; wrong apiVersions name the right ones', () => {
  const text = yaml(
    'apiVersion: v1', 'kind: Servce', 'metadata: {name: a}', //                                 1-3
    '---', 'apiVersion: networking.istio.io/v1alpha3', 'kind: EnvoyFilter', 'metadata: {name: b}', // 4-7
    '---', 'apiVersion: apps/v1beta1', 'kind: Deployment', 'metadata: {name: c}', //              8-11
    '---', 'apiVersion: networking.istio.io/v2', 'kind: Gateway', 'metadata: {name: d}', //        12-15
    '---', 'apiVersion: batch/v1', 'kind: CronJob', 'metadata: {name: e}', //                      16-19
  );
  const { resources, diagnostics } = loadConfigText(text, 'k.yaml');
  assert.deepEqual(resources, []);
  assert.deepEqual(where(diagnostics), ['unknown-kind@2:7', 'unsupported-kind@6:7', 'wrong-api-version@9:13', 'wrong-api-version@13:13', 'unknown-kind@18:7']);
  assert.match(diagnostics[0].message, /did you mean 'Service'\?/);
  assert.equal(diagnostics[1].severity, 'warning');
  assert.equal(diagnostics[1].message, 'EnvoyFilter (networking.istio.io/v1alpha3) is valid Istio but Strait does not implement it yet; this resource is ignored');
  assert.match(diagnostics[2].message, /accepted: apps\/v1$/);
  assert.match(diagnostics[3].message, /networking\.istio\.io\/v1, networking\.istio\.io\/v1beta1, networking\.istio\.io\/v1alpha3, gateway\.networking\.k8s\.io\/v1/);
  assert.doesNotMatch(diagnostics[4].message, /did you mean/);
});

test('the Gateway API Gateway is a future kind, not the Istio Gateway', () => {
  const { diagnostics } = loadConfigText(yaml('apiVersion: gateway.networking.k8s.io/v1', 'kind: Gateway', 'metadata: {name: g}', 'spec: {gatewayClassName: x}'), 'g.yaml');
  assert.deepEqual(where(diagnostics), ['unsupported-kind@2:7']);
  assert.match(diagnostics[0].message, /valid Kubernetes Gateway API/);
});

test('a document that is not a map, and one without kind, are errors', () => {
  const { diagnostics } = loadConfigText(yaml('- a', '- b', '---', 'apiVersion: v1', 'metadata: {name: x}'), 'n.yaml');
  assert.deepEqual(where(diagnostics), ['not-a-resource@1:1', 'missing-field@4:1']);
  assert.match(diagnostics[1].message, /'kind' is missing/);
});

test('metadata: DNS names, label values must be strings, Namespace names are labels', () => {
  const text = yaml(
    'apiVersion: apps/v1', //                 1
    'kind: Deployment', //                    2
    'metadata:', //                           3
    '  name: My_App', //                      4
    '  labels:', //                           5
    '    enabled: true', //                   6
    'spec: {selector: {matchLabels: {a: b}}, template: {metadata: {labels: {a: b}}, spec: {containers: [{name: c, image: i}]}}}',
    '---',
    'apiVersion: v1',
    'kind: Namespace',
    'metadata: {name: a.b}', //               11
  );
  const { diagnostics } = loadConfigText(text, 'm.yaml');
  assert.deepEqual(where(diagnostics), ['invalid-value@4:9', 'wrong-type@6:14', 'invalid-value@11:18']);
  assert.match(diagnostics[0].message, /must be a DNS-1123 subdomain/);
  assert.equal(diagnostics[1].fix, 'quote the value: "true"');
  assert.match(diagnostics[2].message, /must be a DNS-1123 label/);
});

test('duplicates in one file: the second is an error naming the first, and is dropped', () => {
  const text = yaml('apiVersion: v1', 'kind: Namespace', 'metadata: {name: a}', '---', 'apiVersion: v1', 'kind: Namespace', 'metadata:', '  name: a');
  const { resources, diagnostics } = loadConfigText(text, 'dup.yaml');
  assert.equal(resources.length, 1);
  assert.equal(resources[0].source.line, 1);
  assert.deepEqual(where(diagnostics), ['duplicate-resource@8:9']);
  assert.equal(diagnostics[0].message, 'duplicate Namespace a: already defined at dup.yaml:1');
});

test('duplicates across files are found by loadConfig; same name in another namespace is fine', async () => {
  const { store, diagnostics } = await loadConfig([path.join(FIXTURES, 'dup')]);
  const dups = diagnostics.filter((d) => d.code === 'duplicate-resource');
  assert.equal(dups.length, 1);
  assert.equal(path.basename(dups[0].file), 'b.yaml');
  assert.equal(dups[0].line, 4);
  assert.match(dups[0].message, /^duplicate Service default\/web: already defined at .*dup\/a\.yaml:1$/);
  assert.deepEqual(store.keys('Service').sort(), ['default/web', 'other/web']);
});

test('directories are walked recursively in sorted order, for .yaml/.yml/.json only, skipping hidden entries', async () => {
  const dir = path.join(FIXTURES, 'tree');
  const { files, store, diagnostics } = await loadConfig([dir]);
  assert.deepEqual(
    files.map((f) => path.relative(dir, f)),
    ['a-namespaces.yaml', 'b/deploy.yml', 'b/nested/service.json', 'c.yaml'],
  );
  assert.deepEqual(diagnostics, []);
  assert.equal(store.size(), 4);
  // The JSON file has positions too.
  const svc = store.get('Service', 'shop', 'cart');
  assert.ok(svc);
  assert.equal(svc.source.at(['spec', 'ports', 0, 'port']).line, 12);
});

test('a path given twice, or a file inside a given directory, is read once', async () => {
  const dir = path.join(FIXTURES, 'tree');
  const { files } = await loadConfig([dir, path.join(dir, 'c.yaml'), dir]);
  assert.equal(files.length, 4);
});

test('a missing path is an error at line 1 col 1 of that path', async () => {
  const missing = path.join(FIXTURES, 'does-not-exist.yaml');
  const { diagnostics, files } = await loadConfig([missing]);
  assert.deepEqual(files, []);
  assert.deepEqual(diagnostics.map((d) => [d.severity, d.code, d.file, d.line, d.col]), [['error', 'missing-path', missing, 1, 1]]);
});

test('resources with errors stay out of the store, resources with only warnings go in', async () => {
  const { store, diagnostics } = await loadConfig([path.join(FIXTURES, 'mixed.yaml')]);
  assert.deepEqual(store.all().map((r) => `${r.kind}/${r.metadata.name}`), ['Deployment/warned']);
  assert.ok(diagnostics.some((d) => d.severity === 'error' && d.code === 'selector-mismatch'));
  assert.ok(diagnostics.some((d) => d.severity === 'warning' && d.code === 'unsupported-field'));
});

test('anchors, aliases and merge keys load; errors inside merged maps point at the anchor', () => {
  const text = yaml(
    'apiVersion: apps/v1', //                 1
    'kind: Deployment', //                    2
    'metadata: {name: web, namespace: ""}', // 3  ("" means default)
    'spec:', //                               4
    '  selector: {matchLabels: &labels {app: web}}',
    '  template:', //                         6
    '    metadata: {labels: *labels}', //     7
    '    spec:', //                           8
    '      containers:', //                   9
    '      - &base', //                       10
    '        name: web', //                   11
    '        image: strait/echo', //          12
    '        workingDir: 7', //               13
    '      - <<: *base', //                   14
    '        name: web2',
  );
  const { resources, diagnostics } = loadConfigText(text, 'a.yaml');
  assert.deepEqual(resources, []);
  // The same bad value is reached through both containers; the second one is found via `<<`.
  assert.deepEqual(where(diagnostics), ['wrong-type@13:21', 'wrong-type@13:21']);
  const ok = loadConfigText(text.replace('workingDir: 7', 'workingDir: /srv'), 'a.yaml');
  assert.deepEqual(ok.diagnostics.map((d) => d.code), ['extra-containers']);
  const d = ok.resources[0];
  assert.equal(d.metadata.namespace, 'default');
  if (d.kind === 'Deployment') {
    assert.deepEqual(d.spec.template.metadata.labels, { app: 'web' });
    assert.deepEqual(d.spec.template.spec.containers.map((c) => [c.name, c.workingDir]), [['web', '/srv'], ['web2', '/srv']]);
  }
});
