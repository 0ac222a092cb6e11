// `strait echo` as the local runner starts it: its own process, configured by environment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { closeForTest, listenForTest, requestForTest } from './test-support.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const mainTs = fileURLToPath(new URL('../cli/main.ts', import.meta.url));

interface Child {
  proc: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function startCli(args: string[], env: Record<string, string>): Child {
  // Only what is given: a developer's own HTTP_PROXY must not leak into the workload.
  const proc = spawn(process.execPath, ['--import', 'tsx', mainTs, 'echo', ...args], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', ...env },
  });
  let out = '';
  let err = '';
  proc.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  proc.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return { proc, stdout: () => out, stderr: () => err, exited };
}

/** Waits for the one "listening" line; returns the URL it names. */
async function listening(child: Child): Promise<string> {
  for (;;) {
    const m = /^echo listening on (http:\/\/\S+)\n/m.exec(child.stdout());
    if (m) return m[1];
    if (child.proc.exitCode !== null) throw new Error(`exited early: ${child.stderr()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('prints where it listens, answers with the pod from its environment, logs, exits 0 on SIGTERM', { timeout: 20_000 }, async () => {
  const child = startCli(['--port', '0'], {
    HOST: '127.0.0.1', PORT: '1', POD_NAME: 'reviews-v2-abc', POD_NAMESPACE: 'bookinfo', POD_IP: '127.0.0.1',
    SERVICE_ACCOUNT: 'bookinfo-reviews', POD_LABELS: '{"app":"reviews","version":"v2"}', ECHO_LOG: '1',
  });
  try {
    const url = await listening(child);
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(url, 'http://127.0.0.1:1', '--port overrides PORT');
    const j = (await requestForTest(`${url}/reviews/0`)).json;
    assert.equal(j.service, 'reviews');
    assert.equal(j.version, 'v2');
    assert.equal(j.pod, 'reviews-v2-abc');
    assert.equal(j.namespace, 'bookinfo');
    assert.equal(j.serviceAccount, 'bookinfo-reviews');
    assert.deepEqual(j.labels, { app: 'reviews', version: 'v2' });

    // Keep a request in flight: shutdown must not wait the minute out.
    const inFlight = requestForTest(`${url}/delay/60000`).catch((e: Error) => e);
    await new Promise((r) => setTimeout(r, 100));
    child.proc.kill('SIGTERM');
    assert.equal(await child.exited, 0);
    assert.ok((await inFlight) instanceof Error, 'the in-flight request was cut, not answered');
    assert.match(child.stdout(), /^GET \/reviews\/0 200 0B /m);
  } finally {
    child.proc.kill('SIGKILL');
  }
});

test('--exit-on-stdin-close: exits 0 when the runner closes its stdin', { timeout: 20_000 }, async () => {
  const child = startCli(['--port', '0', '--exit-on-stdin-close'], {});
  try {
    const url = await listening(child);
    assert.equal((await requestForTest(url)).status, 200);
    child.proc.stdin.end();
    assert.equal(await child.exited, 0);
  } finally {
    child.proc.kill('SIGKILL');
  }
});

test('startup errors: bad environment or a taken port exit 1 with a message', { timeout: 20_000 }, async () => {
  const badEnv = startCli(['--port', '0'], { POD_LABELS: 'app=reviews' });
  assert.equal(await badEnv.exited, 1);
  assert.match(badEnv.stderr(), /strait echo: POD_LABELS is not JSON/);

  const taken = http.createServer();
  const base = await listenForTest(taken);
  try {
    const clash = startCli(['--host', '127.0.0.1', '--port', new URL(base).port], {});
    assert.equal(await clash.exited, 1);
    assert.match(clash.stderr(), /strait echo: cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
  } finally {
    await closeForTest(taken);
  }
});
