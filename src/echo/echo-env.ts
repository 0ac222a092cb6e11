// Reads the echo workload's environment (what the local runner or a Kubernetes Deployment gives
// the container) into the listen address and EchoOptions. Kept apart from the server so the
// server stays pure configuration in; a bad variable fails startup with a message naming it.
//
// HOST, PORT                 listen address (127.0.0.1, 8080); the --host/--port flags win
// POD_NAME, POD_NAMESPACE,   reported as pod, namespace, podIP, serviceAccount
//   POD_IP, SERVICE_ACCOUNT
// POD_LABELS                 JSON object of the pod's labels, reported as labels
// ECHO_NAME, ECHO_VERSION    reported as service and version (default: the app / version label)
// HTTP_PROXY                 the sidecar's outbound listener; forwards go through it
// ECHO_FORWARD               forward target for requests without an x-echo-forward header
// ECHO_LOG=1                 one line per request on stdout

import { parseForwardUrl } from './forward.js';
import type { EchoOptions } from './echo-server.js';

export interface EchoConfig {
  host: string;
  port: number;
  logRequests: boolean;
  echo: EchoOptions;
}

export interface EchoFlags {
  host?: string;
  port?: string;
}

export function readEchoEnv(env: Readonly<Record<string, string | undefined>>, flags: EchoFlags = {}): EchoConfig {
  // An empty variable means unset: manifests often template values that may come out empty.
  const get = (name: string): string | undefined => (env[name] === '' ? undefined : env[name]);
  const labels = parseLabels(get('POD_LABELS'));
  return {
    host: flags.host ?? get('HOST') ?? '127.0.0.1',
    port: parsePort(flags.port ?? get('PORT') ?? '8080'),
    logRequests: get('ECHO_LOG') === '1',
    echo: {
      service: get('ECHO_NAME') ?? labels['app'] ?? null,
      version: get('ECHO_VERSION') ?? labels['version'] ?? null,
      pod: get('POD_NAME') ?? null,
      namespace: get('POD_NAMESPACE') ?? null,
      podIP: get('POD_IP') ?? null,
      serviceAccount: get('SERVICE_ACCOUNT') ?? null,
      labels,
      proxy: parseProxy(get('HTTP_PROXY')),
      defaultForward: parseDefaultForward(get('ECHO_FORWARD')),
    },
  };
}

function parsePort(raw: string): number {
  const port = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (!(port <= 65535)) throw new Error(`port must be a number from 0 to 65535, got ${JSON.stringify(raw)}`);
  return port;
}

function parseLabels(raw: string | undefined): Record<string, string> {
  if (raw === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new Error(`POD_LABELS is not JSON: ${JSON.stringify(raw)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)
    || !Object.values(parsed).every((v) => typeof v === 'string')) {
    throw new Error(`POD_LABELS must be a JSON object of string values, got ${raw}`);
  }
  return parsed as Record<string, string>;
}

function parseProxy(raw: string | undefined): URL | null {
  if (raw === undefined) return null;
  // Like curl, accept a bare host:port and read it as http.
  const withScheme = raw.includes('://') ? raw : `http://${raw}`;
  if (!URL.canParse(withScheme)) throw new Error(`HTTP_PROXY is not a URL: ${JSON.stringify(raw)}`);
  const url = new URL(withScheme);
  if (url.protocol !== 'http:') throw new Error(`HTTP_PROXY must be an http:// URL, got ${JSON.stringify(raw)}`);
  return url;
}

function parseDefaultForward(raw: string | undefined): URL | null {
  if (raw === undefined) return null;
  const url = parseForwardUrl(raw);
  if ('error' in url) throw new Error(`ECHO_FORWARD: ${url.error}`);
  return url;
}
