// nginx for the benchmark (performance.md §8 step 1): the origin (`return 200` with a fixed body)
// and the peer proxy (proxy_http_version 1.1, upstream keepalive 64). One process each
// (`master_process off`, so the PID we keep is the one serving), config, pid and error log in the
// run's temp dir, access log off, keep-alive effectively unlimited. Runs as any user.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { HOST, waitUntilAnswering } from './net.js';
import { spawnManaged, type Managed } from './processes.js';

export const NGINX = '/usr/sbin/nginx';

let buildInfo: string | undefined;

/** `nginx -V` (it prints to stderr): the configure arguments of this build. */
function nginxBuildInfo(): string {
  if (buildInfo === undefined) {
    const r = spawnSync(NGINX, ['-V'], { encoding: 'utf8' });
    buildInfo = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  }
  return buildInfo;
}

/** Temp-path directives for the modules this nginx build has (so nothing points at /var/lib). */
export function tempPaths(dir: string, name: string): string {
  const built = nginxBuildInfo();
  const lines = [`client_body_temp_path ${path.join(dir, `${name}-body`)};`];
  for (const m of ['proxy', 'fastcgi', 'uwsgi', 'scgi']) {
    if (!built.includes(`--without-http_${m}_module`)) lines.push(`${m}_temp_path ${path.join(dir, `${name}-${m}`)};`);
  }
  return lines.map((l) => `  ${l}`).join('\n');
}

export function common(dir: string, name: string): string {
  return `# written by strait bench/lib/nginx.ts
worker_processes 1;
pid ${path.join(dir, `${name}.pid`)};
error_log ${path.join(dir, `${name}-error.log`)} warn;
events {
  worker_connections 4096;
  multi_accept on;
}
`;
}

export function originConfig(dir: string, port: number, body: string): string {
  return `${common(dir, 'origin')}http {
  access_log off;
${tempPaths(dir, 'origin')}
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  server {
    listen ${HOST}:${port} backlog=4096;
    location / {
      default_type text/plain;
      return 200 "${body}";
    }
  }
}
`;
}

export function proxyConfig(dir: string, port: number, originPort: number): string {
  return `${common(dir, 'nginx-proxy')}http {
  access_log off;
${tempPaths(dir, 'nginx-proxy')}
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  upstream origin {
    server ${HOST}:${originPort};
    keepalive 64;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
  }
  server {
    listen ${HOST}:${port} backlog=4096;
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`;
}

/** Writes `conf` to `<dir>/<name>.conf`, starts nginx in the foreground, waits until it answers. */
export async function startNginx(name: string, dir: string, conf: string, port: number, cpu: string | undefined): Promise<Managed> {
  const confPath = path.join(dir, `${name}.conf`);
  fs.writeFileSync(confPath, conf);
  const proc = spawnManaged({
    name,
    command: NGINX,
    args: ['-p', dir, '-c', confPath, '-e', path.join(dir, `${name}-error.log`), '-g', 'daemon off; master_process off;'],
    cpu,
  });
  await waitUntilAnswering(`http://${HOST}:${port}/`, proc);
  return proc;
}

export function nginxVersion(): string {
  const r = spawnSync(NGINX, ['-v'], { encoding: 'utf8' });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() || 'unknown';
}
