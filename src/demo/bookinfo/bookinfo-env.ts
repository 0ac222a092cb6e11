// Where the Bookinfo services find each other, from the variables Bookinfo's own services read:
// `<APP>_HOSTNAME` (default the app name), `<APP>_SERVICE_PORT` (default 9080) and
// `SERVICES_DOMAIN` (appended as `.<domain>` when set). In the mesh these are plain service names
// (`http://reviews:9080`), resolved by the workload's sidecar through HTTP_PROXY.

import { envValue, parsePort, type Env } from '../app-env.js';

export type BookinfoService = 'details' | 'reviews' | 'ratings';

export const BOOKINFO_PORT = 9080;

/** The base URL of a Bookinfo service (no trailing slash): `http://reviews:9080`. */
export function serviceBaseUrl(env: Env, service: BookinfoService): URL {
  const prefix = service.toUpperCase();
  const host = envValue(env, `${prefix}_HOSTNAME`) ?? service;
  const domain = envValue(env, 'SERVICES_DOMAIN');
  const rawPort = envValue(env, `${prefix}_SERVICE_PORT`) ?? String(BOOKINFO_PORT);
  let port: number;
  try {
    port = parsePort(rawPort);
  } catch (e) {
    throw new Error(`${prefix}_SERVICE_PORT: ${(e as Error).message}`);
  }
  const raw = `http://${host}${domain ? `.${domain}` : ''}:${port}`;
  if (!URL.canParse(raw)) throw new Error(`${prefix}_HOSTNAME/SERVICES_DOMAIN do not make a URL: ${JSON.stringify(raw)}`);
  return new URL(raw);
}

/** `base` + path, keeping the base's host and port. */
export function serviceUrl(base: URL, path: string): URL {
  return new URL(path, base);
}
