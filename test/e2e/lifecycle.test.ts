// Process lifecycle of `strait up`: a crashed workload is restarted and reported; SIGTERM ends
// every process it started; even SIGKILL of the runner leaves nothing behind, because every
// child exits when its stdin pipe from the runner closes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, request } from '../helpers/http.js';
import { alive, startMesh } from '../helpers/strait-up.js';
import type { RunningMesh } from '../helpers/strait-up.js';

async function childPids(mesh: RunningMesh): Promise<number[]> {
  const status = await mesh.status();
  const pids = status.pods.flatMap((p) => p.containers.map((c) => c.pid)).filter((p): p is number => typeof p === 'number');
  // gateway proxy + (app + sidecar) for frontend, backend-v1, backend-v2
  assert.equal(pids.length, 7, `expected 7 processes, got ${JSON.stringify(status.pods.map((p) => [p.name, p.containers]))}`);
  return pids;
}

test('a crashed workload is restarted, reported, and serves again', async () => {
  const mesh = await startMesh(['examples/seed']);
  try {
    const status = await mesh.status();
    const frontend = status.pods.find((p) => p.name.startsWith('frontend-'))!;
    const app = frontend.containers.find((c) => c.name === 'frontend')!;
    process.kill(app.pid!, 'SIGKILL');
    await mesh.waitForOutput(new RegExp(`${frontend.name}/frontend exited \\(signal SIGKILL\\).*restarting in 1s`));
    const restarted = await eventually(async () => {
      const p = (await mesh.status()).pods.find((x) => x.name === frontend.name)!;
      const c = p.containers.find((x) => x.name === 'frontend')!;
      return c.restarts === 1 && p.ready ? c : undefined;
    }, 'the frontend to be restarted and ready', 20_000);
    assert.notEqual(restarted.pid, app.pid);
    const res = await eventually(async () => {
      const r = await request(`${mesh.gatewayUrl}/`);
      return r.status === 200 ? r : undefined;
    }, 'the frontend to answer again');
    assert.equal(res.status, 200);
  } finally {
    await mesh.stop();
  }
});

test('SIGTERM stops every process strait up started, and it exits 0', async () => {
  const mesh = await startMesh(['examples/seed']);
  const pids = await childPids(mesh);
  const code = await mesh.stop('SIGTERM');
  assert.equal(code, 0);
  const left = await eventually(() => (pids.every((p) => !alive(p)) ? 'none' : undefined), 'every child to exit', 5_000).catch(() => pids.filter(alive));
  assert.equal(left, 'none', `processes left behind: ${JSON.stringify(left)}`);
});

test('SIGKILL of strait up still leaves no process behind', async () => {
  const mesh = await startMesh(['examples/seed']);
  const pids = await childPids(mesh);
  await mesh.stop('SIGKILL');
  const left = await eventually(() => (pids.every((p) => !alive(p)) ? 'none' : undefined), 'every child to exit', 10_000).catch(() => pids.filter(alive));
  if (left !== 'none') for (const p of left as number[]) process.kill(p, 'SIGKILL');
  assert.equal(left, 'none', `processes left behind: ${JSON.stringify(left)}`);
});
