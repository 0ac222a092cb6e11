import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { loadConfigText } from '../load-config.js';
import type { ConfigKind, ConfigResource, Diagnostic, ResourceOf } from '../types.js';
import { fieldStatusTable } from './index.js';

const yaml = (...lines: string[]) => `${lines.join('\n')}\n`;

function load(text: string) {
  const { resources, diagnostics } = loadConfigText(text, 'k.yaml');
  return { resources, diagnostics, codes: diagnostics.map((d) => `${d.severity}:${d.code}`) };
}

/** Loads a resource given as an object (serialised to YAML), asserting its kind. */
function loadObject<K extends ConfigKind>(kind: K, obj: unknown): { resource?: ResourceOf<K>; diagnostics: Diagnostic[]; codes: string[] } {
  const { resources, diagnostics, codes } = load(stringify(obj));
  const r: ConfigResource | undefined = resources[0];
  if (r) assert.equal(r.kind, kind);
  return { resource: r as ResourceOf<K> | undefined, diagnostics, codes };
}

const deployment = (spec: Record<string, unknown>, podSpec: Record<string, unknown> = {}, labels: Record<string, string> = { app: 'web' }) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web' },
  spec: {
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels }, spec: { containers: [{ name: 'web', image: 'strait/echo' }], ...podSpec } },
    ...spec,
  },
});

// ---- Deployment -----------------------------------------------------------------------------

test('Deployment defaults: 1 replica, service account "default", TCP ports, empty env', () => {
  const { resource, diagnostics } = loadObject('Deployment', deployment({}, { containers: [{ name: 'web', image: 'strait/echo', ports: [{ containerPort: 8080 }] }] }));
  assert.deepEqual(diagnostics, []);
  assert.ok(resource);
  assert.equal(resource.spec.replicas, 1);
  assert.equal(resource.spec.template.spec.serviceAccountName, 'default');
  assert.deepEqual(resource.spec.template.spec.containers, [{ name: 'web', image: 'strait/echo', env: [], ports: [{ containerPort: 8080, protocol: 'TCP' }] }]);
  assert.deepEqual(resource.spec.template.metadata.annotations, {});
});

test('Deployment accepts the deprecated serviceAccount, and ignored fields make no noise', () => {
  const { resource, diagnostics } = loadObject(
    'Deployment',
    deployment({ strategy: { type: 'RollingUpdate' }, revisionHistoryLimit: 3 }, {
      serviceAccount: 'legacy',
      nodeSelector: { disk: 'ssd' },
      containers: [{ name: 'web', image: 'x', imagePullPolicy: 'Always', resources: { limits: { cpu: '1' } }, securityContext: { runAsUser: 1 } }],
    }),
  );
  assert.deepEqual(diagnostics, []);
  assert.equal(resource?.spec.template.spec.serviceAccountName, 'legacy');
});

test('Deployment selector must match the template labels, reported at the selector label', () => {
  const text = yaml(
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata: {name: web}',
    'spec:',
    '  selector:',
    '    matchLabels:',
    '      app: web', //            7
    '  template:',
    '    metadata: {labels: {app: webb}}',
    '    spec: {containers: [{name: web, image: x}]}',
  );
  const { resources, diagnostics } = load(text);
  assert.deepEqual(resources, []);
  assert.deepEqual(diagnostics.map((d) => `${d.code}@${d.line}:${d.col}`), ['selector-mismatch@7:12']);
  assert.match(diagnostics[0].message, /selector does not match template labels/);
});

test('Deployment: env valueFrom is a warning and the variable is left out; extra containers are a warning', () => {
  const { resource, diagnostics } = loadObject('Deployment', deployment({}, {
    containers: [
      { name: 'a', image: 'x', env: [{ name: 'PLAIN', value: '1' }, { name: 'FROM', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }, { name: 'EMPTY' }] },
      { name: 'b', image: 'y' },
    ],
  }));
  assert.deepEqual(diagnostics.map((d) => [d.severity, d.code]), [['warning', 'unsupported-field'], ['warning', 'extra-containers']]);
  assert.match(diagnostics[0].message, /env\[1\]\.valueFrom' is valid Kubernetes/);
  assert.match(diagnostics[1].message, /only the first container \("a"\) runs; 1 more is ignored/);
  assert.deepEqual(resource?.spec.template.spec.containers[0].env, [{ name: 'PLAIN', value: '1' }, { name: 'EMPTY', value: '' }]);
  assert.equal(resource?.spec.template.spec.containers.length, 2);
});

test('Deployment: a container needs an image or a command; containers must not be empty', () => {
  assert.deepEqual(loadObject('Deployment', deployment({}, { containers: [{ name: 'a' }] })).codes, ['error:missing-field']);
  assert.deepEqual(loadObject('Deployment', deployment({}, { containers: [{ name: 'a', command: ['node', 'app.js'] }] })).codes, []);
  assert.deepEqual(loadObject('Deployment', deployment({}, { containers: [] })).codes, ['error:invalid-value']);
});

test('Deployment: apps/v1 only', () => {
  const { codes, diagnostics } = load(stringify({ ...deployment({}), apiVersion: 'extensions/v1beta1' }));
  assert.deepEqual(codes, ['error:wrong-api-version']);
  assert.equal(diagnostics[0].fix, 'change apiVersion to apps/v1');
});

// ---- Service --------------------------------------------------------------------------------

test('Service: several ports need names, unique names and numbers; ExternalName is a warning', () => {
  const svc = (spec: unknown) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec });
  assert.deepEqual(loadObject('Service', svc({ ports: [{ port: 80 }, { port: 81 }] })).codes, ['error:missing-field', 'error:missing-field']);
  assert.deepEqual(loadObject('Service', svc({ ports: [{ name: 'a', port: 80 }, { name: 'a', port: 80 }] })).codes, ['error:duplicate-value', 'error:duplicate-value']);
  const r = loadObject('Service', svc({ type: 'ExternalName', externalName: 'db.example.com' }));
  assert.deepEqual(r.codes, ['warning:unsupported-field', 'warning:unsupported-value']);
  const named = loadObject('Service', svc({ clusterIP: '10.0.0.1', ports: [{ name: 'http', port: 80, targetPort: 'http', appProtocol: 'http', nodePort: 30080 }] }));
  assert.deepEqual(named.codes, []);
  assert.deepEqual(named.resource?.spec.ports, [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP', appProtocol: 'http' }]);
});

test('Service names are DNS-1035 labels (must start with a letter)', () => {
  const r = loadObject('Service', { apiVersion: 'v1', kind: 'Service', metadata: { name: '1web' }, spec: { ports: [{ port: 80 }] } });
  assert.deepEqual(r.codes, ['error:invalid-value']);
  assert.match(r.diagnostics[0].message, /DNS-1035 label/);
});

// ---- Secret, ServiceAccount, ConfigMap, Namespace -------------------------------------------

test('Secret: data is base64-decoded, stringData wins, type defaults to Opaque', () => {
  const { resource, diagnostics } = loadObject('Secret', {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 's' },
    data: { user: Buffer.from('admin').toString('base64'), pass: Buffer.from('old').toString('base64') },
    stringData: { pass: 'new' },
  });
  assert.deepEqual(diagnostics, []);
  assert.equal(resource?.type, 'Opaque');
  assert.equal(resource?.data.user.toString(), 'admin');
  assert.equal(resource?.data.pass.toString(), 'new');
});

test('Secret: invalid base64 is an error at the value', () => {
  const text = yaml('apiVersion: v1', 'kind: Secret', 'metadata: {name: s}', 'data:', '  ok: YWRtaW4=', '  bad: not base64!');
  const { resources, diagnostics } = load(text);
  assert.deepEqual(resources, []);
  assert.deepEqual(diagnostics.map((d) => `${d.code}@${d.line}:${d.col}`), ['invalid-value@6:8']);
  assert.match(diagnostics[0].message, /must be base64/);
});

test('Secret: kubernetes.io/tls needs tls.crt and tls.key (and what is there must be PEM)', () => {
  const r = loadObject('Secret', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, type: 'kubernetes.io/tls', stringData: { 'tls.crt': 'x' } });
  assert.deepEqual(r.codes, ['error:missing-field', 'error:invalid-certificate']);
  assert.match(r.diagnostics[0].message, /tls\.key/);
});

test('ServiceAccount is checked without warnings and not stored; ConfigMap warns unused-kind', () => {
  const sa = load(yaml('apiVersion: v1', 'kind: ServiceAccount', 'metadata: {name: bookinfo-details}', 'automountServiceAccountToken: false'));
  assert.deepEqual(sa.diagnostics, []);
  assert.deepEqual(sa.resources, []);
  const cm = load(yaml('apiVersion: v1', 'kind: ConfigMap', 'metadata: {name: c}', 'data: {a: "1"}'));
  assert.deepEqual(cm.codes, ['warning:unused-kind']);
  assert.deepEqual(cm.resources, []);
  const bad = load(yaml('apiVersion: v1', 'kind: ConfigMap', 'metadata: {name: c}', 'data: {a: 1}'));
  assert.deepEqual(bad.codes, ['error:wrong-type']);
});

test('Namespace is cluster-scoped: its namespace is empty, and a namespace field is a warning', () => {
  const r = load(yaml('apiVersion: v1', 'kind: Namespace', 'metadata: {name: shop, namespace: default}'));
  assert.deepEqual(r.codes, ['warning:ignored-namespace']);
  assert.equal(r.resources[0].metadata.namespace, '');
});

// ---- field status table ---------------------------------------------------------------------

test('the field-status table lists every field with its status, inheriting unsupported downwards', () => {
  const rows = fieldStatusTable();
  const status = (kind: string, p: string) => rows.find((r) => r.kind === kind && r.path === p)?.status;
  assert.equal(status('Deployment', 'spec.template.spec.containers[].imagePullPolicy'), 'ignored');
  assert.equal(status('Deployment', 'spec.template.spec.containers[].env[].valueFrom'), 'unsupported');
  assert.equal(status('Deployment', 'spec.replicas'), 'supported');
  assert.equal(status('VirtualService', 'spec.http[].match[].uri.regex'), 'supported');
  assert.equal(status('VirtualService', 'spec.http[].retries.attempts'), 'supported');
  assert.equal(status('VirtualService', 'spec.http[].match[].headers{}.prefix'), 'supported');
  assert.equal(status('Gateway', 'spec.servers[].tls.mode'), 'supported');
  assert.equal(status('Gateway', 'spec.servers[].tls.serverCertificate'), 'unsupported');
  assert.equal(status('Gateway', 'spec.servers[].defaultEndpoint'), 'unsupported');
  assert.equal(status('Namespace', 'metadata.uid'), 'ignored');
  assert.equal(new Set(rows.map((r) => `${r.kind} ${r.path}`)).size, rows.length);
});
