// The gRPC contract between proxies and the mesh CA, shared by the control plane (ca-server.ts)
// and the proxies' identity agent (src/dataplane/identity/ca-client.ts):
//
// - `istio.v1.auth.IstioCertificateService/CreateCertificate`, as Istio defines it (istio/api
//   security/v1alpha1/ca.proto): request `csr` (1, PEM) and `validity_duration` (3, seconds);
//   response `cert_chain` (1): the leaf, each intermediate, then the root bundle. Istio's optional
//   `metadata` (4) is not read; protobuf skips it when an Istio agent sends it.
// - `strait.ca.v1.TrustBundleService/WatchTrustBundle`: Strait's own server stream of the trust
//   bundle, sent at once and again whenever it changes (root rotation), so proxies refresh
//   ROOTCA without waiting for their next renewal. Istio carries the same news to its agents
//   over xDS (PCDS); a stream of its own keeps the proxies' secret names owned by one party.
//
// Both authenticate the caller by gRPC metadata `authorization: Bearer <token>`. The messages
// are small and fixed, so they are declared here rather than loaded from .proto files.

import type * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';

export const CREATE_CERTIFICATE_PATH = '/istio.v1.auth.IstioCertificateService/CreateCertificate';
export const WATCH_TRUST_BUNDLE_PATH = '/strait.ca.v1.TrustBundleService/WatchTrustBundle';

export interface CertificateRequest {
  csr: string;
  /** Seconds; 0 asks for the CA's default. */
  validityDuration: number;
}

export interface CertificateResponse {
  certChain: string[];
}

export interface TrustBundle {
  /** Every trusted root, one PEM certificate each, the signing root first. */
  roots: string[];
}

const root = protobuf.Root.fromJSON({
  nested: {
    istio: {
      nested: {
        v1: {
          nested: {
            auth: {
              nested: {
                IstioCertificateRequest: { fields: { csr: { type: 'string', id: 1 }, validityDuration: { type: 'int64', id: 3 } } },
                IstioCertificateResponse: { fields: { certChain: { rule: 'repeated', type: 'string', id: 1 } } },
              },
            },
          },
        },
      },
    },
    strait: {
      nested: {
        ca: {
          nested: {
            v1: {
              nested: {
                WatchTrustBundleRequest: { fields: {} },
                TrustBundle: { fields: { roots: { rule: 'repeated', type: 'string', id: 1 } } },
              },
            },
          },
        },
      },
    },
  },
});

const requestType = root.lookupType('istio.v1.auth.IstioCertificateRequest');
const responseType = root.lookupType('istio.v1.auth.IstioCertificateResponse');
const watchType = root.lookupType('strait.ca.v1.WatchTrustBundleRequest');
const bundleType = root.lookupType('strait.ca.v1.TrustBundle');

const CONVERT: protobuf.IConversionOptions = { longs: Number, defaults: true, arrays: true };

function codec<T extends object>(type: protobuf.Type): { serialize(v: T): Buffer; deserialize(b: Buffer): T } {
  return {
    serialize: (v) => Buffer.from(type.encode(type.fromObject(v as Record<string, unknown>)).finish()),
    deserialize: (b) => type.toObject(type.decode(b), CONVERT) as T,
  };
}

const request = codec<CertificateRequest>(requestType);
const response = codec<CertificateResponse>(responseType);
const watch = codec<Record<string, never>>(watchType);
const bundle = codec<TrustBundle>(bundleType);

export const CERTIFICATE_SERVICE: grpc.ServiceDefinition = {
  CreateCertificate: {
    path: CREATE_CERTIFICATE_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: request.serialize,
    requestDeserialize: request.deserialize,
    responseSerialize: response.serialize,
    responseDeserialize: response.deserialize,
    originalName: 'createCertificate',
  },
};

export const TRUST_BUNDLE_SERVICE: grpc.ServiceDefinition = {
  WatchTrustBundle: {
    path: WATCH_TRUST_BUNDLE_PATH,
    requestStream: false,
    responseStream: true,
    requestSerialize: watch.serialize,
    requestDeserialize: watch.deserialize,
    responseSerialize: bundle.serialize,
    responseDeserialize: bundle.deserialize,
    originalName: 'watchTrustBundle',
  },
};

export const AUTHORIZATION = 'authorization';

/** The token of an `authorization: Bearer <token>` value; undefined for any other form. */
export function bearerToken(values: readonly (string | Buffer)[]): string | undefined {
  if (values.length !== 1) return undefined;
  const m = /^Bearer ([\x21-\x7e]+)$/.exec(String(values[0]));
  return m ? m[1] : undefined;
}
