// The authorization-bypass corpus (hardening-and-deps.md, robustness test 4; AZ-07, AZ-08, AZ-11)
// against a real proxy on loopback, with raw sockets so every request target is sent verbatim.
// The RBAC filters are exactly what the control plane writes for Istio-style policies:
//
//   deny:   DENY  to.operation.paths ["/admin", "/admin/*"]
//   allow:  ALLOW to.operation.paths ["/public/*"]
//
// each behind an HTTP connection manager configured as MeshConfig pathNormalization says
// (BASE is Istio's default), plus Envoy's stricter switches where Istio has none. A recording
// upstream stands for the workload. Every row asserts the status the client gets and exactly what
// the upstream received; then, reading that path the way a lenient servlet-style backend would
// (drop `;` parameters, decode once, `\` as `/`, merge slashes, resolve dot segments), it asserts
// the backend was not handed a resource the policy protects.
//
// Rows marked `gap` are requests Envoy itself lets through under that setting (Strait matches
// Envoy, so they pass here too): the row documents the bypass, and a row on a stricter listener
// shows the setting that closes it, where Envoy has one. Case is never folded (RFC 3986 paths are case-sensitive; a
// case-insensitive backend must not rely on path rules, as Istio's security best practices say).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { PathNormalizationType } from '../../src/config/types.js';
import { pathNormalizationFields } from '../../src/controlplane/generate/common.js';
import { authzHttpFilters } from '../../src/controlplane/generate/security/authz-builder.js';
import type { AuthzPolicies, AuthzPolicy } from '../../src/controlplane/generate/security/authz-builder.js';
import { ROUTER_FILTER_NAME, ROUTER_TYPE } from '../../src/xds/resources.js';
import type { HttpConnectionManager, Listener, Route } from '../../src/xds/resources.js';
import { startUpstream } from '../helpers/http.js';
import type { TestUpstream } from '../helpers/http.js';
import { httpChain, startStaticProxy, staticCluster } from '../helpers/proxy.js';
import type { RunningProxy } from '../helpers/proxy.js';
import { rawExchange, rawGet } from '../helpers/raw-http.js';

const policy = (name: string, action: 'ALLOW' | 'DENY', paths: string[]): AuthzPolicy => ({ name, namespace: 'foo', action, dryRun: false, rules: [{ to: [{ operation: { paths } }] }] });
const DENY_ADMIN = policy('deny-admin', 'DENY', ['/admin', '/admin/*']);
const ALLOW_PUBLIC = policy('allow-public', 'ALLOW', ['/public/*']);
const NONE: AuthzPolicies = { custom: [], deny: [], allow: [], audit: [] };

interface Setup {
  readonly policies: AuthzPolicies;
  readonly mode: PathNormalizationType;
  readonly hcm?: Partial<HttpConnectionManager>;
  readonly ignorePathParameters?: boolean;
  /** Whether a path a backend resolves to is one the policy protects. */
  readonly protects: (backendPath: string) => boolean;
}

const isAdmin = (p: string) => p === '/admin' || p.startsWith('/admin/');
const notPublic = (p: string) => !p.startsWith('/public/');
const deny = (mode: PathNormalizationType, extra: Partial<Setup> = {}): Setup => ({ policies: { ...NONE, deny: [DENY_ADMIN] }, mode, protects: isAdmin, ...extra });
const allow = (mode: PathNormalizationType): Setup => ({ policies: { ...NONE, allow: [ALLOW_PUBLIC] }, mode, protects: notPublic });

const SETUPS = {
  'deny/BASE': deny('BASE'),
  'deny/MERGE_SLASHES': deny('MERGE_SLASHES'),
  'deny/DECODE_AND_MERGE_SLASHES': deny('DECODE_AND_MERGE_SLASHES'),
  'deny/BASE+REJECT_REQUEST': deny('BASE', { hcm: { pathWithEscapedSlashesAction: 'REJECT_REQUEST' } }),
  'deny/BASE+UNESCAPE_AND_REDIRECT': deny('BASE', { hcm: { pathWithEscapedSlashesAction: 'UNESCAPE_AND_REDIRECT' } }),
  'deny/BASE+ignore_path_parameters': deny('BASE', { ignorePathParameters: true }),
  'allow/NONE': allow('NONE'),
  'allow/BASE': allow('BASE'),
  'allow/DECODE_AND_MERGE_SLASHES': allow('DECODE_AND_MERGE_SLASHES'),
} satisfies Record<string, Setup>;
type SetupName = keyof typeof SETUPS;

interface Row {
  readonly on: SetupName;
  readonly target: string;
  readonly status: number;
  /** What the upstream received; absent when nothing may reach it. */
  readonly upstream?: string;
  /** A bypass Envoy has under this setting too: why, and which row closes it. */
  readonly gap?: string;
  readonly headers?: readonly string[];
  readonly location?: string;
}

const ROWS: Row[] = [
  // deny, BASE (Istio's default)
  { on: 'deny/BASE', target: '/admin', status: 403 },
  { on: 'deny/BASE', target: '/admin/', status: 403 },
  { on: 'deny/BASE', target: '/admin/users', status: 403 },
  { on: 'deny/BASE', target: '/admin?x', status: 403 },
  { on: 'deny/BASE', target: '/admin#x', status: 403 },
  { on: 'deny/BASE', target: '/./admin', status: 403 },
  { on: 'deny/BASE', target: '/%2e/admin', status: 403 },
  { on: 'deny/BASE', target: '/public/../admin', status: 403 },
  { on: 'deny/BASE', target: '/public/%2e%2e/admin', status: 403 },
  { on: 'deny/BASE', target: '/%2e%2e/admin', status: 403 },
  { on: 'deny/BASE', target: '/.%2e/admin', status: 403 },
  { on: 'deny/BASE', target: '/admin/%2e%2e/admin', status: 403 },
  { on: 'deny/BASE', target: '/admin/.', status: 403 },
  { on: 'deny/BASE', target: '/admin//', status: 403 },
  { on: 'deny/BASE', target: '/%61dmin', status: 403 },
  { on: 'deny/BASE', target: '/%41%44%4d%49%4e/../%61%64%6D%69%6E', status: 403 },
  { on: 'deny/BASE', target: '/public\\..\\admin', status: 403 },
  { on: 'deny/BASE', target: '/..;/admin', status: 403 },
  { on: 'deny/BASE', target: '/public/..;x=1/admin', status: 403 },
  { on: 'deny/BASE', target: '/public/%2e%2e;/admin', status: 403 },
  { on: 'deny/BASE', target: '/admin%00', status: 400 },
  { on: 'deny/BASE', target: 'http://app.test/admin', status: 403 },
  { on: 'deny/BASE', target: '/admin', status: 400, headers: ['Host: other.test'] },
  { on: 'deny/BASE', target: '/ADMIN', status: 200, upstream: '/ADMIN' },
  { on: 'deny/BASE', target: '/admin/..', status: 200, upstream: '/' },
  { on: 'deny/BASE', target: '/%2561dmin', status: 200, upstream: '/%2561dmin' },
  { on: 'deny/BASE', target: '/admin%3Bx=1', status: 200, upstream: '/admin%3Bx=1' },
  { on: 'deny/BASE', target: '/admin.json', status: 200, upstream: '/admin.json' },
  { on: 'deny/BASE', target: '//admin', status: 200, upstream: '//admin', gap: 'BASE keeps `//`; MERGE_SLASHES closes it' },
  { on: 'deny/BASE', target: '/\\admin', status: 200, upstream: '//admin', gap: '`\\` becomes `/` but `//` stays; MERGE_SLASHES closes it' },
  { on: 'deny/BASE', target: 'http://app.test//admin', status: 200, upstream: '//admin', gap: 'as `//admin`' },
  { on: 'deny/BASE', target: '/admin%2F', status: 200, upstream: '/admin%2F', gap: 'escaped slashes are kept; DECODE_AND_MERGE_SLASHES or REJECT_REQUEST close it' },
  { on: 'deny/BASE', target: '/%2Fadmin', status: 200, upstream: '/%2Fadmin', gap: 'escaped slashes are kept' },
  { on: 'deny/BASE', target: '/admin%5c', status: 200, upstream: '/admin%5c', gap: 'escaped backslashes are kept' },
  { on: 'deny/BASE', target: '/public/..%2Fadmin', status: 200, upstream: '/public/..%2Fadmin', gap: '`..%2F` is not a dot segment until the slash is decoded' },
  { on: 'deny/BASE', target: '/admin;x=1', status: 200, upstream: '/admin;x=1', gap: 'Envoy never strips `;` parameters; ignore_path_parameters_in_path_matching closes it' },
  { on: 'deny/BASE', target: '/admin;x=1/users', status: 200, upstream: '/admin;x=1/users', gap: 'as `/admin;x=1`' },

  // the stricter settings close the BASE gaps
  { on: 'deny/MERGE_SLASHES', target: '//admin', status: 403 },
  { on: 'deny/MERGE_SLASHES', target: '/\\admin', status: 403 },
  { on: 'deny/MERGE_SLASHES', target: '/app//../admin', status: 200, upstream: '/app/admin' },
  { on: 'deny/MERGE_SLASHES', target: '/admin%2F', status: 200, upstream: '/admin%2F', gap: 'MERGE_SLASHES does not decode `%2F`' },
  { on: 'deny/DECODE_AND_MERGE_SLASHES', target: '/admin%2F', status: 403 },
  { on: 'deny/DECODE_AND_MERGE_SLASHES', target: '/%2Fadmin', status: 403 },
  { on: 'deny/DECODE_AND_MERGE_SLASHES', target: '/admin%5c', status: 403 },
  { on: 'deny/DECODE_AND_MERGE_SLASHES', target: '/public/..%2Fadmin', status: 403 },
  { on: 'deny/DECODE_AND_MERGE_SLASHES', target: '/%5Cadmin%5Cx', status: 403 },
  { on: 'deny/DECODE_AND_MERGE_SLASHES', target: '//admin', status: 403 },
  { on: 'deny/DECODE_AND_MERGE_SLASHES', target: '/public%2Fx', status: 200, upstream: '/public/x' },
  { on: 'deny/BASE+REJECT_REQUEST', target: '/admin%2F', status: 400 },
  { on: 'deny/BASE+REJECT_REQUEST', target: '/public/..%5Cadmin', status: 400 },
  { on: 'deny/BASE+REJECT_REQUEST', target: '/public?next=%2Fadmin', status: 200, upstream: '/public?next=%2Fadmin' },
  { on: 'deny/BASE+UNESCAPE_AND_REDIRECT', target: '/admin%2Fusers?x=1', status: 307, location: '/admin/users?x=1' },
  { on: 'deny/BASE+UNESCAPE_AND_REDIRECT', target: '/public/..%2fadmin', status: 307, location: '/admin' },
  { on: 'deny/BASE+ignore_path_parameters', target: '/admin;x=1', status: 403 },
  { on: 'deny/BASE+ignore_path_parameters', target: '/admin;x=1/users;y=2', status: 403 },
  {
    on: 'deny/BASE+ignore_path_parameters',
    target: '/;x/admin',
    status: 200,
    upstream: '/;x/admin',
    gap: 'a segment of parameters only leaves `//admin` for RBAC, which merge_slashes (applied before) never sees; no Envoy setting closes it',
  },

  // allow /public/* (everything else is denied: the attacks aim to reach /admin through it)
  { on: 'allow/BASE', target: '/public/index.html', status: 200, upstream: '/public/index.html' },
  { on: 'allow/BASE', target: '/public/a?/../admin', status: 200, upstream: '/public/a?/../admin' },
  { on: 'allow/BASE', target: '/public/a#/../../admin', status: 200, upstream: '/public/a' },
  { on: 'allow/BASE', target: '/admin', status: 403 },
  { on: 'allow/BASE', target: '/public', status: 403 },
  { on: 'allow/BASE', target: '/PUBLIC/x', status: 403 },
  { on: 'allow/BASE', target: '//public/x', status: 403 },
  { on: 'allow/BASE', target: '/public/../admin', status: 403 },
  { on: 'allow/BASE', target: '/public/./../admin', status: 403 },
  { on: 'allow/BASE', target: '/public/%2e%2e/admin', status: 403 },
  { on: 'allow/BASE', target: '/public/%2E%2e/admin', status: 403 },
  { on: 'allow/BASE', target: '/public/.%2e/admin', status: 403 },
  { on: 'allow/BASE', target: '/public\\..\\admin', status: 403 },
  { on: 'allow/BASE', target: '/public/..\\admin', status: 403 },
  { on: 'allow/BASE', target: '/public/..;/admin', status: 403 },
  { on: 'allow/BASE', target: '/public/%2e%2e;/admin', status: 403 },
  { on: 'allow/BASE', target: '/public;x=1/../admin', status: 403 },
  { on: 'allow/BASE', target: '/public/x/../../admin', status: 403 },
  { on: 'allow/BASE', target: '/public/%252e%252e/admin', status: 200, upstream: '/public/%252e%252e/admin' },
  { on: 'allow/BASE', target: '/public/..%2Fadmin', status: 200, upstream: '/public/..%2Fadmin', gap: 'escaped slashes are kept; DECODE_AND_MERGE_SLASHES closes it' },
  { on: 'allow/BASE', target: '/public/%2e%2e%2fadmin', status: 200, upstream: '/public/..%2fadmin', gap: 'as `..%2F`' },
  { on: 'allow/BASE', target: '/public/..%5cadmin', status: 200, upstream: '/public/..%5cadmin', gap: 'escaped backslashes are kept' },
  { on: 'allow/DECODE_AND_MERGE_SLASHES', target: '/public/..%2Fadmin', status: 403 },
  { on: 'allow/DECODE_AND_MERGE_SLASHES', target: '/public/%2e%2e%2fadmin', status: 403 },
  { on: 'allow/DECODE_AND_MERGE_SLASHES', target: '/public/..%5cadmin', status: 403 },
  { on: 'allow/DECODE_AND_MERGE_SLASHES', target: '/public//x', status: 200, upstream: '/public/x' },
  { on: 'allow/NONE', target: '/public/../admin', status: 200, upstream: '/public/../admin', gap: 'NONE does not normalise at all; BASE closes it' },
  { on: 'allow/NONE', target: '/public/x#y', status: 200, upstream: '/public/x' },
];

/** How a lenient servlet-style backend reads a path: `;` params, one decode, `\`, `//`, dot segments. */
function backendView(url: string): string {
  let p = url.split(/[?#]/)[0]!;
  p = p.split('/').map((s) => s.split(';')[0]!).join('/');
  p = p.replace(/%([0-9a-fA-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
  p = p.replace(/\\/g, '/').replace(/\/{2,}/g, '/');
  const out: string[] = [];
  for (const seg of p.split('/').slice(1)) {
    if (seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  return `/${out.join('/')}`;
}

let upstream: TestUpstream;
let proxy: RunningProxy;

before(async () => {
  upstream = await startUpstream();
  const listeners: Listener[] = Object.entries(SETUPS).map(([name, s]) => {
    const routes: Route[] = [{ name: 'all', match: { prefix: '/' }, route: { cluster: 'app', timeout: '0s' } }];
    const statPrefix = name.replace(/[^a-zA-Z0-9]+/g, '_');
    const setup: Setup = s;
    const hcm: Partial<HttpConnectionManager> = {
      httpFilters: [...authzHttpFilters(setup.policies, ['cluster.local']), { name: ROUTER_FILTER_NAME, typedConfig: { '@type': ROUTER_TYPE } }],
      ...pathNormalizationFields(setup.mode),
      ...setup.hcm,
      routeConfig: { name: statPrefix, virtualHosts: [{ name: 'app', domains: ['app.test'], routes }], ...(setup.ignorePathParameters ? { ignorePathParametersInPathMatching: true } : {}) },
    };
    return { name, address: { socketAddress: { address: '127.0.0.1', portValue: 0 } }, filterChains: [httpChain(statPrefix, routes, hcm)] };
  });
  proxy = await startStaticProxy(listeners, [staticCluster('app', upstream.port)]);
});

after(async () => {
  await proxy.stop();
  await upstream.close();
});

test('backendView reads paths the way the corpus assumes', () => {
  assert.equal(backendView('/public/..%2Fadmin'), '/admin');
  assert.equal(backendView('/admin;x=1/users?q'), '/admin/users');
  assert.equal(backendView('//admin'), '/admin');
  assert.equal(backendView('/%2561dmin'), '/%61dmin');
  assert.equal(backendView('/admin%3Bx=1'), '/admin;x=1');
});

for (const row of ROWS) {
  const what = row.gap ? `${row.status}, upstream ${row.upstream} (documented gap: ${row.gap})` : row.upstream ? `${row.status}, upstream ${row.upstream}` : `${row.status}, upstream sees nothing`;
  test(`${row.on}: ${JSON.stringify(row.target)} → ${what}`, async () => {
    const setup: Setup = SETUPS[row.on];
    const seen = upstream.requests.length;
    const r = row.headers ? await rawExchange(proxy.port(row.on), Buffer.from(`GET ${row.target} HTTP/1.1\r\nHost: app.test\r\n${row.headers.join('\r\n')}\r\nConnection: close\r\n\r\n`, 'latin1')) : await rawGet(proxy.port(row.on), row.target);
    assert.equal(r.status, row.status, `status (details ${r.headers['x-strait-details']})`);
    if (row.status === 403) {
      assert.equal(r.body, 'RBAC: access denied');
      assert.match(r.headers['x-strait-details'] ?? '', /^rbac_access_denied_matched_policy\[/);
    }
    if (row.status === 400 && !row.headers) assert.equal(r.headers['x-strait-details'], 'path_normalization_failed');
    if (row.location) assert.equal(r.headers.location, row.location);
    const got = upstream.requests.slice(seen).map((q) => q.url);
    assert.deepEqual(got, row.upstream === undefined ? [] : [row.upstream], 'what the upstream received');
    for (const url of got) {
      const resolved = backendView(url);
      if (row.gap) assert.ok(setup.protects(resolved), `the documented gap: a lenient backend reads ${url} as ${resolved}`);
      else assert.ok(!setup.protects(resolved), `a lenient backend reads ${url} as ${resolved}, which the policy protects`);
    }
  });
}

test('stats: refused and redirected normalisations are counted per connection manager', () => {
  const text = proxy.proxy.stats.envoyText();
  const stat = (prefix: string, name: string) => text.split('\n').find((l) => l.startsWith(`http.${prefix}.${name}: `))?.split(': ')[1];
  assert.equal(stat('deny_BASE_REJECT_REQUEST', 'downstream_rq_failed_path_normalization'), '2');
  assert.equal(stat('deny_BASE_UNESCAPE_AND_REDIRECT', 'downstream_rq_redirected_with_normalized_path'), '2');
  assert.equal(stat('deny_BASE', 'downstream_rq_failed_path_normalization'), '1');
  assert.equal(stat('deny_BASE', 'rbac.denied'), String(ROWS.filter((r) => r.on === 'deny/BASE' && r.status === 403).length));
});
