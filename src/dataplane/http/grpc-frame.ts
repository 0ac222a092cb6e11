// gRPC over HTTP/2 for the proxy's own unary calls (async-client.ts), as the gRPC protocol spec
// (PROTOCOL-HTTP2.md) defines it: each message is a 5-byte prefix (compressed flag, big-endian
// length) then the bytes; the answer is HTTP 200 with content-type application/grpc, the messages,
// and grpc-status / grpc-message in the trailers, or in the head alone ("trailers-only") when
// there is no message. Anything else (another HTTP status, a missing grpc-status, a compressed
// or partial message, none or several) is a failure, as Envoy's async gRPC client reports it.

import type { AsyncGrpcResult } from '../../filters/http/api.js';
import { httpToGrpcStatus, isGrpcRequest } from './grpc.js';

/** One uncompressed length-prefixed message. */
export function grpcFrame(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + message.length);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

/** grpc-timeout: at most 8 digits and a unit, so long deadlines are sent in coarser units (rounded up). */
export function grpcTimeout(ms: number): string {
  if (ms <= 99_999_999) return `${Math.ceil(ms)}m`;
  const s = Math.ceil(ms / 1000);
  return s <= 99_999_999 ? `${s}S` : `${Math.min(Math.ceil(s / 3600), 99_999_999)}H`;
}

function flatGet(flat: readonly string[], name: string): string | undefined {
  for (let i = 0; i < flat.length; i += 2) if (flat[i] === name) return flat[i + 1];
  return undefined;
}

/** grpc-message is percent-encoded (spec); a malformed escape is kept as sent. */
function decodeGrpcMessage(v: string): string {
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

/** The outcome of one unary call from its HTTP response (names lower-cased, flat lists). */
export function grpcUnaryAnswer(status: number, headers: readonly string[], body: Buffer, trailers: readonly string[]): AsyncGrpcResult {
  if (status !== 200) return { kind: 'failure', reason: `the service answered HTTP ${status}, not a gRPC response`, grpcStatus: httpToGrpcStatus(status) };
  if (!isGrpcRequest(flatGet(headers, 'content-type'))) return { kind: 'failure', reason: `the service answered content-type ${flatGet(headers, 'content-type') ?? '(none)'}, not application/grpc`, grpcStatus: 13 };
  // Trailers-only responses carry the status in the head.
  const from = flatGet(trailers, 'grpc-status') !== undefined ? trailers : headers;
  const code = flatGet(from, 'grpc-status');
  if (code === undefined || !/^\d+$/.test(code)) return { kind: 'failure', reason: 'the response ended without a grpc-status', grpcStatus: 13 };
  const grpcStatus = Number(code);
  if (grpcStatus !== 0) {
    const msg = flatGet(from, 'grpc-message');
    return { kind: 'failure', reason: `the service answered grpc-status ${grpcStatus}${msg ? ` (${decodeGrpcMessage(msg)})` : ''}`, grpcStatus };
  }
  if (body.length < 5) return { kind: 'failure', reason: 'grpc-status 0 without a response message', grpcStatus: 13 };
  // No grpc-accept-encoding is offered, so a server may not compress.
  if (body[0] !== 0) return { kind: 'failure', reason: 'the response message is compressed (none was offered)', grpcStatus: 13 };
  const len = body.readUInt32BE(1);
  if (body.length !== 5 + len) return { kind: 'failure', reason: body.length < 5 + len ? 'the response message is cut short' : 'more than one response message to a unary call', grpcStatus: 13 };
  return { kind: 'ok', message: body.subarray(5) };
}
