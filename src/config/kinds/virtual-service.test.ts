import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { loadOne, loadText, yaml } from '../test-support.js';

const head = ['apiVersion: networking.istio.io/v1', 'kind: VirtualService', 'metadata: {name: r, namespace: bookinfo}', 'spec:', '  hosts: [reviews]', '  http:'];

/** A VirtualService whose http rules are written from line 7 on. */
const vsText = (...rules: string[]) => yaml(...head, ...rules);

const vs = (spec: Record<string, unknown>) =>
  stringify({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'r', namespace: 'bookinfo' }, spec: { hosts: ['reviews'], ...spec } });
const dest = (host: string, weight?: number) => ({ destination: { host }, ...(weight !== undefined ? { weight } : {}) });
const codes = (spec: Record<string, unknown>) => loadText(vs(spec)).codes;

test('VirtualService: matches and destinations are converted with their paths; gateways default to []', () => {
  const { resource, diagnostics } = loadOne(
    'VirtualService',
    vs({
      http: [
        {
          name: 'api',
          match: [{ uri: { prefix: '/api' }, method: { exact: 'GET' }, headers: { 'x-user': { exact: 'jason' }, 'x-debug': {} }, ignoreUriCase: true, statPrefix: 'api' }],
          route: [{ destination: { host: 'reviews', subset: 'v1', port: { number: 9080 } } }],
        },
      ],
    }),
  );
  assert.deepEqual(diagnostics, []);
  assert.deepEqual(resource.spec.gateways, []);
  assert.deepEqual(resource.spec.tcp, []);
  assert.deepEqual(resource.spec.tls, []);
  assert.deepEqual(resource.spec.http, [
    {
      name: 'api',
      match: [
        { uri: { prefix: '/api' }, method: { exact: 'GET' }, headers: { 'x-user': { exact: 'jason' }, 'x-debug': {} }, ignoreUriCase: true, statPrefix: 'api', path: ['spec', 'http', 0, 'match', 0] },
      ],
      route: [{ destination: { host: 'reviews', subset: 'v1', port: { number: 9080 } }, path: ['spec', 'http', 0, 'route', 0] }],
      mirrors: [],
      path: ['spec', 'http', 0],
    },
  ]);
});

test('VirtualService: every rule field is typed, with durations in ms and defaults applied', () => {
  const { resource, diagnostics } = loadOne(
    'VirtualService',
    vs({
      http: [
        {
          route: [{ destination: { host: 'reviews' }, headers: { request: { set: { 'x-a': 'b' } }, response: { remove: ['x-c'] } } }],
          rewrite: { uri: '/v2', authority: 'internal' },
          timeout: '1.5s',
          retries: { attempts: 3, perTryTimeout: '500ms', retryOn: 'gateway-error,connect-failure,503' },
          fault: { delay: { fixedDelay: '7s', percentage: { value: 100 } }, abort: { httpStatus: 500, percentage: { value: 10.5 } } },
          mirror: { host: 'mirror' },
          mirrorPercentage: { value: 50 },
          corsPolicy: { allowOrigins: [{ exact: 'https://a.example' }, { regex: 'https://.*\\.example' }], allowMethods: ['GET', 'POST'], maxAge: '24h', allowCredentials: true },
          headers: { response: { add: { 'x-served-by': 'strait' } } },
        },
      ],
    }),
  );
  assert.deepEqual(diagnostics, []);
  const rule = resource.spec.http[0];
  assert.deepEqual(rule.timeout, { ms: 1500, text: '1.5s' });
  assert.deepEqual(rule.retries, { attempts: 3, perTryTimeout: { ms: 500, text: '500ms' }, retryOn: 'gateway-error,connect-failure,503', retryRemoteLocalities: false, retryIgnorePreviousHosts: true });
  assert.deepEqual(rule.fault, { delay: { fixedDelay: { ms: 7000, text: '7s' }, percentage: { value: 100 } }, abort: { httpStatus: 500, percentage: { value: 10.5 } } });
  assert.deepEqual(rule.rewrite, { uri: '/v2', authority: 'internal' });
  assert.deepEqual(rule.mirror, { host: 'mirror' });
  assert.deepEqual(rule.mirrorPercentage, { value: 50 });
  assert.deepEqual(rule.corsPolicy, {
    allowOrigins: [{ exact: 'https://a.example' }, { regex: 'https://.*\\.example' }],
    allowMethods: ['GET', 'POST'],
    allowHeaders: [],
    exposeHeaders: [],
    maxAge: { ms: 86_400_000, text: '24h' },
    allowCredentials: true,
    unmatchedPreflights: 'FORWARD',
  });
  assert.deepEqual(rule.headers, { request: { set: {}, add: {}, remove: [] }, response: { set: {}, add: { 'x-served-by': 'strait' }, remove: [] } });
  assert.deepEqual(rule.route[0].headers, { request: { set: { 'x-a': 'b' }, add: {}, remove: [] }, response: { set: {}, add: {}, remove: ['x-c'] } });
});

test('VirtualService: redirect (default code 301), directResponse (bytes decoded), delegate (namespace defaulted)', () => {
  const { resource, diagnostics } = loadOne(
    'VirtualService',
    vs({
      gateways: ['gw'],
      http: [
        { match: [{ uri: { prefix: '/old' } }], redirect: { uri: '/new', derivePort: 'FROM_REQUEST_PORT', scheme: 'https' } },
        { match: [{ uri: { exact: '/down' } }], directResponse: { status: 503, body: { bytes: Buffer.from('down').toString('base64') } } },
        { match: [{ uri: { exact: '/teapot' } }], directResponse: { status: 418, body: { string: 'short and stout' } } },
        { match: [{ uri: { prefix: '/api' } }], delegate: { name: 'api' } },
      ],
    }),
  );
  assert.deepEqual(diagnostics, []);
  const [redirect, bytes, text, delegate] = resource.spec.http;
  assert.deepEqual(redirect.redirect, { uri: '/new', derivePort: 'FROM_REQUEST_PORT', scheme: 'https', redirectCode: 301 });
  assert.deepEqual(bytes.directResponse, { status: 503, body: { bytes: Buffer.from('down') } });
  assert.deepEqual(text.directResponse, { status: 418, body: { string: 'short and stout' } });
  assert.deepEqual(delegate.delegate, { name: 'api', namespace: 'bookinfo' });
});

test('VirtualService: deprecated spellings are folded into their replacements, with a warning', () => {
  const r = loadOne(
    'VirtualService',
    vs({
      http: [
        {
          route: [dest('reviews')],
          fault: { delay: { fixedDelay: '1s', percent: 20 } },
          mirror: { host: 'm' },
          mirrorPercent: 30,
          corsPolicy: { allowOrigin: ['https://a.example'] },
        },
      ],
    }),
  );
  assert.deepEqual(r.codes, ['warning:deprecated-field', 'warning:deprecated-field', 'warning:deprecated-field']);
  const rule = r.resource.spec.http[0];
  assert.deepEqual(rule.fault?.delay?.percentage, { value: 20 });
  assert.deepEqual(rule.mirrorPercentage, { value: 30 });
  assert.deepEqual(rule.corsPolicy?.allowOrigins, [{ exact: 'https://a.example' }]);
});

test('VirtualService: durations must be Istio durations of at least 1ms, to the millisecond', () => {
  const r = loadText(
    vsText(
      '  - route: [{destination: {host: reviews}}]', // 7
      '    timeout: 0.5ms', // 8
      '  - route: [{destination: {host: reviews}}]', // 9
      '    timeout: 10', // 10
      '  - route: [{destination: {host: reviews}}]', // 11
      '    timeout: 5 seconds', // 12
      '  - route: [{destination: {host: reviews}}]', // 13
      '    retries: {attempts: 2, perTryTimeout: 1.0001s}', // 14
    ),
  );
  assert.deepEqual(r.at, ['error:invalid-value@8:14', 'error:wrong-type@10:14', 'error:invalid-value@12:14', 'error:invalid-value@14:43']);
  assert.match(r.diagnostics[0].message, /too short: the duration must be at least 1ms/);
  assert.equal(r.diagnostics[1].fix, 'add the unit: "10s"');
  assert.match(r.diagnostics[3].message, /finer than a millisecond/);
  assert.deepEqual(r.resources, []);
});

test('VirtualService: a regex that RE2 does not compile is an error at the regex, with RE2\'s reason', () => {
  const r = loadText(
    vsText(
      '  - match:', // 7
      '    - uri:', // 8
      '        regex: "/(?=api)"', // 9
      '    - headers:', // 10
      '        x-id: {regex: "[0-9"}', // 11
      '    route: [{destination: {host: reviews}}]',
    ),
  );
  assert.deepEqual(r.at, ['error:invalid-regex@9:16', 'error:invalid-regex@11:23']);
  assert.match(r.diagnostics[0].message, /invalid regex "\/\(\?=api\)"/);
  assert.match(r.diagnostics[0].message, /Istio uses RE2 syntax/);
  const ok = loadOne('VirtualService', vs({ http: [{ match: [{ uri: { regex: '/v[0-9]+/.*' }, queryParams: { id: { regex: '\\d+' } } }], route: [dest('reviews')] }] }));
  assert.deepEqual(ok.diagnostics, []);
  assert.deepEqual(ok.resource.spec.http[0].match[0].uri, { regex: '/v[0-9]+/.*' });
});

test('VirtualService: StringMatch needs exactly one of exact/prefix/regex (a header match may be empty)', () => {
  assert.deepEqual(codes({ http: [{ match: [{ uri: {} }], route: [dest('reviews')] }] }), ['error:one-of']);
  assert.deepEqual(codes({ http: [{ match: [{ uri: { exact: '/', prefix: '/' } }], route: [dest('reviews')] }] }), ['error:one-of']);
  assert.deepEqual(codes({ http: [{ match: [{ headers: { a: {} }, withoutHeaders: { b: {} } }], route: [dest('reviews')] }] }), []);
});

test('VirtualService: @request.auth.claims.<claim> header keys (routing on JWT claims) are accepted; other @ keys are not', () => {
  assert.deepEqual(codes({ http: [{ match: [{ headers: { '@request.auth.claims.groups': { exact: 'group1' } }, withoutHeaders: { '@request.auth.claims.nested.key': {} } }], route: [dest('reviews')] }] }), []);
  assert.deepEqual(codes({ http: [{ match: [{ headers: { '@request.auth.claims.': { exact: 'x' } } }], route: [dest('reviews')] }] }), ['error:invalid-key']);
  assert.deepEqual(codes({ http: [{ match: [{ headers: { '@request.auth.claims.a..b': { exact: 'x' } } }], route: [dest('reviews')] }] }), ['error:invalid-key']);
  assert.deepEqual(codes({ http: [{ match: [{ headers: { '@source.ip': { exact: 'x' } } }], route: [dest('reviews')] }] }), ['error:invalid-key']);
});

test('VirtualService: a rule needs exactly one action; rewrite and fault never with redirect', () => {
  const r = loadText(
    vsText(
      '  - name: nothing', // 7
      '  - route: [{destination: {host: reviews}}]', // 8
      '    redirect: {uri: /x}', // 9
      '  - redirect: {uri: /x}', // 10
      '    rewrite: {uri: /y}', // 11
      '    fault: {abort: {httpStatus: 500, percentage: {value: 1}}}', // 12
    ),
  );
  assert.deepEqual(r.at, ['error:missing-field@7:5', 'error:conflict@9:5', 'error:conflict@11:5', 'error:conflict@12:5']);
});

test('VirtualService: redirect, rewrite and directResponse follow Istio\'s rules', () => {
  assert.deepEqual(codes({ gateways: ['g'], http: [{ redirect: {} }] }), ['error:missing-field']);
  assert.deepEqual(codes({ gateways: ['g'], http: [{ redirect: { uri: '/a', redirectCode: 200 } }] }), ['error:invalid-value']);
  assert.deepEqual(codes({ gateways: ['g'], http: [{ redirect: { scheme: 'ftp' } }] }), ['error:invalid-value']);
  assert.deepEqual(codes({ gateways: ['g'], http: [{ redirect: { port: 8443, derivePort: 'FROM_REQUEST_PORT' } }] }), ['error:one-of']);
  assert.deepEqual(codes({ http: [{ route: [dest('a')], rewrite: {} }] }), ['error:missing-field']);
  assert.deepEqual(codes({ http: [{ route: [dest('a')], rewrite: { uri: '/', uriRegexRewrite: { match: '^/a', rewrite: '/b' } } }] }), ['error:one-of']);
  assert.deepEqual(codes({ http: [{ route: [dest('a')], rewrite: { uriRegexRewrite: { match: '(', rewrite: '/b' } } }] }), ['error:invalid-regex']);
  assert.deepEqual(codes({ http: [{ directResponse: { status: 99 } }] }), ['error:invalid-value']);
  assert.deepEqual(codes({ http: [{ directResponse: { status: 200, body: { string: 'a', bytes: 'Yg==' } } }] }), ['error:one-of']);
  assert.deepEqual(codes({ http: [{ directResponse: { status: 200, body: { string: 'x'.repeat(200 * 1024) } } }] }), ['warning:large-direct-response']);
  // Istio: the authority is rewritten in one place only.
  assert.deepEqual(codes({ http: [{ route: [dest('a')], rewrite: { authority: 'x' }, headers: { request: { set: { host: 'y' } } } }] }), ['error:conflict']);
});

test('VirtualService: retries follow Istio\'s rules (attempts >= 0, retryOn words, nothing else when attempts is 0)', () => {
  const r = loadText(
    vsText(
      '  - route: [{destination: {host: reviews}}]', // 7
      '    retries:', // 8
      '      attempts: 0', // 9
      '      perTryTimeout: 1s', // 10
      '  - route: [{destination: {host: reviews}}]', // 11
      '    retries: {attempts: 2, retryOn: "5xx, reset"}', // 12
      '  - route: [{destination: {host: reviews}}]', // 13
      '    retries: {attempts: -1}', // 14
    ),
  );
  assert.deepEqual(r.at, ['error:conflict@10:7', 'error:invalid-value@12:37', 'error:invalid-value@14:25']);
  assert.match(r.diagnostics[1].message, /" reset" is not a valid retryOn policy/);
  assert.deepEqual(codes({ http: [{ route: [dest('a')], retries: { attempts: 1, retryOn: '555' } }] }), ['error:invalid-value']);
  assert.deepEqual(codes({ http: [{ route: [dest('a')], retries: { attempts: 1, retryOn: 'retriable-status-codes,429,unavailable' } }] }), []);
});

test('VirtualService: fault rules (one of delay/abort, no exponentialDelay or http2Error, gRPC status names)', () => {
  assert.deepEqual(codes({ http: [{ route: [dest('a')], fault: {} }] }), ['error:missing-field']);
  assert.deepEqual(codes({ http: [{ route: [dest('a')], fault: { delay: { exponentialDelay: '1s', percentage: { value: 1 } } } }] }), ['error:invalid-value']);
  assert.deepEqual(codes({ http: [{ route: [dest('a')], fault: { abort: { http2Error: 'CANCEL', percentage: { value: 1 } } } }] }), ['error:invalid-value']);
  assert.deepEqual(codes({ http: [{ route: [dest('a')], fault: { abort: { grpcStatus: 'NOPE', percentage: { value: 1 } } } }] }), ['error:invalid-value']);
  assert.deepEqual(codes({ http: [{ route: [dest('a')], fault: { delay: { fixedDelay: '1s', percentage: { value: 101 } } } }] }), ['error:invalid-value']);
  const grpc = loadOne('VirtualService', vs({ http: [{ route: [dest('a')], fault: { abort: { grpcStatus: 'UNAVAILABLE', percentage: { value: 5 } } } }] }));
  assert.deepEqual(grpc.resource.spec.http[0].fault?.abort, { grpcStatus: 'UNAVAILABLE', percentage: { value: 5 } });
  // Without a percentage nothing is injected: valid, but almost certainly a slip.
  assert.deepEqual(codes({ http: [{ route: [dest('a')], fault: { abort: { httpStatus: 503 } } }] }), ['warning:no-percentage']);
});

test('VirtualService: mirror and mirrors are exclusive; mirrors[] entries are typed with paths', () => {
  assert.deepEqual(codes({ http: [{ route: [dest('a')], mirror: { host: 'm' }, mirrors: [{ destination: { host: 'n' } }] }] }), ['error:conflict']);
  const r = loadOne('VirtualService', vs({ http: [{ route: [dest('a')], mirrors: [{ destination: { host: 'n', subset: 'v2' }, percentage: { value: 5 } }] }] }));
  assert.deepEqual(r.resource.spec.http[0].mirrors, [{ destination: { host: 'n', subset: 'v2' }, percentage: { value: 5 }, path: ['spec', 'http', 0, 'mirrors', 0] }]);
});

test('VirtualService: CORS rules (methods, header names, maxAge in whole seconds, non-empty origins)', () => {
  const cors = (corsPolicy: Record<string, unknown>) => codes({ http: [{ route: [dest('a')], corsPolicy }] });
  assert.deepEqual(cors({ allowMethods: ['FETCH'] }), ['error:invalid-value']);
  assert.deepEqual(cors({ allowHeaders: ['x y'] }), ['error:invalid-value']);
  assert.deepEqual(cors({ exposeHeaders: ['*'], allowHeaders: ['*'] }), []);
  assert.deepEqual(cors({ maxAge: '1500ms' }), ['error:invalid-value']);
  assert.deepEqual(cors({ allowOrigins: [{ exact: '' }] }), ['error:invalid-value']);
  assert.deepEqual(cors({ unmatchedPreflights: 'IGNORE' }), []);
});

test('VirtualService: header operations may set the authority on requests only, never touch host otherwise', () => {
  assert.deepEqual(codes({ http: [{ route: [dest('a')], headers: { request: { set: { ':authority': 'x' } } } }] }), []);
  assert.deepEqual(codes({ http: [{ route: [dest('a')], headers: { request: { remove: ['host'] } } }] }), ['error:invalid-value']);
  assert.deepEqual(codes({ http: [{ route: [dest('a')], headers: { response: { set: { ':status': '200' } } } }] }), ['error:invalid-key']);
});

test('VirtualService weights: total 0 is an error, a sum other than 100 a warning, one destination needs none', () => {
  const rule = (route: unknown[]) => ({ http: [{ route }] });
  assert.deepEqual(codes(rule([dest('a')])), []);
  assert.deepEqual(codes(rule([dest('a', 80), dest('b', 20)])), []);
  assert.deepEqual(codes(rule([dest('a'), dest('b')])), ['error:invalid-weights']);
  assert.deepEqual(codes(rule([dest('a', 50), dest('b', 60)])), ['warning:weights-not-100']);
  assert.deepEqual(codes(rule([dest('a', 100), dest('b')])), ['warning:zero-weight']);
  assert.deepEqual(codes(rule([dest('a', -1)])), ['error:invalid-value']);
});

test('VirtualService: hosts (* refused for the mesh, duplicates, IPs) and http/tcp/tls required', () => {
  assert.deepEqual(codes({ hosts: ['*'], http: [{ route: [dest('a')] }] }), ['error:invalid-value']);
  assert.deepEqual(codes({ hosts: ['*'], gateways: ['gw'], http: [{ route: [dest('a')] }] }), []);
  assert.deepEqual(codes({ hosts: ['a.example.com', 'A.example.com'], gateways: ['gw'], http: [{ route: [dest('a')] }] }), ['error:duplicate-value']);
  assert.deepEqual(codes({ hosts: ['*.example.com', 'a.example.com'], gateways: ['gw'], http: [{ route: [dest('a')] }] }), ['warning:overlapping-hosts']);
  assert.deepEqual(codes({ hosts: ['10.0.0.1'], http: [{ route: [dest('a')] }] }), []);
  assert.deepEqual(codes({ hosts: ['a.example.com:80'], http: [{ route: [dest('a')] }] }), ['error:invalid-value']);
  assert.deepEqual(codes({}), ['error:missing-field']);
  assert.deepEqual(codes({ exportTo: ['.', 'bookinfo'], http: [{ route: [dest('a')] }] }), ['error:duplicate-value']);
  assert.deepEqual(codes({ exportTo: ['*', 'other'], http: [{ route: [dest('a')] }] }), ['error:conflict']);
  assert.deepEqual(codes({ gateways: ['gw.istio-system'], http: [{ route: [dest('a')] }] }), ['warning:legacy-gateway-name']);
});

test('VirtualService delegation: a delegate (no hosts) cannot delegate again or match by regex; nor can a delegating rule', () => {
  const r = loadText(
    yaml(
      'apiVersion: networking.istio.io/v1',
      'kind: VirtualService',
      'metadata: {name: d, namespace: bookinfo}',
      'spec:',
      '  http:', // 5
      '  - match: [{uri: {regex: "/a.*"}}]', // 6
      '    route: [{destination: {host: reviews}}]',
      '  - delegate: {name: other}', // 8
    ),
  );
  assert.deepEqual(r.at, ['error:invalid-value@6:27', 'error:conflict@8:5']);
  assert.deepEqual(codes({ gateways: ['gw'], http: [{ match: [{ headers: { a: { regex: 'x' } } }], delegate: { name: 'd' } }] }), ['error:invalid-value']);
  assert.deepEqual(codes({ gateways: ['gw'], http: [{ route: [dest('a')], delegate: { name: 'd' } }] }), ['error:conflict']);
});

test('VirtualService tcp and tls rules are typed; SNI hosts must be within the VirtualService hosts (VS-25/26)', () => {
  const { resource, diagnostics } = loadOne(
    'VirtualService',
    vs({
      hosts: ['*.example.com'],
      gateways: ['gw'],
      tls: [{ match: [{ sniHosts: ['a.example.com'], port: 443, destinationSubnets: ['10.0.0.0/8'] }], route: [{ destination: { host: 'a' }, weight: 100 }] }],
      tcp: [{ match: [{ port: 31400, sourceSubnet: '10.1.0.0/16' }], route: [{ destination: { host: 'tcp-echo', port: { number: 9000 }, subset: 'v1' }, weight: 80 }, { destination: { host: 'tcp-echo', port: { number: 9000 }, subset: 'v2' }, weight: 20 }] }],
    }),
  );
  assert.deepEqual(diagnostics, []);
  assert.deepEqual(resource.spec.tls, [
    {
      match: [{ sniHosts: ['a.example.com'], destinationSubnets: ['10.0.0.0/8'], port: 443, path: ['spec', 'tls', 0, 'match', 0] }],
      route: [{ destination: { host: 'a' }, weight: 100, path: ['spec', 'tls', 0, 'route', 0] }],
      path: ['spec', 'tls', 0],
    },
  ]);
  assert.deepEqual(resource.spec.tcp[0].match, [{ destinationSubnets: [], port: 31400, sourceSubnet: '10.1.0.0/16', path: ['spec', 'tcp', 0, 'match', 0] }]);
  assert.equal(resource.spec.tcp[0].route[1].weight, 20);
  const sni = loadText(
    yaml(
      'apiVersion: networking.istio.io/v1',
      'kind: VirtualService',
      'metadata: {name: t}',
      'spec:',
      '  hosts: [a.example.com]',
      '  gateways: [gw]',
      '  tls:',
      '  - match: [{sniHosts: [b.example.com]}]', // 8
      '    route: [{destination: {host: a}}]',
      '  tcp:',
      '  - match: [{destinationSubnets: [10.0.0.0/33]}]', // 11
      '    route: []', // 12
    ),
  );
  assert.deepEqual(sni.at, ['error:invalid-value@11:35', 'error:invalid-value@12:5']);
  assert.deepEqual(codes({ hosts: ['a.example.com'], gateways: ['gw'], tls: [{ match: [{ sniHosts: ['b.example.com'] }], route: [dest('a')] }] }), ['error:invalid-value']);
  assert.deepEqual(codes({ hosts: ['a.example.com'], gateways: ['gw'], tls: [{ match: [], route: [dest('a')] }] }), ['error:invalid-value']);
});
