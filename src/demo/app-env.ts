// The environment every built-in sample workload reads (what the local runner or a Kubernetes
// Deployment gives the container): where to listen and which sidecar to call through. A bad
// value fails startup with a message naming the variable; an empty variable means unset, as
// manifests often template values that may come out empty.
//
// HOST, PORT   listen address; the --host/--port flags win
// HTTP_PROXY   the sidecar's outbound listener (http_proxy too); calls to other services go there

export type Env = Readonly<Record<string, string | undefined>>;

export interface ListenFlags {
  host?: string;
  port?: string;
}

export interface ListenAddress {
  host: string;
  port: number;
}

/** Reads a variable, treating the empty string as unset. */
export function envValue(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === '' ? undefined : v;
}

export function readListen(env: Env, flags: ListenFlags, defaultPort: number): ListenAddress {
  return {
    host: flags.host ?? envValue(env, 'HOST') ?? '127.0.0.1',
    port: parsePort(flags.port ?? envValue(env, 'PORT') ?? String(defaultPort)),
  };
}

export function parsePort(raw: string): number {
  const port = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (!(port <= 65535)) throw new Error(`port must be a number from 0 to 65535, got ${JSON.stringify(raw)}`);
  return port;
}

/** HTTP_PROXY (or http_proxy) as a URL, or null when calls should go straight to the target. */
export function readProxy(env: Env): URL | null {
  const raw = envValue(env, 'HTTP_PROXY') ?? envValue(env, 'http_proxy');
  if (raw === undefined) return null;
  // Like curl, accept a bare host:port and read it as http.
  const withScheme = raw.includes('://') ? raw : `http://${raw}`;
  if (!URL.canParse(withScheme)) throw new Error(`HTTP_PROXY is not a URL: ${JSON.stringify(raw)}`);
  const url = new URL(withScheme);
  if (url.protocol !== 'http:') throw new Error(`HTTP_PROXY must be an http:// URL, got ${JSON.stringify(raw)}`);
  return url;
}
