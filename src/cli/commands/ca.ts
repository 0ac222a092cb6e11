// `strait ca status|rotate-root|retire-roots`: the mesh CA of a running `strait up`, through its
// API. `status` lists the trusted roots (the signing one first) and the certificate each proxy
// was issued last; `rotate-root` makes a new self-signed root the signer while every proxy keeps
// trusting the old one; `retire-roots` drops the old roots once every proxy has renewed.

import type { CaStatus } from '../../local/api-server.js';

export type CaAction = 'status' | 'rotate-root' | 'retire-roots';

function print(st: CaStatus, now: number): void {
  const out: string[] = [];
  if (!st.ca) {
    process.stdout.write('the mesh CA is not running\n');
    return;
  }
  out.push(`source        ${st.ca.source}${st.ca.dir ? ` (${st.ca.dir})` : ''}`);
  out.push(`trust domain  ${st.ca.trustDomain}`);
  for (const r of st.ca.roots) out.push(`root          ${r.fingerprint}  until ${r.notAfter}${r.signing ? '  signing' : '  trusted (overlap)'}`);
  out.push('');
  const rows = [['HOLDER', 'IDENTITY', 'SERIAL', 'EXPIRES IN', 'ROOT']];
  for (const c of st.certificates) {
    const left = Date.parse(c.notAfter) - now;
    const expires = left <= 0 ? 'EXPIRED' : left >= 3600e3 ? `${Math.floor(left / 3600e3)}h${Math.floor((left % 3600e3) / 60e3)}m` : `${Math.floor(left / 60e3)}m`;
    rows.push([c.holder, c.spiffeId, c.serial, expires, c.root.slice(0, 11)]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) out.push(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '));
  process.stdout.write(out.join('\n') + '\n');
}

export async function runCa(action: CaAction, opts: { server: string; output?: string; force?: boolean }): Promise<number> {
  const server = opts.server.replace(/\/$/, '');
  const url = action === 'status' ? `${server}/api/ca` : `${server}/api/ca/${action}${opts.force ? '?force=true' : ''}`;
  let res: Response;
  try {
    res = await fetch(url, { method: action === 'status' ? 'GET' : 'POST' });
  } catch (e) {
    process.stderr.write(`strait ca: cannot reach ${server} (${(e as Error).message}). Is \`strait up\` running? Use --server URL.\n`);
    return 1;
  }
  const body = (await res.json()) as CaStatus & { message?: string; error?: string };
  if (!res.ok) {
    process.stderr.write(`strait ca ${action}: ${body.error ?? `HTTP ${res.status}`}\n`);
    return 1;
  }
  if (opts.output === 'json') {
    process.stdout.write(JSON.stringify(body, null, 2) + '\n');
    return 0;
  }
  if (body.message) process.stdout.write(`${body.message}\n\n`);
  print(body, Date.now());
  return 0;
}
