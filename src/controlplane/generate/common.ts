// Building blocks shared by the generators: the HTTP connection manager every listener carries,
// with Istio's access-log format, and small helpers for socket addresses.

import { ISTIO_TEXT_FORMAT } from '../../telemetry/access-log/format.js';
import { DOWNSTREAM_TLS_TYPE, FILE_ACCESS_LOG_TYPE, HCM_FILTER_NAME, HCM_TYPE, ROUTER_FILTER_NAME, ROUTER_TYPE, TLS_TRANSPORT_SOCKET } from '../../xds/resources.js';
import type { Address, FilterChain, HttpConnectionManager, RouteConfiguration, TransportSocket } from '../../xds/resources.js';

export function socketAddress(address: string, port: number): Address {
  return { socketAddress: { address, portValue: port } };
}

export interface HcmOptions {
  statPrefix: string;
  rds?: string;
  routeConfig?: RouteConfiguration;
  useRemoteAddress: boolean;
  serverName?: string;
  serverHeaderTransformation?: HttpConnectionManager['serverHeaderTransformation'];
}

export function httpFilterChain(o: HcmOptions): FilterChain {
  const hcm: HttpConnectionManager = {
    '@type': HCM_TYPE,
    statPrefix: o.statPrefix,
    httpFilters: [{ name: ROUTER_FILTER_NAME, typedConfig: { '@type': ROUTER_TYPE } }],
    useRemoteAddress: o.useRemoteAddress,
    accessLog: [
      {
        name: 'envoy.access_loggers.file',
        typedConfig: { '@type': FILE_ACCESS_LOG_TYPE, path: '/dev/stdout', logFormat: { textFormatSource: { inlineString: ISTIO_TEXT_FORMAT } } },
      },
    ],
  };
  if (o.rds) hcm.rds = { routeConfigName: o.rds, configSource: { ads: {}, resourceApiVersion: 'V3' } };
  if (o.routeConfig) hcm.routeConfig = o.routeConfig;
  if (o.serverName) hcm.serverName = o.serverName;
  if (o.serverHeaderTransformation) hcm.serverHeaderTransformation = o.serverHeaderTransformation;
  return { filters: [{ name: HCM_FILTER_NAME, typedConfig: hcm as unknown as FilterChain['filters'][number]['typedConfig'] }] };
}

/** Server TLS with one certificate from SDS; ALPN offers HTTP/2 and HTTP/1.1. */
export function tlsTransportSocket(sdsSecret: string): TransportSocket {
  return {
    name: TLS_TRANSPORT_SOCKET,
    typedConfig: {
      '@type': DOWNSTREAM_TLS_TYPE,
      commonTlsContext: {
        tlsCertificateSdsSecretConfigs: [{ name: sdsSecret, sdsConfig: { ads: {}, resourceApiVersion: 'V3' } }],
        alpnProtocols: ['h2', 'http/1.1'],
        tlsParams: { tlsMinimumProtocolVersion: 'TLSv1_2' },
      },
    },
  };
}
