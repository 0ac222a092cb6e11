// HAProxy as a peer proxy for the benchmark (performance.md §8 step 1c): `mode http`,
// `nbthread 1`, `http-reuse always` to the origin, no logging. Runs in the foreground (-db), one
// process, so the PID we keep is the one serving.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { HOST, waitUntilAnswering } from './net.js';
import { spawnManaged, type Managed } from './processes.js';

export const HAPROXY = 'haproxy';

export function haproxyConfig(port: number, originPort: number): string {
  return `# written by strait bench/lib/haproxy.ts
global
  nbthread 1
  maxconn 4096

defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout http-keep-alive 300s
  http-reuse always

frontend bench
  bind ${HOST}:${port}
  default_backend origin

backend origin
  server origin ${HOST}:${originPort}
`;
}

export async function startHaproxy(dir: string, port: number, originPort: number, cpu: string | undefined): Promise<Managed> {
  const confPath = path.join(dir, 'haproxy.cfg');
  fs.writeFileSync(confPath, haproxyConfig(port, originPort));
  const check = spawnSync(HAPROXY, ['-c', '-q', '-f', confPath], { encoding: 'utf8' });
  if (check.status !== 0) throw new Error(`haproxy rejects its config:\n${check.stdout}${check.stderr}`);
  const proc = spawnManaged({ name: 'haproxy', command: HAPROXY, args: ['-db', '-f', confPath], cpu });
  await waitUntilAnswering(`http://${HOST}:${port}/`, proc);
  return proc;
}

export function haproxyVersion(): string {
  const r = spawnSync(HAPROXY, ['-v'], { encoding: 'utf8' });
  return (r.stdout ?? '').split('\n')[0]?.trim() || 'unknown';
}
