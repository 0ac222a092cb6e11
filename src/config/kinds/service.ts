// v1 Service: a stable name and ports in front of the pods its selector picks. Strait uses the
// selector, the ports (with targetPort resolved against container ports by the registry) and the
// type. Address-allocation, cloud load-balancer and node-port fields have no meaning when every
// Service gets a loopback address from Strait, so they are ignored; fields that change traffic
// behaviour and that Strait will implement later are reported as unsupported.

import { anyValue, enumOf, field, ignored, int, listOf, obj, oneOf, required, str, unsupported } from '../schema.js';
import type { ServicePort, ServiceResource } from '../types.js';
import { checkDns1035Label, checkDns1123Label, checkIanaServiceName } from '../names.js';
import { defineKind, labelMap, metadataSchema, resourceSchema } from './common.js';

const port = () => int({ min: 1, max: 65535 });

export const servicePortSchema = obj({
  name: field(str({ rule: checkDns1123Label }), 'required when the Service has more than one port'),
  port: required(port()),
  targetPort: field(oneOf(port(), str({ rule: checkIanaServiceName })), 'defaults to port'),
  protocol: field(enumOf(['TCP', 'UDP', 'SCTP']), 'defaults to TCP'),
  appProtocol: field(str()),
  nodePort: ignored('node ports belong to cluster nodes; Strait listens on loopback addresses'),
});

const cloudOnly = 'cloud load balancers and external addresses do not exist on one machine';

export const serviceSpecSchema = obj(
  {
    selector: field(labelMap, 'absent means the Service has no selector (endpoints come from elsewhere)'),
    ports: field(
      listOf(servicePortSchema, {
        refine(ports, r) {
          const names = new Map<string, number>();
          const numbers = new Map<string, number>();
          ports.forEach((p, i) => {
            if (ports.length > 1 && p.name === undefined) {
              r.error([i], 'missing-field', 'a port name is required when a Service has more than one port', 'add `name:` to every port (e.g. http, grpc)', 'key');
            }
            if (p.name !== undefined) {
              const first = names.get(p.name);
              if (first !== undefined) r.error([i, 'name'], 'duplicate-value', `port name "${p.name}" is already used by ports[${first}]`, 'give every port a different name');
              else names.set(p.name, i);
            }
            const key = `${p.port}/${p.protocol ?? 'TCP'}`;
            const firstNumber = numbers.get(key);
            if (firstNumber !== undefined) r.error([i, 'port'], 'duplicate-value', `port ${key} is already used by ports[${firstNumber}]`, 'give every port a different number or protocol');
            else numbers.set(key, i);
          });
        },
      }),
    ),
    type: field(enumOf(['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName']), 'defaults to ClusterIP'),
    clusterIP: ignored('Strait assigns every Service its own loopback address'),
    clusterIPs: ignored('Strait assigns every Service its own loopback address'),
    ipFamilies: ignored('Strait uses IPv4 loopback addresses'),
    ipFamilyPolicy: ignored('Strait uses IPv4 loopback addresses'),
    externalIPs: ignored(cloudOnly),
    loadBalancerIP: ignored(cloudOnly),
    loadBalancerSourceRanges: ignored(cloudOnly),
    loadBalancerClass: ignored(cloudOnly),
    allocateLoadBalancerNodePorts: ignored(cloudOnly),
    healthCheckNodePort: ignored(cloudOnly),
    externalTrafficPolicy: ignored('every endpoint is local on one machine'),
    internalTrafficPolicy: ignored('every endpoint is local on one machine'),
    trafficDistribution: ignored('one machine is one zone'),
    publishNotReadyAddresses: ignored('Strait does not run readiness probes yet, so every endpoint is ready'),
    sessionAffinity: unsupported(enumOf(['None', 'ClientIP']), 'client-IP affinity arrives with load-balancer options'),
    sessionAffinityConfig: unsupported(anyValue('a map')),
    externalName: unsupported(str(), 'ExternalName Services arrive with ServiceEntry support'),
  },
  {
    refine(spec, r) {
      if (spec.type === 'ExternalName') {
        r.warn(['type'], 'unsupported-value', 'type ExternalName is valid Kubernetes but Strait does not implement it yet; the Service is treated as ClusterIP', 'use a ClusterIP Service in front of a Deployment');
      }
      if ((spec.ports ?? []).length === 0 && spec.type !== 'ExternalName') {
        r.warn([], 'no-ports', 'the Service has no ports, so nothing can reach its pods through it', 'add spec.ports', 'key');
      }
    },
  },
);

export const serviceSchema = resourceSchema({ spec: required(serviceSpecSchema) }, metadataSchema(checkDns1035Label));

export const serviceKind = defineKind({
  kind: 'Service',
  apiVersions: ['v1'],
  origin: 'Kubernetes',
  schema: serviceSchema,
  convert(v, base): ServiceResource {
    const ports = (v.spec.ports ?? []).map((p): ServicePort => ({
      ...(p.name !== undefined ? { name: p.name } : {}),
      port: p.port,
      targetPort: p.targetPort ?? p.port,
      protocol: p.protocol ?? 'TCP',
      ...(p.appProtocol !== undefined ? { appProtocol: p.appProtocol } : {}),
    }));
    return {
      ...base,
      kind: 'Service',
      spec: {
        ...(v.spec.selector !== undefined ? { selector: v.spec.selector } : {}),
        ports,
        type: v.spec.type ?? 'ClusterIP',
      },
    };
  },
});
