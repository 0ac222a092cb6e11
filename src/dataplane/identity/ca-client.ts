// The proxy's client of the mesh CA (src/xds/ca-service.ts): one gRPC channel to the control
// plane's xDS port, every call carrying the pod's bootstrap token. The agent decides when to call
// and what to do with failures; this module only speaks the protocol.

import * as grpc from '@grpc/grpc-js';
import type { Clock } from '../../common/clock.js';
import { AUTHORIZATION, CERTIFICATE_SERVICE, TRUST_BUNDLE_SERVICE } from '../../xds/ca-service.js';
import type { CertificateRequest, CertificateResponse, TrustBundle } from '../../xds/ca-service.js';

/** What the identity agent needs from a CA (a fake in unit tests, CaClient otherwise). */
export interface CertificateSource {
  /** Sends a CSR; resolves to Istio's cert_chain: leaf, intermediates, then the root bundle. */
  createCertificate(csrPem: string, ttlSeconds: number): Promise<string[]>;
  /** Streams the trust bundle (now, then on every change) until cancelled or broken. */
  watchTrustBundle(onBundle: (roots: string[]) => void, onEnd: (error: Error) => void): { cancel(): void };
  close(): void;
}

const CALL_TIMEOUT_MS = 10_000;

type CertStub = grpc.Client & {
  CreateCertificate(req: CertificateRequest, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: CertificateResponse) => void): void;
};
type BundleStub = grpc.Client & { WatchTrustBundle(req: Record<string, never>, md: grpc.Metadata): grpc.ClientReadableStream<TrustBundle> };

const CertClient = grpc.makeGenericClientConstructor(CERTIFICATE_SERVICE, 'IstioCertificateService');
const BundleClient = grpc.makeGenericClientConstructor(TRUST_BUNDLE_SERVICE, 'TrustBundleService');

export class CaClient implements CertificateSource {
  private readonly certs: CertStub;
  private readonly bundles: BundleStub;

  constructor(
    /** host:port of the control plane's gRPC server. */
    readonly address: string,
    /** The pod's bootstrap token; null sends none (the CA then refuses every call). */
    private readonly token: string | null,
    /** For call deadlines, which grpc-js takes as wall-clock times: give it the system clock. */
    private readonly clock: Clock,
  ) {
    this.certs = new CertClient(address, grpc.credentials.createInsecure()) as unknown as CertStub;
    // The same channel for both services: grpc-js shares it when the target and options match.
    this.bundles = new BundleClient(address, grpc.credentials.createInsecure(), { channelOverride: this.certs.getChannel() }) as unknown as BundleStub;
  }

  private metadata(): grpc.Metadata {
    const md = new grpc.Metadata();
    if (this.token !== null) md.set(AUTHORIZATION, `Bearer ${this.token}`);
    return md;
  }

  createCertificate(csrPem: string, ttlSeconds: number): Promise<string[]> {
    return new Promise((resolve, reject) => {
      const deadline = this.clock.now() + CALL_TIMEOUT_MS;
      this.certs.CreateCertificate({ csr: csrPem, validityDuration: ttlSeconds }, this.metadata(), { deadline }, (err, res) => {
        if (err) reject(new Error(`CA ${this.address}: ${grpc.status[err.code] ?? err.code}: ${err.details}`));
        else if (!res || res.certChain.length < 2) reject(new Error(`CA ${this.address}: the response holds no certificate chain`));
        else resolve(res.certChain);
      });
    });
  }

  watchTrustBundle(onBundle: (roots: string[]) => void, onEnd: (error: Error) => void): { cancel(): void } {
    const call = this.bundles.WatchTrustBundle({}, this.metadata());
    let ended = false;
    const end = (e: Error) => {
      if (!ended) {
        ended = true;
        onEnd(e);
      }
    };
    call.on('data', (b: TrustBundle) => onBundle(b.roots));
    call.on('error', (e: grpc.ServiceError) => end(new Error(`trust bundle stream: ${grpc.status[e.code] ?? e.code}: ${e.details}`)));
    call.on('end', () => end(new Error('trust bundle stream ended')));
    return {
      cancel: () => {
        ended = true;
        call.cancel();
      },
    };
  }

  close(): void {
    this.bundles.close();
    this.certs.close();
  }
}
