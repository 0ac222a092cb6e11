// `strait dashboard`: prints (and, with a display, opens) the dashboard's URL of a running
// `strait up`. `strait tap POD`: the live tap in the terminal, one line per request, as
// `linkerd viz tap` prints them; reads the same stream as the dashboard (/api/tap).

import { spawn } from 'node:child_process';
import type { MeshStatus } from '../../local/api-server.js';
import { resolveProxyPod } from './proxy-config.js';

async function status(server: string, cmd: string): Promise<MeshStatus | null> {
  try {
    const res = await fetch(`${server.replace(/\/$/, '')}/api/status`);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return (await res.json()) as MeshStatus;
  } catch (e) {
    process.stderr.write(`strait ${cmd}: cannot reach ${server} (${(e as Error).message}). Is \`strait up\` running? Use --server URL.\n`);
    return null;
  }
}

/** The command that opens a URL on this desktop, when there is one. */
function opener(): string | null {
  if (process.platform === 'darwin') return 'open';
  if (process.platform === 'win32') return null;
  return process.env.DISPLAY || process.env.WAYLAND_DISPLAY ? 'xdg-open' : null;
}

export async function runDashboard(opts: { server: string; open: boolean }): Promise<number> {
  if (!(await status(opts.server, 'dashboard'))) return 1;
  const url = `${opts.server.replace(/\/$/, '')}/dashboard`;
  process.stdout.write(`${url}\n`);
  const cmd = opts.open ? opener() : null;
  if (cmd) {
    const child = spawn(cmd, [url], { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
  }
  return 0;
}

interface TapLine {
  direction: string;
  method: string;
  authority: string;
  path: string;
  status: number;
  durationMs: number;
  flags: string;
  requestId: string;
  source: { pod: string; identity: string; verified: boolean };
  destination: { pod: string; identity: string; verified: boolean };
}

export function formatTapLine(e: TapLine): string {
  const who = (p: TapLine['source']) => `${p.pod || '-'}${p.identity ? ` (${p.identity.replace(/^spiffe:\/\//, '')}${p.verified ? ', mTLS' : ''})` : ''}`;
  return `${e.direction === 'inbound' ? 'in ' : 'out'} src=${who(e.source)} dst=${who(e.destination)} :method=${e.method} :authority=${e.authority} :path=${e.path} :status=${e.status} latency=${e.durationMs}ms flags=${e.flags} id=${e.requestId || '-'}`;
}

export async function runTap(ref: string, opts: { server: string; namespace?: string; method?: string; path?: string; authority?: string; max?: string; output?: string }): Promise<number> {
  const st = await status(opts.server, 'tap');
  if (!st) return 1;
  let pod;
  try {
    pod = resolveProxyPod(st, ref, opts.namespace);
  } catch (e) {
    process.stderr.write(`strait tap: ${(e as Error).message}\n`);
    return 1;
  }
  const q = new URLSearchParams({ pod: `${pod.namespace}/${pod.name}` });
  if (opts.method) q.set('method', opts.method.toUpperCase());
  if (opts.path) q.set('path', opts.path);
  if (opts.authority) q.set('authority', opts.authority);
  const max = Number(opts.max ?? '0') || Infinity;
  const res = await fetch(`${opts.server.replace(/\/$/, '')}/api/tap?${q}`);
  if (!res.ok || !res.body) {
    process.stderr.write(`strait tap: ${res.status} ${await res.text()}`);
    return 1;
  }
  process.stderr.write(`tapping ${pod.namespace}/${pod.name} (Ctrl-C stops)\n`);
  const decoder = new TextDecoder();
  let buf = '';
  let seen = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buf += decoder.decode(chunk, { stream: true });
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const msg = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const event = /^event: (.*)$/m.exec(msg)?.[1];
      const data = /^data: (.*)$/m.exec(msg)?.[1];
      if (event === 'request' && data) {
        process.stdout.write(opts.output === 'json' ? `${data}\n` : `${formatTapLine(JSON.parse(data) as TapLine)}\n`);
        if (++seen >= max) return 0;
      } else if (event === 'dropped' && data) {
        process.stderr.write(`(${(JSON.parse(data) as { dropped: number }).dropped} requests not shown: this terminal fell behind)\n`);
      } else if (event === 'end' || event === 'error') {
        if (data && event === 'error') process.stderr.write(`strait tap: ${data}\n`);
        return event === 'end' ? 0 : 1;
      }
    }
  }
  return 0;
}
