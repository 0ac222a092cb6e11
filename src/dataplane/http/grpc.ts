// gRPC facts the HTTP path needs: recognising a gRPC request, and answering one the gRPC way.
// Envoy turns every local reply to a gRPC request (no route, no healthy upstream, a fault abort,
// a denied request) into HTTP 200 "trailers-only" with grpc-status mapped from the HTTP status
// (grpc/doc/http-grpc-status-mapping.md) and the explanation in grpc-message, because gRPC
// clients read the status from there and ignore the HTTP one.

import type { LocalReply } from './local-reply.js';

/** Envoy's Grpc::Common::isGrpcRequestHeaders: application/grpc, optionally +proto/;params. */
export function isGrpcRequest(contentType: string | undefined): boolean {
  if (contentType === undefined || !contentType.startsWith('application/grpc')) return false;
  const next = contentType.charAt(16);
  return next === '' || next === '+' || next === ';';
}

/** HTTP status → gRPC status code, as Envoy maps it. */
export function httpToGrpcStatus(status: number): number {
  switch (status) {
    case 400:
      return 13; // INTERNAL
    case 401:
      return 16; // UNAUTHENTICATED
    case 403:
      return 7; // PERMISSION_DENIED
    case 404:
      return 12; // UNIMPLEMENTED
    case 429:
    case 502:
    case 503:
    case 504:
      return 14; // UNAVAILABLE
    default:
      return 2; // UNKNOWN
  }
}

/** grpc-message is percent-encoded outside printable ASCII (gRPC over HTTP/2 spec). */
function grpcMessage(text: string): string {
  return text.replace(/[^\x20-\x24\x26-\x7e]/gu, (c) => encodeURIComponent(c));
}

/** The gRPC form of a local reply; a reply that already carries grpc-status is kept as is. */
export function grpcLocalReply(r: LocalReply): LocalReply {
  if (r.headers?.some(([k]) => k === 'grpc-status')) return r;
  return {
    ...r,
    status: 200,
    headers: [...(r.headers ?? []), ['content-type', 'application/grpc'], ['grpc-status', String(httpToGrpcStatus(r.status))], ['grpc-message', grpcMessage(r.message)]],
    body: '',
  };
}
