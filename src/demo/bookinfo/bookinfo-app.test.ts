// `strait bookinfo <app>`: the factory's choices and errors, Bookinfo's service variables, and the
// command as the runner starts it (its own process: listening line, stdin close, SIGTERM).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { requestForTest } from '../../echo/test-support.js';
import { createBookinfoApp } from './bookinfo-app.js';
import { serviceBaseUrl } from './bookinfo-env.js';

test('createBookinfoApp names the app and version; unknown apps, versions and bad variables throw', () => {
  for (const [app, version, name] of [
    ['productpage', undefined, 'bookinfo productpage v1'], ['details', 'v2', 'bookinfo details v2'],
    ['reviews', 'v3', 'bookinfo reviews v3'], ['ratings', undefined, 'bookinfo ratings v1'], ['ratings', 'v2', 'bookinfo ratings v2'],
  ] as const) {
    const a = createBookinfoApp(app, version, {});
    assert.equal(a.name, name);
    a.server.close();
  }
  assert.throws(() => createBookinfoApp('mongodb', undefined, {}), /unknown Bookinfo app "mongodb"; one of: productpage, details, reviews, ratings/);
  assert.throws(() => createBookinfoApp('toString', undefined, {}), /unknown Bookinfo app/);
  assert.throws(() => createBookinfoApp('reviews', 'v4', {}), /reviews has versions v1, v2, v3, not "v4"/);
  assert.throws(() => createBookinfoApp('reviews', 'v2', { HTTP_PROXY: 'https://x:1' }), /HTTP_PROXY must be an http:\/\/ URL/);
  assert.throws(() => createBookinfoApp('reviews', 'v2', { RATINGS_SERVICE_PORT: 'x' }), /RATINGS_SERVICE_PORT: port must be a number/);
});

test('serviceBaseUrl reads <APP>_HOSTNAME, <APP>_SERVICE_PORT and SERVICES_DOMAIN as Bookinfo does', () => {
  assert.equal(serviceBaseUrl({}, 'reviews').href, 'http://reviews:9080/');
  assert.equal(serviceBaseUrl({ SERVICES_DOMAIN: 'bookinfo.svc.cluster.local' }, 'details').href, 'http://details.bookinfo.svc.cluster.local:9080/');
  assert.equal(serviceBaseUrl({ RATINGS_HOSTNAME: 'stars', RATINGS_SERVICE_PORT: '8080', SERVICES_DOMAIN: '' }, 'ratings').href, 'http://stars:8080/');
  assert.throws(() => serviceBaseUrl({ DETAILS_HOSTNAME: 'a b' }, 'details'), /do not make a URL/);
});

const mainTs = fileURLToPath(new URL('../../cli/main.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

function start(args: string[], env: Record<string, string> = {}) {
  const proc = spawn(process.execPath, ['--import', 'tsx', mainTs, ...args], { cwd: repoRoot, env: { PATH: process.env.PATH ?? '', ...env } });
  let out = '';
  let err = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const listening = async (): Promise<string> => {
    for (;;) {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) return m[1]!;
      if (proc.exitCode !== null) throw new Error(`exited early: ${err}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { proc, exited, listening, out: () => out, err: () => err };
}

test('strait bookinfo ratings: listens on $HOST:$PORT (--port wins), prints one line, exits 0 on stdin close', { timeout: 20_000 }, async () => {
  const c = start(['bookinfo', 'ratings', '--port', '0', '--exit-on-stdin-close'], { HOST: '127.0.0.1', PORT: '1' });
  try {
    const url = await c.listening();
    assert.match(c.out(), /^bookinfo ratings v1 listening on http:\/\/127\.0\.0\.1:\d+\n$/);
    assert.equal((await requestForTest(`${url}/ratings/0`)).json.ratings.Reviewer1, 5);
    c.proc.stdin.end();
    assert.equal(await c.exited, 0);
    assert.equal(c.out().split('\n').filter(Boolean).length, 1, 'nothing logged per request');
  } finally {
    c.proc.kill('SIGKILL');
  }
});

test('strait bookinfo reviews --version v2 exits 0 on SIGTERM; a bad app exits 1 with a message', { timeout: 20_000 }, async () => {
  const c = start(['bookinfo', 'reviews', '--version', 'v2', '--port', '0']);
  try {
    await c.listening();
    c.proc.kill('SIGTERM');
    assert.equal(await c.exited, 0);
  } finally {
    c.proc.kill('SIGKILL');
  }
  const bad = start(['bookinfo', 'reviews', '--version', 'v9', '--port', '0']);
  assert.equal(await bad.exited, 1);
  assert.match(bad.err(), /^strait bookinfo: reviews has versions v1, v2, v3, not "v9"/);
});
