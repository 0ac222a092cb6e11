// Who may use the local control endpoints (the control plane's API and dashboard, a proxy's
// admin): requests made on this machine. A web page in a browser here must not reach them,
// neither through a name the attacker resolves to 127.0.0.1 (DNS rebinding: the Host header
// then carries that name) nor by posting from its own origin (the browser sends an Origin).

import type { IncomingMessage } from 'node:http';

/** A Host header naming this machine's loopback (an IP in 127/8, ::1 or localhost), any port. */
export function loopbackHost(host: string | undefined): boolean {
  if (!host) return true;
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '');
  return name === 'localhost' || name === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}

/** A loopback Host, and no Origin or a loopback one: what the CLI, curl and the dashboard send. */
export function sameMachine(req: IncomingMessage): boolean {
  if (!loopbackHost(req.headers.host)) return false;
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (!URL.canParse(origin)) return false;
  const o = new URL(origin);
  return (o.protocol === 'http:' || o.protocol === 'https:') && loopbackHost(o.host);
}
