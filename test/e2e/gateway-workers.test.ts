// `strait up --gateway-workers 2`: the gateway's proxy runs as two worker processes behind one
// set of listening sockets; requests through the gateway reach the mesh whichever worker takes
// the connection (each worker has its own xDS stream and config).

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { after, before, test } from 'node:test';
import { startMesh } from '../helpers/strait-up.js';
import type { RunningMesh } from '../helpers/strait-up.js';

let mesh: RunningMesh;

before(async () => {
  mesh = await startMesh(['examples/seed'], { extraArgs: ['--gateway-workers', '2'] });
});

after(async () => {
  await mesh?.stop();
});

function get(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    }).on('error', reject);
  });
}

test('the gateway proxy runs two workers and every request through it is answered', async () => {
  // This mesh's gateway proxy (its pod address is the gateway address) and its children.
  const pattern = `proxy --bootstrap .* --wildcard-address ${mesh.gatewayAddress.replace(/\./g, '\\.')} .*--workers 2`;
  const matching = execFileSync('pgrep', ['-f', '--', pattern], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  // The workers run the primary's command line too (cluster re-executes it): tell them apart by parent.
  const parentOf = (pid: number) => Number(execFileSync('ps', ['-o', 'ppid=', '-p', String(pid)], { encoding: 'utf8' }).trim());
  const primary = matching.filter((pid) => !matching.includes(parentOf(pid)));
  const workers = matching.filter((pid) => matching.includes(parentOf(pid)));
  assert.equal(primary.length, 1, `gateway proxy processes: ${matching.join(', ')}`);
  assert.deepEqual(workers.map(parentOf), [primary[0], primary[0]], `worker processes: ${workers.join(', ')}`);
  const codes = [];
  for (let i = 0; i < 12; i++) codes.push(await get(`${mesh.gatewayUrl}/hello?n=${i}`));
  assert.deepEqual(codes, new Array(12).fill(200));
});
