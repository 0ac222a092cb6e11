// The control plane's CA endpoints, served on the xDS gRPC server and port (Istio serves its CA
// beside xDS on istiod's port too). A proxy proves who it is before it gets a certificate: each
// call must carry `authorization: Bearer <token>` with a token the runner bound to the proxy's
// pod (src/ca/bootstrap-tokens.ts); anything else is UNAUTHENTICATED. The certificate's identity
// is the token's binding, never the CSR's content (src/ca/certificate-authority.ts).

import * as grpc from '@grpc/grpc-js';
import type { BootstrapTokens, TokenBinding } from '../ca/bootstrap-tokens.js';
import type { CertificateAuthority, IssuedCertificate } from '../ca/certificate-authority.js';
import { SignRequestError } from '../ca/certificate-authority.js';
import { AUTHORIZATION, bearerToken, CERTIFICATE_SERVICE, TRUST_BUNDLE_SERVICE } from './ca-service.js';
import type { CertificateRequest, CertificateResponse, TrustBundle } from './ca-service.js';

export interface CaServerOptions {
  readonly ca: CertificateAuthority;
  readonly tokens: BootstrapTokens;
  readonly log: (line: string) => void;
  /** Told about every certificate issued (for status: who holds what, until when). */
  readonly onIssued?: (who: TokenBinding, cert: IssuedCertificate) => void;
}

/** Something a gRPC server can add services to (the ADS server, or a bare grpc.Server in tests). */
export interface ServiceHost {
  addService(service: grpc.ServiceDefinition, implementation: grpc.UntypedServiceImplementation): void;
}

export function addCaServices(host: ServiceHost, opts: CaServerOptions): void {
  host.addService(CERTIFICATE_SERVICE, { CreateCertificate: createCertificate(opts) });
  host.addService(TRUST_BUNDLE_SERVICE, { WatchTrustBundle: watchTrustBundle(opts) });
}

function authenticate(opts: CaServerOptions, md: grpc.Metadata, peer: string): TokenBinding | grpc.StatusObject {
  const values = md.get(AUTHORIZATION);
  const token = bearerToken(values);
  if (token === undefined) {
    return { code: grpc.status.UNAUTHENTICATED, details: values.length === 0 ? 'missing authorization: Bearer <token> metadata' : 'authorization must be one "Bearer <token>" value', metadata: new grpc.Metadata() };
  }
  const who = opts.tokens.authenticate(token);
  if (!who) {
    opts.log(`ca: refused a request from ${peer}: unknown or revoked token`);
    return { code: grpc.status.UNAUTHENTICATED, details: 'unknown or revoked token', metadata: new grpc.Metadata() };
  }
  return who;
}

function isStatus(v: TokenBinding | grpc.StatusObject): v is grpc.StatusObject {
  return 'code' in v;
}

function createCertificate(opts: CaServerOptions): grpc.handleUnaryCall<CertificateRequest, CertificateResponse> {
  return (call, callback) => {
    const who = authenticate(opts, call.metadata, call.getPeer());
    if (isStatus(who)) {
      callback(who);
      return;
    }
    opts.ca.sign({ csrPem: call.request.csr, identity: who, ttlSeconds: call.request.validityDuration }).then(
      (cert) => {
        opts.onIssued?.(who, cert);
        callback(null, { certChain: [...cert.certChain] });
      },
      (e: Error) => {
        if (e instanceof SignRequestError) {
          opts.log(`ca: refused a certificate for ${who.holder}: ${e.message}`);
          callback({ code: grpc.status.INVALID_ARGUMENT, details: e.message });
        } else {
          opts.log(`ca: cannot sign for ${who.holder}: ${e.message}`);
          callback({ code: grpc.status.INTERNAL, details: `the CA cannot sign: ${e.message}` });
        }
      },
    );
  };
}

function watchTrustBundle(opts: CaServerOptions): grpc.handleServerStreamingCall<Record<string, never>, TrustBundle> {
  return (call) => {
    const who = authenticate(opts, call.metadata, call.getPeer());
    if (isStatus(who)) {
      call.emit('error', who);
      return;
    }
    const send = (roots: readonly string[]) => {
      if (!call.cancelled) call.write({ roots: [...roots] });
    };
    const unsubscribe = opts.ca.onBundleChange(send);
    call.on('cancelled', unsubscribe);
    call.on('close', unsubscribe);
    call.on('error', unsubscribe);
    send(opts.ca.trustBundle());
  };
}
