// Headers a Bookinfo service copies from the request it serves onto the calls that request
// causes (reference §2.12): the proxies create spans, but only the application can tie an
// inbound request to its outbound calls, so it must carry the trace context across. Plus the
// request context Bookinfo forwards (user agent, cookie, credentials) and, between the backend
// services, `end-user` (productpage sets that one itself, from the login).

import type http from 'node:http';

export const TRACE_HEADERS: readonly string[] = [
  'x-request-id',
  'traceparent', 'tracestate',
  'x-b3-traceid', 'x-b3-spanid', 'x-b3-parentspanid', 'x-b3-sampled', 'x-b3-flags', 'b3',
  'x-ot-span-context',
  'x-datadog-trace-id', 'x-datadog-parent-id', 'x-datadog-sampling-priority',
  'x-cloud-trace-context', 'grpc-trace-bin',
  'sw8',
];

export const CONTEXT_HEADERS: readonly string[] = ['user-agent', 'cookie', 'authorization', 'jwt'];

/** What productpage forwards: never an inbound `end-user`, which only the login may set. */
export const PRODUCTPAGE_FORWARDED: readonly string[] = [...TRACE_HEADERS, ...CONTEXT_HEADERS];

/** What details and reviews forward to the services they call. */
export const BACKEND_FORWARDED: readonly string[] = [...TRACE_HEADERS, 'end-user', ...CONTEXT_HEADERS];

export function pickHeaders(inbound: http.IncomingHttpHeaders, names: readonly string[]): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const name of names) {
    const v = inbound[name];
    if (v !== undefined) out[name] = v;
  }
  return out;
}
