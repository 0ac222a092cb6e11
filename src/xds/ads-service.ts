// The gRPC service definition of Envoy's Aggregated Discovery Service
// (envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources), with
// protobufjs doing the (de)serialisation, so server and client share one proto Root and the
// messages stay in their proto3-JSON shape. Resources inside responses stay encoded `Any`s;
// callers decode them with src/xds/codec.ts.

import type * as grpc from '@grpc/grpc-js';
import type { AnyMessage } from './codec.js';
import { discoveryTypes, JSON_OPTIONS, jsonToMessage } from './codec.js';
import type { Node } from './resources.js';

export interface DiscoveryRequest {
  versionInfo: string;
  node?: Node;
  resourceNames: string[];
  typeUrl: string;
  responseNonce: string;
  errorDetail?: { code: number; message: string };
}

export interface DiscoveryResponse {
  versionInfo: string;
  resources: AnyMessage[];
  typeUrl: string;
  nonce: string;
  controlPlane?: { identifier: string };
}

export const ADS_PATH = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';

function serializeRequest(r: DiscoveryRequest): Buffer {
  const { request } = discoveryTypes();
  const json: Record<string, unknown> = { versionInfo: r.versionInfo, resourceNames: r.resourceNames, typeUrl: r.typeUrl, responseNonce: r.responseNonce };
  if (r.node) json.node = r.node;
  if (r.errorDetail) json.errorDetail = r.errorDetail;
  return Buffer.from(request.encode(jsonToMessage(request, json)).finish());
}

function deserializeRequest(buf: Buffer): DiscoveryRequest {
  const { request } = discoveryTypes();
  const o = request.toObject(request.decode(buf), JSON_OPTIONS) as Partial<DiscoveryRequest>;
  return {
    versionInfo: o.versionInfo ?? '',
    node: o.node,
    resourceNames: o.resourceNames ?? [],
    typeUrl: o.typeUrl ?? '',
    responseNonce: o.responseNonce ?? '',
    errorDetail: o.errorDetail ? { code: o.errorDetail.code ?? 0, message: o.errorDetail.message ?? '' } : undefined,
  };
}

function serializeResponse(r: DiscoveryResponse): Buffer {
  const { response } = discoveryTypes();
  // Resources are already-encoded Anys: protobufjs accepts {type_url, value} as is.
  return Buffer.from(response.encode(response.fromObject(r as unknown as Record<string, unknown>)).finish());
}

function deserializeResponse(buf: Buffer): DiscoveryResponse {
  const { response } = discoveryTypes();
  const o = response.toObject(response.decode(buf), { longs: Number, enums: String, defaults: false }) as Partial<DiscoveryResponse>;
  return {
    versionInfo: o.versionInfo ?? '',
    resources: (o.resources ?? []).map((a) => ({ type_url: a.type_url, value: a.value })),
    typeUrl: o.typeUrl ?? '',
    nonce: o.nonce ?? '',
    controlPlane: o.controlPlane,
  };
}

export const ADS_SERVICE: grpc.ServiceDefinition = {
  StreamAggregatedResources: {
    path: ADS_PATH,
    requestStream: true,
    responseStream: true,
    requestSerialize: serializeRequest,
    requestDeserialize: deserializeRequest,
    responseSerialize: serializeResponse,
    responseDeserialize: deserializeResponse,
    originalName: 'streamAggregatedResources',
  },
};
