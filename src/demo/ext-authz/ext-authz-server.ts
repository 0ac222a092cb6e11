// Istio's sample external authorizer (samples/extauthz, image gcr.io/istio-testing/ext-authz),
// which the authz-custom task calls through the CUSTOM action. Its whole contract is one rule:
// a request is allowed when it carries `x-ext-authz: allow`, or when the caller's workload runs
// under the allowed service account (`a` by default, read from the SPIFFE principal the proxy
// sends: the gRPC check's source principal, or the X-Forwarded-Client-Cert URI on HTTP).
//
// HTTP check API (port 8000): the proxy forwards the request's method, path and chosen headers;
// 200 allows, anything else denies and is relayed to the client. gRPC check API (port 9000):
// envoy.service.auth.v3.Authorization/Check, answered with an OK or a PERMISSION_DENIED status.
// Both set `x-ext-authz-check-result: allowed|denied`, echo `x-ext-authz-additional-header-override`
// and summarise what they received in `x-ext-authz-check-received`, as the sample does.

import http from 'node:http';
import { safeHandler } from '../http-kit.js';

export const CHECK_HEADER = 'x-ext-authz';
export const RESULT_HEADER = 'x-ext-authz-check-result';
export const RECEIVED_HEADER = 'x-ext-authz-check-received';
export const OVERRIDE_HEADER = 'x-ext-authz-additional-header-override';
/** What the gRPC API puts in the override header (the sample's constant). */
export const GRPC_OVERRIDE_VALUE = 'grpc-additional-header-override-value';
export const DENY_BODY = 'denied by ext_authz for not found header `x-ext-authz: allow` in the request';

export interface ExtAuthzOptions {
  /** The service account whose workloads are allowed without the header. Default `a`. */
  allowServiceAccount?: string;
}

export interface Decision {
  allowed: boolean;
  /** Response headers for the proxy to pass on (upstream when allowed, client when denied). */
  headers: Record<string, string>;
}

/** The service account of `spiffe://<td>/ns/<ns>/sa/<sa>`, or undefined for anything else. */
export function serviceAccountOf(principal: string | undefined): string | undefined {
  return /^spiffe:\/\/[^/]+\/ns\/[^/]+\/sa\/([^/]+)$/.exec(principal ?? '')?.[1];
}

/** The URI of the last (nearest) element of an X-Forwarded-Client-Cert value. */
export function xfccUri(xfcc: string | undefined): string | undefined {
  if (!xfcc) return undefined;
  const last = xfcc.split(',').at(-1) ?? '';
  return /(?:^|;)URI=([^;]+)/.exec(last)?.[1];
}

/** The sample's rule, shared by both APIs. */
export function decide(headerValue: string | undefined, principal: string | undefined, override: string, received: string, opts: ExtAuthzOptions = {}): Decision {
  const sa = opts.allowServiceAccount ?? 'a';
  const allowed = headerValue === 'allow' || (principal !== undefined && serviceAccountOf(principal) === sa);
  return { allowed, headers: { [RESULT_HEADER]: allowed ? 'allowed' : 'denied', [OVERRIDE_HEADER]: override, [RECEIVED_HEADER]: received } };
}

export function createExtAuthzHttpServer(opts: ExtAuthzOptions = {}): http.Server {
  return http.createServer(
    safeHandler((req, res) => {
      const one = (name: string): string | undefined => {
        const v = req.headers[name];
        return Array.isArray(v) ? v[0] : v;
      };
      const received = `${req.method} ${req.headers.host ?? ''}${req.url ?? ''}, headers: ${JSON.stringify(req.headers)}`;
      const d = decide(one(CHECK_HEADER), xfccUri(one('x-forwarded-client-cert')), one(OVERRIDE_HEADER) ?? '', received, opts);
      // The body is drained but not read: the check is on the head alone.
      req.resume();
      res.writeHead(d.allowed ? 200 : 403, { ...d.headers, 'content-type': 'text/plain' });
      res.end(d.allowed ? '' : DENY_BODY);
    }),
  );
}
