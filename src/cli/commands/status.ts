// `strait status`: what a running `strait up` runs, from its API: every pod with its address,
// readiness, restarts, its proxy's acknowledged config version and workload certificate (time
// left), and the mesh CA's roots; `-o json` prints the API's document as is.

import type { MeshStatus } from '../../local/api-server.js';

export async function runStatus(opts: { output?: string; server: string }): Promise<number> {
  let status: MeshStatus;
  try {
    const res = await fetch(`${opts.server.replace(/\/$/, '')}/api/status`);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    status = (await res.json()) as MeshStatus;
  } catch (e) {
    process.stderr.write(`strait status: cannot reach ${opts.server} (${(e as Error).message}). Is \`strait up\` running? Use --server URL.\n`);
    return 1;
  }
  if (opts.output === 'json') {
    process.stdout.write(JSON.stringify(status, null, 2) + '\n');
    return 0;
  }
  const cp = status.controlPlane;
  const out: string[] = [];
  out.push(`control plane  xDS ${cp.xds}  snapshot ${cp.snapshot}  config generation ${cp.configGeneration}  ${cp.errors} errors, ${cp.warnings} warnings`);
  if (cp.lastReload) out.push(`last reload    ${cp.lastReload.ok ? 'ok' : 'REJECTED'}: ${cp.lastReload.message}`);
  if (cp.ca) {
    const roots = cp.ca.roots.map((r) => `${r.fingerprint.slice(0, 11)} until ${r.notAfter.slice(0, 10)}${r.signing ? ' (signing)' : ''}`).join(', ');
    out.push(`mesh CA        ${cp.ca.source}${cp.ca.dir ? ` in ${cp.ca.dir}` : ''}  trust domain ${cp.ca.trustDomain}  roots ${roots}`);
  }
  for (const g of status.gateways) out.push(`gateway        ${g.url}  (${g.gateway} port ${g.port}, hosts ${g.hosts.join(' ')})`);
  for (const i of status.ingresses) {
    const where = i.loadBalancer.ingress.map((a) => `${a.ip} ports ${a.ports.map((p) => p.port).join(',')}`).join('; ');
    out.push(`ingress        ${i.namespace}/${i.name}  class ${i.className ?? '-'}  ${i.served ? `served at ${where}` : `NOT SERVED: ${i.reason}`}`);
  }
  out.push('');
  const rows = [['NAMESPACE', 'POD', 'READY', 'STATUS', 'RESTARTS', 'IP', 'PROXY', 'CERT', 'CONFIG']];
  const now = Date.now();
  for (const p of status.pods) {
    const ready = `${p.containers.filter((c) => c.ready).length}/${p.containers.length}`;
    const restarts = String(p.containers.reduce((n, c) => n + c.restarts, 0));
    const proxy = p.proxy ? (p.proxy.connected ? (p.proxy.synced ? 'SYNCED' : 'STALE') : 'DISCONNECTED') : '-';
    const nack = p.proxy && Object.entries(p.proxy.versions).find(([, v]) => v.nack);
    const config = p.proxy ? (nack ? `${nack[0]} NACK: ${nack[1].nack}` : p.proxy.versions.LDS?.acked ?? '-') : '-';
    rows.push([p.namespace, p.name, ready, p.phase, restarts, p.ip, proxy, certLeft(p.proxy?.certificate, now, p.proxy !== null), config]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) out.push(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '));
  process.stdout.write(out.join('\n') + '\n');
  return 0;
}

/** Time left on a proxy's workload certificate (`23h`, `45m`), `none` before the first, `-` without a proxy. */
function certLeft(cert: { notAfter: string } | null | undefined, now: number, hasProxy: boolean): string {
  if (!hasProxy) return '-';
  if (!cert) return 'none';
  const left = Date.parse(cert.notAfter) - now;
  if (left <= 0) return 'EXPIRED';
  return left >= 3600e3 ? `${Math.floor(left / 3600e3)}h` : `${Math.max(1, Math.floor(left / 60e3))}m`;
}
