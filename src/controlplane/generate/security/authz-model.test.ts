// Rule → RBAC policy, field by field (AZ-05..AZ-10), against the matchers Istio's builder writes
// for the same input (pilot/pkg/security/authz/model/generator.go), including the TCP rules:
// HTTP-only attributes fail an ALLOW rule and are dropped from a DENY rule.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AuthzRule, RuleContext } from './authz-model.js';
import { rulePolicy, RuleSkipped, withTrustDomainAliases } from './authz-model.js';
import type { Permission, Principal } from './envoy-types.js';

const HTTP_ALLOW: RuleContext = { namespace: 'foo', forTcp: false, action: 'ALLOW', trustDomains: ['cluster.local'] };
const and = (...ids: Principal[]): Principal => ({ andIds: { ids } });
const or = (...ids: Principal[]): Principal => ({ orIds: { ids } });
const pand = (...rules: Permission[]): Permission => ({ andRules: { rules } });
const por = (...rules: Permission[]): Permission => ({ orRules: { rules } });
const ANY_PRINCIPAL = and({ any: true });
const ANY_PERMISSION = pand({ any: true });

function principalOf(source: NonNullable<AuthzRule['from']>[number]['source'], ctx = HTTP_ALLOW): Principal {
  const p = rulePolicy({ from: [{ source }] }, ctx);
  assert.deepEqual(p.permissions, [ANY_PERMISSION]);
  return p.principals[0]!;
}

function permissionOf(operation: NonNullable<AuthzRule['to']>[number]['operation'], ctx = HTTP_ALLOW): Permission {
  const p = rulePolicy({ to: [{ operation }] }, ctx);
  assert.deepEqual(p.principals, [ANY_PRINCIPAL]);
  return p.permissions[0]!;
}

test('an empty rule matches any request (AZ-03 rules: [{}])', () => {
  assert.deepEqual(rulePolicy({}, HTTP_ALLOW), { permissions: [ANY_PERMISSION], principals: [ANY_PRINCIPAL] });
});

test('principals: spiffe:// prefixed; exact, prefix, suffix (regex after the prefix), presence', () => {
  const table: [string, Principal][] = [
    ['cluster.local/ns/default/sa/bookinfo-productpage', { authenticated: { principalName: { exact: 'spiffe://cluster.local/ns/default/sa/bookinfo-productpage' } } }],
    ['cluster.local/ns/default/*', { authenticated: { principalName: { prefix: 'spiffe://cluster.local/ns/default/' } } }],
    ['*/sa/sleep', { authenticated: { principalName: { safeRegex: { regex: 'spiffe://.*/sa/sleep' } } } }],
    ['*', { authenticated: { principalName: { safeRegex: { regex: '.+' } } } }],
  ];
  for (const [value, expected] of table) assert.deepEqual(principalOf({ principals: [value] }), and(or(expected)), value);
});

test('notPrincipals is NOT(any of them), ANDed with the positive list', () => {
  const p = principalOf({ principals: ['cluster.local/ns/a/sa/x'], notPrincipals: ['cluster.local/ns/a/sa/y', 'cluster.local/ns/a/sa/z'] });
  const id = (sa: string): Principal => ({ authenticated: { principalName: { exact: `spiffe://cluster.local/ns/a/sa/${sa}` } } });
  assert.deepEqual(p, and(or(id('x')), { notId: or(id('y'), id('z')) }));
});

test('namespaces and serviceAccounts are regexes on the SPIFFE identity', () => {
  assert.deepEqual(principalOf({ namespaces: ['foo', 'team-*'] }), and(or({ authenticated: { principalName: { safeRegex: { regex: '.*/ns/foo/.*' } } } }, { authenticated: { principalName: { safeRegex: { regex: '.*/ns/team-.*/.*' } } } })));
  assert.deepEqual(
    principalOf({ serviceAccounts: ['bar/sleep', 'httpbin'] }),
    and(or({ authenticated: { principalName: { safeRegex: { regex: 'spiffe://.+/ns/bar/(.+/|)sa/sleep(/.+)?' } } } }, { authenticated: { principalName: { safeRegex: { regex: 'spiffe://.+/ns/foo/(.+/|)sa/httpbin(/.+)?' } } } })),
  );
});

test('ipBlocks → direct_remote_ip, remoteIpBlocks → remote_ip, as CIDR ranges', () => {
  assert.deepEqual(principalOf({ ipBlocks: ['1.2.3.4', '5.6.7.0/24'] }), and(or({ directRemoteIp: { addressPrefix: '1.2.3.4', prefixLen: 32 } }, { directRemoteIp: { addressPrefix: '5.6.7.0', prefixLen: 24 } })));
  assert.deepEqual(principalOf({ remoteIpBlocks: ['2001:DB8:0:0::1'] }), and(or({ remoteIp: { addressPrefix: '2001:db8::1', prefixLen: 128 } })));
});

test('source fields are ANDed in Istio order: principals, requestPrincipals, serviceAccounts, trustDomains, namespaces, remoteIpBlocks, ipBlocks', () => {
  const p = principalOf({ ipBlocks: ['10.0.0.1'], namespaces: ['foo'], principals: ['cluster.local/ns/foo/sa/a'] });
  const kinds = (p.andIds?.ids ?? []).map((x) => Object.keys(x.orIds!.ids[0]!)[0]);
  assert.deepEqual(kinds, ['authenticated', 'authenticated', 'directRemoteIp']);
  assert.equal(p.andIds!.ids[1]!.orIds!.ids[0]!.authenticated!.principalName.safeRegex?.regex, '.*/ns/foo/.*');
});

test('requestPrincipals <iss>/<sub> → jwt_authn payload metadata matchers on iss and sub (split at the last /)', () => {
  const md = (claim: string, m: object): Principal => ({ metadata: { filter: 'envoy.filters.http.jwt_authn', path: [{ key: 'payload' }, { key: claim }], value: { stringMatch: m } } });
  assert.deepEqual(principalOf({ requestPrincipals: ['testing@secure.istio.io/testing@secure.istio.io'] }), and(and(md('iss', { exact: 'testing@secure.istio.io' }), md('sub', { exact: 'testing@secure.istio.io' }))));
  assert.deepEqual(principalOf({ requestPrincipals: ['https://accounts.example.com/u1'] }), and(and(md('iss', { exact: 'https://accounts.example.com' }), md('sub', { exact: 'u1' }))));
  assert.deepEqual(principalOf({ requestPrincipals: ['*'] }), and(and(md('iss', { safeRegex: { regex: '.+' } }), md('sub', { safeRegex: { regex: '.+' } }))));
  assert.deepEqual(principalOf({ requestPrincipals: ['iss/*'] }), and(and(md('iss', { exact: 'iss' }), md('sub', { safeRegex: { regex: '.+' } }))));
  assert.deepEqual(principalOf({ requestPrincipals: ['*/sub'] }), and(and(md('iss', { safeRegex: { regex: '.+' } }), md('sub', { exact: 'sub' }))));
  // Several values: OR of the pairs; notRequestPrincipals: NOT of it.
  const p = principalOf({ notRequestPrincipals: ['a/b', 'c/d'] });
  assert.ok(p.andIds!.ids[0]!.notId!.orIds!.ids.length === 2);
});

test('operation: hosts (case-insensitive :authority), methods (:method), paths (url_path), ports (destination_port)', () => {
  assert.deepEqual(permissionOf({ hosts: ['Example.com', '*.example.com'] }), pand(por({ header: { name: ':authority', stringMatch: { exact: 'Example.com', ignoreCase: true } } }, { header: { name: ':authority', stringMatch: { suffix: '.example.com', ignoreCase: true } } })));
  assert.deepEqual(permissionOf({ methods: ['GET'] }), pand(por({ header: { name: ':method', stringMatch: { exact: 'GET' } } })));
  assert.deepEqual(
    permissionOf({ paths: ['/ip', '/api/*', '*/info', '*'] }),
    pand(por({ urlPath: { path: { exact: '/ip' } } }, { urlPath: { path: { prefix: '/api/' } } }, { urlPath: { path: { suffix: '/info' } } }, { urlPath: { path: { safeRegex: { regex: '.+' } } } })),
  );
  assert.deepEqual(permissionOf({ ports: ['8080'], notPorts: ['9090'] }), pand(por({ destinationPort: 8080 }), { notRule: por({ destinationPort: 9090 }) }));
  assert.deepEqual(permissionOf({ notPaths: ['/healthz'] }), pand({ notRule: por({ urlPath: { path: { exact: '/healthz' } } }) }));
});

test('paths with {*} / {**} become a URI template match', () => {
  assert.deepEqual(
    permissionOf({ paths: ['/books/{*}/reviews/{**}'] }),
    pand(por({ uriTemplate: { name: 'uri-template', typedConfig: { '@type': 'type.googleapis.com/envoy.extensions.path.match.uri_template.v3.UriTemplateMatchConfig', pathTemplate: '/books/*/reviews/**' } } })),
  );
});

test('operation fields are ANDed in Istio order: hosts, methods, paths, ports', () => {
  const p = permissionOf({ ports: ['80'], paths: ['/a'], methods: ['GET'], hosts: ['h'] });
  assert.deepEqual(
    p.andRules!.rules.map((r) => Object.keys(r.orRules!.rules[0]!)[0]),
    ['header', 'header', 'urlPath', 'destinationPort'],
  );
});

test('when: every documented key lands on the principal or the permission side', () => {
  const p = rulePolicy(
    {
      when: [
        { key: 'request.headers[x-token]', values: ['admin'] },
        { key: 'source.ip', values: ['10.0.0.0/8'] },
        { key: 'remote.ip', values: ['1.2.3.4'] },
        { key: 'source.namespace', values: ['foo'] },
        { key: 'source.principal', values: ['cluster.local/ns/foo/sa/a'] },
        { key: 'request.auth.principal', values: ['iss/sub'] },
        { key: 'request.auth.audiences', values: ['aud1'] },
        { key: 'request.auth.presenter', values: ['azp1'] },
        { key: 'request.auth.claims[groups]', values: ['group1'] },
        { key: 'request.auth.claims[nested][key]', values: ['v'] },
        { key: 'destination.ip', values: ['10.1.1.1'] },
        { key: 'destination.port', values: ['9080'] },
        { key: 'connection.sni', values: ['*.example.com'] },
        { key: 'experimental.envoy.filters.network.mysql_proxy[db.table]', values: ['[update]'] },
      ],
    },
    HTTP_ALLOW,
  );
  const principals = p.principals[0]!.andIds!.ids;
  const permissions = p.permissions[0]!.andRules!.rules;
  assert.equal(principals.length, 10);
  assert.equal(permissions.length, 4);
  assert.deepEqual(principals[0], or({ header: { name: 'x-token', stringMatch: { exact: 'admin' } } }));
  // A claim may be a list (any element matches) or a string.
  const group = { stringMatch: { exact: 'group1' } };
  assert.deepEqual(principals[8], {
    metadata: { filter: 'envoy.filters.http.jwt_authn', path: [{ key: 'payload' }, { key: 'groups' }], value: { orMatch: { valueMatchers: [{ listMatch: { oneOf: group } }, group] } } },
  });
  assert.deepEqual(principals[9]!.metadata!.path, [{ key: 'payload' }, { key: 'nested' }, { key: 'key' }]);
  assert.deepEqual(principals[6]!.metadata!.path, [{ key: 'payload' }, { key: 'aud' }]);
  assert.deepEqual(permissions[0], por({ destinationIp: { addressPrefix: '10.1.1.1', prefixLen: 32 } }));
  assert.deepEqual(permissions[2], por({ requestedServerName: { suffix: '.example.com' } }));
  assert.deepEqual(permissions[3], {
    metadata: { filter: 'envoy.filters.network.mysql_proxy', path: [{ key: 'db.table' }], value: { listMatch: { oneOf: { stringMatch: { exact: 'update' } } } } },
  });
});

test('when notValues: NOT of the values (TASK-15 request.headers[x-token] notValues admin)', () => {
  const p = rulePolicy({ to: [{ operation: { methods: ['GET'] } }], when: [{ key: 'request.headers[x-token]', notValues: ['admin'] }] }, { ...HTTP_ALLOW, action: 'DENY' });
  assert.deepEqual(p.principals, [and({ notId: or({ header: { name: 'x-token', stringMatch: { exact: 'admin' } } }) })]);
  assert.deepEqual(p.permissions, [pand(por({ header: { name: ':method', stringMatch: { exact: 'GET' } } }))]);
});

test('when conditions are added to every from and every to', () => {
  const p = rulePolicy({ from: [{ source: { namespaces: ['a'] } }, { source: { namespaces: ['b'] } }], to: [{ operation: { methods: ['GET'] } }, { operation: { ports: ['80'] } }], when: [{ key: 'source.ip', values: ['1.1.1.1'] }, { key: 'destination.port', values: ['80'] }] }, HTTP_ALLOW);
  assert.equal(p.principals.length, 2);
  assert.equal(p.permissions.length, 2);
  for (const x of p.principals) assert.equal(x.andIds!.ids.length, 2);
  for (const x of p.permissions) assert.equal(x.andRules!.rules.length, 2);
});

test('unknown when key: the rule is skipped, whatever the action', () => {
  for (const action of ['ALLOW', 'DENY'] as const) {
    assert.throws(() => rulePolicy({ when: [{ key: 'request.unknown', values: ['x'] }] }, { ...HTTP_ALLOW, action }), RuleSkipped);
  }
});

test('a value that does not compile fails an ALLOW rule, and is dropped from a DENY rule', () => {
  assert.throws(() => rulePolicy({ from: [{ source: { ipBlocks: ['not-an-ip', '1.2.3.4'] } }] }, HTTP_ALLOW), RuleSkipped);
  const deny = rulePolicy({ from: [{ source: { ipBlocks: ['not-an-ip', '1.2.3.4'] } }] }, { ...HTTP_ALLOW, action: 'DENY' });
  assert.deepEqual(deny.principals, [and(or({ directRemoteIp: { addressPrefix: '1.2.3.4', prefixLen: 32 } }))]);
  assert.throws(() => rulePolicy({ to: [{ operation: { ports: ['70000'] } }] }, HTTP_ALLOW), RuleSkipped);
});

test('TCP (AZ-10): an HTTP-only field fails the ALLOW rule; DENY keeps a broader rule without it', () => {
  const TCP = { ...HTTP_ALLOW, forTcp: true };
  const rule: AuthzRule = { from: [{ source: { namespaces: ['foo'], requestPrincipals: ['a/b'] } }], to: [{ operation: { ports: ['3306'], methods: ['GET'], paths: ['/x'], hosts: ['h'] } }], when: [{ key: 'request.headers[x]', values: ['y'] }, { key: 'request.auth.claims[c]', values: ['v'] }] };
  assert.throws(() => rulePolicy(rule, TCP), RuleSkipped);
  const deny = rulePolicy(rule, { ...TCP, action: 'DENY' });
  assert.deepEqual(deny.permissions, [pand(por({ destinationPort: 3306 }))]);
  assert.deepEqual(deny.principals, [and(or({ authenticated: { principalName: { safeRegex: { regex: '.*/ns/foo/.*' } } } }))]);
  // A DENY rule made only of HTTP fields denies every connection on TCP (Istio's broader deny).
  assert.deepEqual(rulePolicy({ to: [{ operation: { methods: ['GET'] } }] }, { ...TCP, action: 'DENY' }), { permissions: [ANY_PERMISSION], principals: [ANY_PRINCIPAL] });
  // Principals, namespaces, IPs and ports work on TCP.
  assert.doesNotThrow(() => rulePolicy({ from: [{ source: { principals: ['cluster.local/ns/a/sa/b'], ipBlocks: ['1.1.1.1'] } }], to: [{ operation: { ports: ['5432'] } }] }, TCP));
});

test('trust domain: cluster.local stands for the mesh trust domain, aliases widen a principal', () => {
  assert.deepEqual(withTrustDomainAliases(['cluster.local/ns/a/sa/b'], ['example.com']), ['example.com/ns/a/sa/b']);
  assert.deepEqual(withTrustDomainAliases(['td1/ns/a/sa/b'], ['td2', 'td1']), ['td2/ns/a/sa/b', 'td1/ns/a/sa/b']);
  assert.deepEqual(withTrustDomainAliases(['other/ns/a/sa/b', '*/ns/a/sa/b', 'ns/a'], ['td2', 'td1']), ['other/ns/a/sa/b', '*/ns/a/sa/b', 'ns/a']);
  const p = principalOf({ principals: ['cluster.local/ns/a/sa/b'] }, { ...HTTP_ALLOW, trustDomains: ['new.td', 'old.td'] });
  assert.deepEqual(p, and(or({ authenticated: { principalName: { exact: 'spiffe://new.td/ns/a/sa/b' } } }, { authenticated: { principalName: { exact: 'spiffe://old.td/ns/a/sa/b' } } })));
});

test('trustDomains: any, exact (prefix on the URI), wildcard (regex)', () => {
  assert.deepEqual(principalOf({ trustDomains: ['*', 'example.com', '*.corp'] }), and(or({ authenticated: { principalName: { prefix: 'spiffe://' } } }, { authenticated: { principalName: { prefix: 'spiffe://example.com/' } } }, { authenticated: { principalName: { safeRegex: { regex: 'spiffe://[^/]*\\.corp/.*' } } } })));
});
