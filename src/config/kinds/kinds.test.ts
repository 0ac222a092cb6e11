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

// ---- Gateway --------------------------------------------------------------------------------

const gateway = (servers: unknown[], extra: Record<string, unknown> = {}) => ({
  apiVersion: 'networking.istio.io/v1alpha3',
  kind: 'Gateway',
  metadata: { name: 'gw', namespace: 'istio-system' },
  spec: { selector: { istio: 'ingressgateway' }, servers, ...extra },
});

test('Gateway: protocol is upper-cased, tls is kept with a warning', () => {
  const tls = { mode: 'SIMPLE', credentialName: 'cert' };
  const { resource, diagnostics } = loadObject('Gateway', gateway([
    { port: { number: 80, name: 'http', protocol: 'http' }, hosts: ['*'] },
    { port: { number: 443, name: 'https', protocol: 'HTTPS' }, hosts: ['bookinfo/*.example.com'], tls },
  ]));
  assert.deepEqual(diagnostics.map((d) => [d.code, d.message]), [['unsupported-field', "field 'spec.servers[1].tls' is valid Istio but Strait does not implement it yet; it is ignored"]]);
  assert.deepEqual(resource?.spec.servers.map((s) => s.port.protocol), ['HTTP', 'HTTPS']);
  assert.deepEqual(resource?.spec.servers[1].tls, tls);
});

test('Gateway: Istio rules (port name, non-empty hosts, TLS settings for HTTPS, known protocol)', () => {
  assert.deepEqual(loadObject('Gateway', gateway([{ port: { number: 80, protocol: 'HTTP' }, hosts: ['*'] }])).codes, ['error:missing-field']);
  assert.deepEqual(loadObject('Gateway', gateway([{ port: { number: 80, name: 'h', protocol: 'HTTP' }, hosts: [] }])).codes, ['error:invalid-value']);
  assert.deepEqual(loadObject('Gateway', gateway([{ port: { number: 443, name: 'h', protocol: 'HTTPS' }, hosts: ['*'] }])).codes, ['error:missing-field']);
  assert.deepEqual(loadObject('Gateway', gateway([{ port: { number: 80, name: 'h', protocol: 'HTTPX' }, hosts: ['*'] }])).codes, ['error:invalid-value']);
  assert.deepEqual(loadObject('Gateway', gateway([])).codes, ['error:invalid-value']);
  // httpsRedirect on a plain HTTP server is allowed; certificates are not.
  assert.deepEqual(loadObject('Gateway', gateway([{ port: { number: 80, name: 'h', protocol: 'HTTP' }, hosts: ['*'], tls: { httpsRedirect: true } }])).codes, ['warning:unsupported-field']);
  assert.deepEqual(
    loadObject('Gateway', gateway([{ port: { number: 80, name: 'h', protocol: 'HTTP' }, hosts: ['*'], tls: { mode: 'SIMPLE', credentialName: 'c' } }])).codes,
    ['warning:unsupported-field', 'error:invalid-value'],
  );
});

test('Gateway: every ServerTLSSettings field is known; a typo inside tls is still an error', () => {
  const tls = {
    httpsRedirect: false, mode: 'MUTUAL', serverCertificate: 'a', privateKey: 'b', caCertificates: 'c', caCrl: 'd', credentialName: 'e',
    credentialNames: ['e'], caCertCredentialName: 'f', tlsCertificates: [{ serverCertificate: 'a', privateKey: 'b', caCertificates: 'c' }],
    subjectAltNames: ['x'], verifyCertificateSpki: ['y'], verifyCertificateHash: ['z'], minProtocolVersion: 'TLSV1_2', maxProtocolVersion: 'TLSV1_3',
    cipherSuites: ['ECDHE-RSA-AES256-GCM-SHA384'], insecureSkipVerify: false,
  };
  const server = { port: { number: 443, name: 'https', protocol: 'HTTPS' }, hosts: ['*'], defaultEndpoint: '127.0.0.1:8080', tls };
  assert.deepEqual(loadObject('Gateway', gateway([server])).codes, ['warning:unsupported-field', 'warning:unsupported-field']);
  assert.deepEqual(loadObject('Gateway', gateway([{ ...server, tls: { ...tls, credentialNme: 'x' } }])).codes, ['warning:unsupported-field', 'warning:unsupported-field', 'error:unknown-field']);
});

// ---- VirtualService -------------------------------------------------------------------------

const vs = (spec: Record<string, unknown>) => ({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'r', namespace: 'bookinfo' }, spec: { hosts: ['reviews'], ...spec } });
const dest = (host: string, weight?: number) => ({ destination: { host }, ...(weight !== undefined ? { weight } : {}) });

test('VirtualService: implemented matches are converted, gateways default to []', () => {
  const { resource, diagnostics } = loadObject('VirtualService', vs({
    http: [{
      name: 'api',
      match: [{ uri: { prefix: '/api' }, method: { exact: 'GET' }, headers: { 'x-user': { exact: 'jason' }, 'x-debug': {} }, ignoreUriCase: true }],
      route: [{ destination: { host: 'reviews', subset: 'v1', port: { number: 9080 } } }],
    }],
  }));
  assert.deepEqual(diagnostics, []);
  assert.ok(resource);
  assert.deepEqual(resource.spec.gateways, []);
  assert.deepEqual(resource.spec.http, [{
    name: 'api',
    match: [{ uri: { prefix: '/api' }, method: { exact: 'GET' }, headers: { 'x-user': { exact: 'jason' }, 'x-debug': {} }, ignoreUriCase: true }],
    route: [{ destination: { host: 'reviews', subset: 'v1', port: { number: 9080 } } }],
    path: ['spec', 'http', 0],
    extra: {},
  }]);
});

test('VirtualService: unimplemented rule fields warn and are kept in extra; tcp/tls routes warn', () => {
  const { resource, diagnostics } = loadObject('VirtualService', vs({
    http: [{ route: [dest('reviews')], retries: { attempts: 3, perTryTimeout: '2s' }, fault: { abort: { httpStatus: 500, percentage: { value: 10 } } } }],
    tcp: [{ route: [dest('db')] }],
  }));
  assert.deepEqual(diagnostics.map((d) => d.message.match(/^field '([^']+)'/)?.[1]), ['spec.http[0].retries', 'spec.http[0].fault', 'spec.tcp']);
  assert.deepEqual(resource?.spec.http[0].extra, { retries: { attempts: 3, perTryTimeout: '2s' }, fault: { abort: { httpStatus: 500, percentage: { value: 10 } } } });
});

test('VirtualService: every HTTPRoute and HTTPMatchRequest field of Istio is known (warning, never unknown)', () => {
  const rule = {
    name: 'all',
    match: [{
      name: 'm', uri: { exact: '/' }, scheme: { exact: 'https' }, method: { exact: 'GET' }, authority: { prefix: 'a' },
      headers: { a: { regex: 'x' } }, withoutHeaders: { b: {} }, queryParams: { q: { exact: '' } }, ignoreUriCase: false, port: 80,
      sourceLabels: { app: 'x' }, sourceNamespace: 'default', gateways: ['mesh'], statPrefix: 's',
    }],
    route: [{ destination: { host: 'reviews' }, headers: { request: { set: { a: 'b' }, add: { c: 'd' }, remove: ['e'] }, response: {} } }],
    rewrite: { uri: '/', authority: 'x' },
    timeout: '1.5s',
    retries: { attempts: 2, perTryTimeout: '1s', retryOn: '5xx', retryRemoteLocalities: true, retryIgnorePreviousHosts: true, backoff: '25ms' },
    fault: { delay: { percent: 5, fixedDelay: '1s', percentage: { value: 1.5 } }, abort: { grpcStatus: 'UNAVAILABLE', percentage: { value: 1 } } },
    mirror: { host: 'm', subset: 'v1', port: { number: 80 } },
    mirrors: [{ destination: { host: 'm' }, percentage: { value: 50 } }],
    mirrorPercent: 10,
    mirrorPercentage: { value: 10 },
    corsPolicy: { allowOrigin: ['*'], allowOrigins: [{ exact: 'https://a' }], allowMethods: ['GET'], allowHeaders: ['x'], exposeHeaders: ['y'], maxAge: '24h', allowCredentials: true, unmatchedPreflights: 'IGNORE' },
    headers: { request: { set: { a: 'b' } } },
  };
  const redirectRule = { redirect: { uri: '/v2', authority: 'a', derivePort: 'FROM_REQUEST_PORT', scheme: 'https', redirectCode: 308, prefixRewrite: '/p' } };
  const directRule = { directResponse: { status: 503, body: { string: 'down' } } };
  const delegateRule = { delegate: { name: 'd', namespace: 'n' } };
  const tls = [{ match: [{ sniHosts: ['a.com'], destinationSubnets: ['1.2.3.4/32'], port: 443, sourceLabels: { a: 'b' }, gateways: ['g'], sourceNamespace: 'n' }], route: [{ destination: { host: 'a' }, weight: 100 }] }];
  const tcp = [{ match: [{ destinationSubnets: ['1.2.3.4'], port: 3306, sourceSubnet: '1.2.3.4', sourceLabels: { a: 'b' }, gateways: ['g'], sourceNamespace: 'n' }], route: [{ destination: { host: 'db' } }] }];
  const { diagnostics } = loadObject('VirtualService', vs({ gateways: ['mesh'], exportTo: ['.'], http: [rule, redirectRule, directRule, delegateRule], tls, tcp }));
  assert.deepEqual(diagnostics.filter((d) => d.severity === 'error').map((d) => d.message), []);
  assert.ok(diagnostics.every((d) => d.code === 'unsupported-field'));
  // Match fields Strait implements (scheme, authority, withoutHeaders, queryParams, port,
  // sourceLabels, sourceNamespace, gateways) give none; headers.regex and statPrefix still warn.
  assert.equal(diagnostics.length, 18);
});

test('VirtualService: StringMatch needs exactly one of exact/prefix/regex; uri regex is unsupported but kept', () => {
  assert.deepEqual(loadObject('VirtualService', vs({ http: [{ match: [{ uri: {} }], route: [dest('reviews')] }] })).codes, ['error:one-of']);
  const r = loadObject('VirtualService', vs({ http: [{ match: [{ uri: { regex: '^/v[0-9]+' } }], route: [dest('reviews')] }] }));
  assert.deepEqual(r.codes, ['warning:unsupported-field']);
  assert.deepEqual(r.resource?.spec.http[0].match[0].uri, { regex: '^/v[0-9]+' });
});

test('VirtualService weights: total 0 is an error, a sum other than 100 a warning, one destination needs none', () => {
  const rule = (route: unknown[]) => vs({ http: [{ route }] });
  assert.deepEqual(loadObject('VirtualService', rule([dest('a')])).codes, []);
  assert.deepEqual(loadObject('VirtualService', rule([dest('a', 80), dest('b', 20)])).codes, []);
  assert.deepEqual(loadObject('VirtualService', rule([dest('a'), dest('b')])).codes, ['error:invalid-weights']);
  const off = loadObject('VirtualService', rule([dest('a', 50), dest('b', 60)]));
  assert.deepEqual(off.codes, ['warning:weights-not-100']);
  assert.ok(off.resource, 'a relative split is valid Istio, so the resource loads');
  assert.deepEqual(loadObject('VirtualService', rule([dest('a', 100), dest('b')])).codes, ['warning:zero-weight']);
  assert.deepEqual(loadObject('VirtualService', rule([dest('a', -1)])).codes, ['error:invalid-value']);
});

test('VirtualService: a rule needs exactly one action', () => {
  assert.deepEqual(loadObject('VirtualService', vs({ http: [{ name: 'nothing' }] })).codes, ['error:missing-field']);
  const both = loadObject('VirtualService', vs({ http: [{ route: [dest('a')], redirect: { uri: '/x' } }] }));
  assert.deepEqual(both.codes, ['warning:unsupported-field', 'error:conflict']);
});

test('VirtualService: * host is refused for the mesh; no hosts means a delegate (warning)', () => {
  assert.deepEqual(loadObject('VirtualService', vs({ hosts: ['*'], http: [{ route: [dest('a')] }] })).codes, ['error:invalid-value']);
  assert.deepEqual(loadObject('VirtualService', vs({ hosts: ['*'], gateways: ['gw'], http: [{ route: [dest('a')] }] })).codes, []);
  assert.deepEqual(loadObject('VirtualService', vs({ hosts: [], http: [{ route: [dest('a')] }] })).codes, ['warning:delegate-virtual-service']);
});

// ---- field status table ---------------------------------------------------------------------

test('the field-status table lists every field with its status, inheriting unsupported downwards', () => {
  const rows = fieldStatusTable();
  const status = (kind: string, p: string) => rows.find((r) => r.kind === kind && r.path === p)?.status;
  assert.equal(status('Deployment', 'spec.template.spec.containers[].imagePullPolicy'), 'ignored');
  assert.equal(status('Deployment', 'spec.template.spec.containers[].env[].valueFrom'), 'unsupported');
  assert.equal(status('Deployment', 'spec.replicas'), 'supported');
  assert.equal(status('VirtualService', 'spec.http[].match[].uri.regex'), 'unsupported');
  assert.equal(status('VirtualService', 'spec.http[].retries.attempts'), 'unsupported');
  assert.equal(status('VirtualService', 'spec.http[].match[].headers{}.prefix'), 'supported');
  assert.equal(status('Gateway', 'spec.servers[].tls.mode'), 'unsupported');
  assert.equal(status('Namespace', 'metadata.uid'), 'ignored');
  assert.equal(new Set(rows.map((r) => `${r.kind} ${r.path}`)).size, rows.length);
});
