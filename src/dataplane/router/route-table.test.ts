import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RouteConfiguration } from '../../xds/resources.js';
import { ConfigError } from '../config/durations.js';
import { compileRouteConfiguration } from './route-table.js';

const route = (cluster: string) => [{ match: { prefix: '/' }, route: { cluster } }];

const rc: RouteConfiguration = {
  name: 'r',
  virtualHosts: [
    { name: 'exact', domains: ['api.example.com'], routes: route('exact') },
    { name: 'suffix-long', domains: ['*.dev.example.com'], routes: route('suffix-long') },
    { name: 'suffix', domains: ['*.example.com'], routes: route('suffix') },
    { name: 'dash', domains: ['*-bar.example.org'], routes: route('dash') },
    { name: 'prefix', domains: ['api.*'], routes: route('prefix') },
    { name: 'port', domains: ['shop.example.net:*'], routes: route('port') },
    { name: 'star', domains: ['*'], routes: route('star') },
  ],
};
const table = compileRouteConfiguration(rc);

for (const [host, vhost] of [
  ['api.example.com', 'exact'],
  ['API.Example.COM', 'exact'],
  ['a.dev.example.com', 'suffix-long'],
  ['dev.example.com', 'suffix'],
  ['x.y.example.com', 'suffix'],
  ['foo-bar.example.org', 'dash'],
  ['api.other.io', 'prefix'],
  ['shop.example.net:8080', 'port'],
  ['shop.example.net', 'star'],
  ['example.com', 'star'],
  ['-bar.example.org', 'star'],
] as const) {
  test(`domain search (Envoy order): ${host} → ${vhost}`, () => {
    assert.equal(table.findVirtualHost(host)?.name, vhost);
  });
}

test('without a * virtual host an unknown authority finds nothing', () => {
  const t = compileRouteConfiguration({ name: 'r', virtualHosts: [{ name: 'a', domains: ['a.com'], routes: route('a') }] });
  assert.equal(t.findVirtualHost('b.com'), undefined);
});

test('routes: first match wins; prefix sees the query, exact and separated prefix do not', () => {
  const t = compileRouteConfiguration({
    name: 'r',
    virtualHosts: [{
      name: 'v',
      domains: ['*'],
      routes: [
        { name: 'exact', match: { path: '/login' }, route: { cluster: 'a' } },
        { name: 'query-prefix', match: { prefix: '/search?q=' }, route: { cluster: 'b' } },
        { name: 'seg', match: { pathSeparatedPrefix: '/foo' }, route: { cluster: 'c' } },
        { name: 'ci', match: { prefix: '/CASE', caseSensitive: false }, route: { cluster: 'd' } },
        { name: 'hdr', match: { prefix: '/h', headers: [{ name: 'x-user', stringMatch: { exact: 'jason' } }, { name: 'x-debug', presentMatch: true, invertMatch: true }] }, route: { cluster: 'e' } },
        { name: 'qp', match: { prefix: '/q', queryParameters: [{ name: 'v', stringMatch: { prefix: '2' } }] }, route: { cluster: 'f' } },
        { name: 're', match: { safeRegex: { regex: '/v[0-9]+/items' } }, route: { cluster: 'g' } },
        { name: 'host-re', match: { prefix: '/r', headers: [{ name: ':authority', stringMatch: { safeRegex: { regex: '[^.]+\\.foo\\.com(:[0-9]+)?' } } }] }, route: { cluster: 'h' } },
        { name: 'catch', match: { prefix: '/' }, route: { cluster: 'z' } },
      ],
    }],
  });
  const m = (full: string, headers: Record<string, string> = {}) => {
    const qi = full.indexOf('?');
    return t.match('x', full, qi < 0 ? full : full.slice(0, qi), qi < 0 ? '' : full.slice(qi + 1), (n) => headers[n])?.route.name;
  };
  assert.equal(m('/login'), 'exact');
  assert.equal(m('/login?next=/'), 'exact');
  assert.equal(m('/login/x'), 'catch');
  assert.equal(m('/search?q=strait'), 'query-prefix');
  assert.equal(m('/foo'), 'seg');
  assert.equal(m('/foo/bar'), 'seg');
  assert.equal(m('/foobar'), 'catch');
  assert.equal(m('/case/x'), 'ci');
  assert.equal(m('/h', { 'x-user': 'jason' }), 'hdr');
  assert.equal(m('/h', { 'x-user': 'jason', 'x-debug': '1' }), 'catch');
  assert.equal(m('/h', { 'x-user': 'bob' }), 'catch');
  assert.equal(m('/q?v=2.1'), 'qp');
  assert.equal(m('/q?v=1'), 'catch');
  assert.equal(m('/v2/items?x=1'), 're');
  assert.equal(m('/v2/items/x'), 'catch');
  assert.equal(m('/r', { ':authority': 'a.foo.com:8080' }), 'host-re');
  assert.equal(m('/r', { ':authority': 'a.b.foo.com' }), 'catch');
});

test('invalid route configurations are rejected with the reason', () => {
  const bad = (r: RouteConfiguration, re: RegExp) => assert.throws(() => compileRouteConfiguration(r), (e: Error) => e instanceof ConfigError && re.test(e.message));
  bad({ name: 'r', virtualHosts: [{ name: 'a', domains: ['x.com'], routes: route('a') }, { name: 'b', domains: ['X.com'], routes: route('b') }] }, /appears in two virtual hosts/);
  bad({ name: 'r', virtualHosts: [{ name: 'a', domains: ['a.*.com'], routes: route('a') }] }, /wildcard in the middle/);
  bad({ name: 'r', virtualHosts: [{ name: 'a', domains: ['a.com'], routes: [{ match: { prefix: '/', path: '/' }, route: { cluster: 'a' } }] }] }, /exactly one of/);
  bad({ name: 'r', virtualHosts: [{ name: 'a', domains: ['a.com'], routes: [{ match: { prefix: '/' } }] }] }, /needs exactly one action/);
  bad({ name: 'r', virtualHosts: [{ name: 'a', domains: ['a.com'], routes: [{ match: { prefix: '/' }, route: { cluster: 'a', timeout: 'soon' } }] }] }, /invalid duration/);
  bad({ name: 'r', virtualHosts: [{ name: 'a', domains: ['a.com'], routes: [{ match: { safeRegex: { regex: '(a)\\1' } }, route: { cluster: 'a' } }] }] }, /invalid regex/);
});

test('route timeouts: unset is Envoy\'s 15 s, "0s" disables', () => {
  const t = compileRouteConfiguration({
    name: 'r',
    virtualHosts: [{ name: 'a', domains: ['*'], routes: [{ name: 'd', match: { prefix: '/d' }, route: { cluster: 'a' } }, { name: 'z', match: { prefix: '/' }, route: { cluster: 'a', timeout: '0s' } }] }],
  });
  assert.equal(t.match('x', '/d', '/d', '', () => undefined)?.route.timeoutMs, 15_000);
  assert.equal(t.match('x', '/z', '/z', '', () => undefined)?.route.timeoutMs, 0);
});

test('dynamic metadata matches (JWT claims): not set before filters ran, then string or list values, inverted too', () => {
  const claim = (invert?: boolean) => ({
    filter: 'envoy.filters.http.jwt_authn',
    path: [{ key: 'payload' }, { key: 'groups' }],
    value: { orMatch: { valueMatchers: [{ listMatch: { oneOf: { stringMatch: { exact: 'group1' } } } }, { stringMatch: { exact: 'group1' } }] } },
    ...(invert ? { invert: true } : {}),
  });
  const t = compileRouteConfiguration({
    name: 'claims',
    virtualHosts: [{ name: 'gw', domains: ['*'], routes: [
      { name: 'group1', match: { prefix: '/headers', dynamicMetadata: [claim()] }, route: { cluster: 'httpbin' } },
      { name: 'others', match: { prefix: '/headers', dynamicMetadata: [claim(true)] }, route: { cluster: 'elsewhere' } },
    ] }],
  });
  const none = () => undefined;
  const info = (payload: unknown) => ({ dynamicMetadata: { 'envoy.filters.http.jwt_authn': { payload } } }) as unknown as Parameters<typeof t.match>[5];
  assert.equal(t.match('gw', '/headers', '/headers', '', none)?.route.name, 'others', 'no metadata: the claim is not set, so only the inverted matcher holds');
  assert.equal(t.match('gw', '/headers', '/headers', '', none, info({ groups: ['group2', 'group1'] }))?.route.name, 'group1');
  assert.equal(t.match('gw', '/headers', '/headers', '', none, info({ groups: 'group1' }))?.route.name, 'group1');
  assert.equal(t.match('gw', '/headers', '/headers', '', none, info({ groups: ['group2'] }))?.route.name, 'others');
  assert.throws(() => compileRouteConfiguration({ name: 'bad', virtualHosts: [{ name: 'v', domains: ['*'], routes: [{ match: { prefix: '/', dynamicMetadata: [{ filter: '', path: [], value: {} }] }, route: { cluster: 'c' } }] }] }), ConfigError);
});

test('finding the virtual host does not scan the table: one route matcher runs at 10, 1,000 or 10,000 hosts (issue 7)', () => {
  // Each virtual host's single route counts its evaluations. Whatever the table size, routing
  // a request evaluates only the chosen host's routes (Envoy: domains by hash lookup, then the
  // host's routes in order) — no work proportional to the number of hosts.
  for (const n of [10, 1_000, 10_000]) {
    let evaluated = 0;
    const vhosts: RouteConfiguration['virtualHosts'] = [];
    for (let i = 0; i < n; i++) {
      const domains = i % 3 === 0 ? [`svc-${i}.ns.svc.cluster.local`, `svc-${i}.ns.svc.cluster.local:*`] : i % 3 === 1 ? [`*.zone-${i}.example.com`] : [`api-${i}.*`];
      vhosts.push({ name: `vh-${i}`, domains, routes: [{ name: `r-${i}`, match: { prefix: '/' }, route: { cluster: `c-${i}` } }] });
    }
    const t = compileRouteConfiguration({ name: 'big', virtualHosts: vhosts });
    for (const vh of t.vhostsForTest()) {
      for (const r of vh.routes) {
        const inner = r.matches;
        (r as { matches: typeof inner }).matches = (...args) => {
          evaluated++;
          return inner(...args);
        };
      }
    }
    // The last host of each kind (exact, suffix wildcard, prefix wildcard).
    const lastOf = (k: number) => {
      let i = n - 1;
      while (i % 3 !== k) i--;
      return i;
    };
    const [e, sfx, pfx] = [lastOf(0), lastOf(1), lastOf(2)];
    for (const [host, cluster] of [
      [`svc-${e}.ns.svc.cluster.local:8080`, `c-${e}`],
      [`a.b.zone-${sfx}.example.com`, `c-${sfx}`],
      [`api-${pfx}.example.org`, `c-${pfx}`],
    ] as const) {
      evaluated = 0;
      const m = t.match(host, '/x', '/x', '', () => undefined);
      assert.equal((m?.route.action as { cluster?: string } | undefined)?.cluster, cluster, `${n} hosts: ${host}`);
      assert.equal(evaluated, 1, `${n} hosts: ${host} evaluated ${evaluated} route matchers`);
    }
  }
});

test('a host with 10,000 routes tries only the routes whose path can match, and the same route wins as in order', () => {
  const routes: NonNullable<RouteConfiguration['virtualHosts']>[number]['routes'] = [];
  for (let i = 0; i < 10_000; i++) {
    const kind = i % 4;
    const match = kind === 0 ? { prefix: `/svc-${i}/` } : kind === 1 ? { path: `/exact-${i}` } : kind === 2 ? { pathSeparatedPrefix: `/seg-${i}` } : { prefix: `/svc-${i - 3}/deeper`, headers: [{ name: 'x-v', stringMatch: { exact: '2' } }] };
    routes.push({ name: `r-${i}`, match, route: { cluster: `c-${i}` } });
  }
  routes.push({ name: 'regex', match: { safeRegex: { regex: '/re/[0-9]+' } }, route: { cluster: 'regex' } });
  routes.push({ name: 'catch', match: { prefix: '/' }, route: { cluster: 'catch' } });
  const t = compileRouteConfiguration({ name: 'many', virtualHosts: [{ name: 'v', domains: ['*'], routes }] });
  let evaluated = 0;
  for (const vh of t.vhostsForTest()) {
    for (const r of vh.routes) {
      const inner = r.matches;
      (r as { matches: typeof inner }).matches = (...args) => {
        evaluated++;
        return inner(...args);
      };
    }
  }
  const m = (full: string, headers: Record<string, string> = {}) => {
    evaluated = 0;
    const qi = full.indexOf('?');
    const name = t.match('x', full, qi < 0 ? full : full.slice(0, qi), qi < 0 ? '' : full.slice(qi + 1), (n) => headers[n])?.route.name;
    return `${name} after ${evaluated}`;
  };
  // Keyed routes that can match, plus the two routes without a literal key (regex, catch-all).
  assert.equal(m('/svc-9996/x'), 'r-9996 after 1');
  assert.equal(m('/svc-9996/deeper?a=1', { 'x-v': '2' }), 'r-9996 after 1');
  assert.equal(m('/exact-9997?q'), 'r-9997 after 1');
  assert.equal(m('/exact-9997/no'), 'catch after 2');
  assert.equal(m('/seg-9998/a'), 'r-9998 after 1');
  assert.equal(m('/seg-99989'), 'catch after 3');
  assert.equal(m('/re/12'), 'regex after 1');
  assert.equal(m('/nothing'), 'catch after 2');
});

test('the route index picks the route the in-order scan picks', () => {
  // Overlapping prefixes, exact paths, separated prefixes, regexes, case-insensitive matches
  // and header conditions, in an order where earlier routes shadow later ones.
  const pieces = ['/a', '/a/b', '/a/b/c', '/ab', '/api', '/api/v1', '/API', '/x'];
  const routes: NonNullable<RouteConfiguration['virtualHosts']>[number]['routes'] = [];
  let seed = 7;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648) % n);
  for (let i = 0; i < 60; i++) {
    const p = pieces[rnd(pieces.length)]!;
    const kind = rnd(6);
    const match =
      kind === 0 ? { prefix: p } : kind === 1 ? { path: p } : kind === 2 ? { pathSeparatedPrefix: p } : kind === 3 ? { prefix: p, caseSensitive: false } : kind === 4 ? { safeRegex: { regex: `${p}.*` } } : { prefix: p, headers: [{ name: 'x-h', presentMatch: true }] };
    routes.push({ name: `r${i}`, match, route: { cluster: 'c' } });
  }
  const indexed = compileRouteConfiguration({ name: 'i', virtualHosts: [{ name: 'v', domains: ['*'], routes }] });
  // The same routes split into small hosts would not be indexed; compare with a plain scan.
  const plain = indexed.vhostsForTest()[0]!.routes;
  for (const base of ['/', '/a', '/a/', '/a/b', '/a/bc', '/a/b/c/d', '/ab', '/abc', '/api', '/api/', '/api/v1?x', '/API/v1', '/Api', '/x', '/y', '/a?b']) {
    for (const headers of [{}, { 'x-h': '1' }] as Record<string, string>[]) {
      const qi = base.indexOf('?');
      const path = qi < 0 ? base : base.slice(0, qi);
      const query = qi < 0 ? '' : base.slice(qi + 1);
      const lookup = (n: string) => headers[n];
      const want = plain.find((r) => r.matches(base, path, query, lookup, null))?.name;
      assert.equal(indexed.match('x', base, path, query, lookup)?.route.name, want, `${base} ${JSON.stringify(headers)}`);
    }
  }
});
