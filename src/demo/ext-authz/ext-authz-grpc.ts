// The gRPC check API of the sample external authorizer (ext-authz-server.ts has the rule):
// envoy.service.auth.v3.Authorization/Check. Only the fields the sample reads or writes are
// declared (field numbers from envoy/service/auth/v3/external_auth.proto and
// attribute_context.proto); protobuf skips the rest of what a proxy sends.

import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { decide, DENY_BODY, GRPC_OVERRIDE_VALUE, CHECK_HEADER } from './ext-authz-server.js';
import type { ExtAuthzOptions } from './ext-authz-server.js';

export const CHECK_PATH = '/envoy.service.auth.v3.Authorization/Check';

const header = { fields: { header: { type: 'HeaderValue', id: 1 } } };
// fromJSON's types omit map fields' keyType, which protobufjs reads; the shape is checked by the test.
const root = protobuf.Root.fromJSON({
  nested: {
    check: {
      nested: {
        HeaderValue: { fields: { key: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } } },
        HeaderValueOption: header,
        HttpRequest: { fields: { method: { type: 'string', id: 2 }, headers: { keyType: 'string', type: 'string', id: 3 } as protobuf.IField, path: { type: 'string', id: 4 }, host: { type: 'string', id: 5 } } },
        Request: { fields: { http: { type: 'HttpRequest', id: 2 } } },
        Peer: { fields: { principal: { type: 'string', id: 4 } } },
        AttributeContext: { fields: { source: { type: 'Peer', id: 1 }, request: { type: 'Request', id: 4 } } },
        CheckRequest: { fields: { attributes: { type: 'AttributeContext', id: 1 } } },
        Status: { fields: { code: { type: 'int32', id: 1 }, message: { type: 'string', id: 2 } } },
        HttpStatus: { fields: { code: { type: 'int32', id: 1 } } },
        DeniedHttpResponse: { fields: { status: { type: 'HttpStatus', id: 1 }, headers: { rule: 'repeated', type: 'HeaderValueOption', id: 2 }, body: { type: 'string', id: 3 } } },
        OkHttpResponse: { fields: { headers: { rule: 'repeated', type: 'HeaderValueOption', id: 2 } } },
        CheckResponse: { fields: { status: { type: 'Status', id: 1 }, deniedResponse: { type: 'DeniedHttpResponse', id: 2 }, okResponse: { type: 'OkHttpResponse', id: 3 } } },
      },
    },
  },
});

export interface CheckRequest {
  attributes?: { source?: { principal?: string }; request?: { http?: { method?: string; headers?: Record<string, string>; path?: string; host?: string } } };
}

interface HeaderOption {
  header: { key: string; value: string };
}

export interface CheckResponse {
  status: { code: number; message?: string };
  deniedResponse?: { status: { code: number }; headers: HeaderOption[]; body: string };
  okResponse?: { headers: HeaderOption[] };
}

const requestType = root.lookupType('check.CheckRequest');
const responseType = root.lookupType('check.CheckResponse');

/** gRPC status codes the answer uses. */
const OK = 0;
const PERMISSION_DENIED = 7;

export const AUTHORIZATION_SERVICE: grpc.ServiceDefinition = {
  Check: {
    path: CHECK_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: (v: CheckRequest) => Buffer.from(requestType.encode(requestType.fromObject(v)).finish()),
    requestDeserialize: (b: Buffer) => requestType.toObject(requestType.decode(b), { defaults: true }) as CheckRequest,
    responseSerialize: (v: CheckResponse) => Buffer.from(responseType.encode(responseType.fromObject(v)).finish()),
    responseDeserialize: (b: Buffer) => responseType.toObject(responseType.decode(b), { defaults: true, arrays: true }) as CheckResponse,
    originalName: 'check',
  },
};

/** The sample's answer to one check. */
export function check(req: CheckRequest, opts: ExtAuthzOptions = {}): CheckResponse {
  const http = req.attributes?.request?.http ?? {};
  const received = JSON.stringify(req.attributes ?? {});
  const d = decide(http.headers?.[CHECK_HEADER], req.attributes?.source?.principal || undefined, GRPC_OVERRIDE_VALUE, received, opts);
  const headers = Object.entries(d.headers).map(([key, value]) => ({ header: { key, value } }));
  if (d.allowed) return { status: { code: OK }, okResponse: { headers } };
  // Forbidden: envoy.type.v3.StatusCode 403.
  return { status: { code: PERMISSION_DENIED, message: DENY_BODY }, deniedResponse: { status: { code: 403 }, headers, body: DENY_BODY } };
}

export function createExtAuthzGrpcServer(opts: ExtAuthzOptions = {}): grpc.Server {
  const server = new grpc.Server();
  server.addService(AUTHORIZATION_SERVICE, {
    Check: (call: grpc.ServerUnaryCall<CheckRequest, CheckResponse>, done: grpc.sendUnaryData<CheckResponse>) => done(null, check(call.request, opts)),
  });
  return server;
}

/** Binds the server (insecure: the sidecar in front of it does the TLS); resolves with the port. */
export function listenGrpc(server: grpc.Server, host: string, port: number): Promise<number> {
  const target = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return new Promise((resolve, reject) => server.bindAsync(target, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
}
