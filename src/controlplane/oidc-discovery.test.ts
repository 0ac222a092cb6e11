// OIDC discovery against a real issuer on 127.0.0.1:0 with a manual clock: the jwks_uri is found,
// the change is announced once, refreshed on the 20-minute schedule, kept while the issuer is
// down, retried with back-off, and forgotten when no rule names the issuer.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ManualClockForTest } from '../common/clock.js';
import { OidcDiscovery } from './oidc-discovery.js';

let server: http.Server;
let issuer: string;
let document: string | null;
let hits = 0;

before(async () => {
  server = http.createServer((req, res) => {
    hits++;
    if (req.url !== '/realm/.well-known/openid-configuration' || document === null) {
      res.writeHead(503).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(document);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}/realm`;
});

after(() => server.close());

/** Waits until `cond` holds, turning the event loop (real I/O happens between checks). */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setImmediate(r));
  assert.ok(cond(), `gave up waiting for ${what}`);
}

test('finds jwks_uri, announces it once, refreshes every 20 minutes and keeps it while the issuer is down', async () => {
  const clock = new ManualClockForTest();
  const logs: string[] = [];
  let changes = 0;
  document = JSON.stringify({ issuer, jwks_uri: `${issuer}/certs` });
  const d = new OidcDiscovery({ clock, log: (l) => logs.push(l), onChange: () => changes++ });
  assert.equal(d.resolve(new Set([issuer])).size, 0, 'not known before the first answer');
  await until(() => changes === 1, 'the first discovery');
  assert.deepEqual([...d.resolve(new Set([issuer]))], [[issuer, `${issuer}/certs`]]);
  assert.match(logs.join('\n'), /publishes its keys at http:\/\/127\.0\.0\.1:\d+\/realm\/certs/);

  // The refresh finds the same URI: no new announcement.
  const before = hits;
  clock.advance(20 * 60_000);
  await until(() => hits > before, 'the refresh');
  await new Promise((r) => setImmediate(r));
  assert.equal(changes, 1);

  // The issuer fails: the known URI stays, the error is logged, the retry comes after 5 s.
  document = null;
  clock.advance(20 * 60_000);
  await until(() => logs.some((l) => /answered 503 \(keeping/.test(l)), 'the failed refresh');
  assert.equal(d.resolve(new Set([issuer])).get(issuer), `${issuer}/certs`);
  document = JSON.stringify({ jwks_uri: `${issuer}/certs-2` });
  clock.advance(5_000);
  await until(() => changes === 2, 'the retry with the new URI');
  assert.equal(d.resolve(new Set([issuer])).get(issuer), `${issuer}/certs-2`);

  // No rule names it any more: forgotten, and no timer fires for it.
  assert.equal(d.resolve(new Set()).size, 0);
  const after = hits;
  clock.advance(60 * 60_000);
  await new Promise((r) => setImmediate(r));
  assert.equal(hits, after);
  d.close();
});

test('an issuer that is not a URL, or a document without an http(s) jwks_uri, is refused with a reason', async () => {
  const clock = new ManualClockForTest();
  const logs: string[] = [];
  const d = new OidcDiscovery({ clock, log: (l) => logs.push(l), onChange: () => assert.fail('nothing to announce') });
  document = JSON.stringify({ jwks_uri: 'file:///etc/passwd' });
  d.resolve(new Set(['testing@secure.istio.io', issuer]));
  await until(() => logs.length === 2, 'both lookups to fail');
  assert.ok(logs.some((l) => /testing@secure\.istio\.io: the issuer is not a URL/.test(l)));
  assert.ok(logs.some((l) => /has no http\(s\) jwks_uri; its tokens are refused until it answers/.test(l)));
  d.close();
});
