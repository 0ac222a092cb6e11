// networking.k8s.io/v1 Ingress (kubernetes/api networking/v1 types.go): edge routing by host and
// path to Services, with TLS terminated per SNI host. Every field of IngressSpec and its parts is
// described here, and validated the way the API server validates it on create
// (kubernetes pkg/apis/networking/validation), so an Ingress that passes `strait validate` is
// also accepted by a cluster. Where the API server's message would only name a regex, ours names
// the rule broken (ING-xx rows of the reference) and the fix.
//
// Conversions: an omitted or empty rule host becomes "no host" (ING-07); an ImplementationSpecific
// path that is omitted becomes "/" (the API stores "", which matches every path); an empty
// secretName is absent. Hosts are not lower-cased: the API server refuses upper-case hosts, so
// Strait reports them as errors with the lower-case spelling as the fix instead of silently
// accepting a manifest that a cluster would reject. `resource` backends are kept but warned
// about: Strait serves only Service backends.

import { INVALID, enumOf, field, formatPath, int, listOf, obj, required, str, unsupported } from '../schema.js';
import type { ObjectOf, Refiner, Schema } from '../schema.js';
import type { IngressBackend, IngressPath, IngressResource, IngressRule, IngressTLS } from '../types.js';
import {
  checkDns1035Label,
  checkDns1123Subdomain,
  checkIanaServiceName,
  checkPathSegmentName,
  checkWildcardDns1123Subdomain,
  isIpAddress,
} from '../names.js';
import { INGRESS_CLASS_ANNOTATION } from '../ingress-class.js';
import { defineKind, resourceSchema } from './common.js';

// ---- hosts -------------------------------------------------------------------------------------

export interface HostProblem {
  /** Completes "... is not a valid host: it ...". */
  readonly message: string;
  readonly fix: string;
}

/**
 * Why `h` is not a valid Ingress host (ING-05, ING-06), or undefined. The API server's rules: a
 * lower-case DNS-1123 subdomain, or `*.` followed by one; never an IP address (rule hosts only).
 * The checks are ordered so that the message names the actual slip (a port, a trailing dot,
 * capitals) rather than the generic character rule.
 */
export function ingressHostProblem(h: string, opts: { readonly allowIp?: boolean } = {}): HostProblem | undefined {
  if (h === '') return { message: 'must not be empty', fix: 'write a host name, or remove the entry' };
  const unbracketed = h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
  if (isIpAddress(unbracketed)) {
    return opts.allowIp
      ? undefined
      : { message: 'must be a DNS name, not an IP address', fix: 'use a DNS name, or omit host so that the rule matches every request, including those sent to an IP address (ING-07)' };
  }
  const withPort = /^([^:]+):(\d*)$/.exec(h);
  if (withPort) {
    return { message: 'must not include a port (Ingress hosts are matched without one: 80 for HTTP, 443 for HTTPS, ING-05)', fix: `write "${withPort[1]}"` };
  }
  if (h.endsWith('.') && h.length > 1) return { message: 'must not end with a dot', fix: `write "${h.slice(0, -1)}"` };
  if (h !== h.toLowerCase() && ingressHostProblem(h.toLowerCase(), opts) === undefined) {
    return { message: 'must be lower case (Kubernetes refuses capital letters in hosts)', fix: `write "${h.toLowerCase()}"` };
  }
  if (h === '*') {
    return { message: "must not be '*' alone", fix: 'omit host to match every host (ING-07), or write a wildcard such as *.example.com (ING-06)' };
  }
  if (h.includes('*')) {
    if (h.startsWith('*.') && !h.slice(1).includes('*')) {
      const rule = checkWildcardDns1123Subdomain(h);
      return rule === undefined ? undefined : { message: `must be ${rule}`, fix: "use lower-case letters, digits, '-' and '.' after '*.'" };
    }
    return { message: "may use '*' only as the whole first label, as in *.example.com (ING-06)", fix: 'write the wildcard as the first label (*.example.com), or list the hosts one by one' };
  }
  const rule = checkDns1123Subdomain(h);
  return rule === undefined ? undefined : { message: `must be ${rule}`, fix: "use lower-case letters, digits, '-' and '.' only" };
}

/** A host string checked with ingressHostProblem; `allowEmpty` for rule hosts, where "" means none. */
function hostSchema(opts: { readonly allowIp?: boolean; readonly allowEmpty?: boolean } = {}): Schema<string> {
  const base = str();
  return {
    ...base,
    expected: 'a host name',
    check(v, path, ctx, state) {
      const s = base.check(v, path, ctx, state);
      if (s === INVALID || (s === '' && opts.allowEmpty)) return s;
      const problem = ingressHostProblem(s, opts);
      if (problem) {
        ctx.error(path, 'invalid-value', `${formatPath(path)}: ${JSON.stringify(s)} is not a valid host: it ${problem.message}`, problem.fix);
        return INVALID;
      }
      return s;
    },
  };
}

// ---- backends ----------------------------------------------------------------------------------

const v1beta1Backend = 'networking.k8s.io/v1 writes a backend as service: {name: <service>, port: {number: <port>}} (or port: {name: <port name>})';

export const serviceBackendPortSchema = obj(
  {
    number: field(int({ min: 1, max: 65535 }), 'a port of the Service (not the container port)'),
    name: field(str({ rule: checkIanaServiceName }), 'the name of a port of the Service'),
  },
  { exactlyOne: [['number', 'name']] },
);

export const ingressServiceBackendSchema = obj({
  name: required(str({ rule: checkDns1035Label }), 'a Service in the namespace of the Ingress (ING-13)'),
  port: required(serviceBackendPortSchema, 'exactly one of number and name (ING-14)'),
});

/** TypedLocalObjectReference, as the API server checks it for `resource` backends. */
export const typedLocalObjectReferenceSchema = obj({
  apiGroup: field(str({ rule: checkDns1123Subdomain })),
  kind: required(str({ nonEmpty: true, rule: checkPathSegmentName })),
  name: required(str({ nonEmpty: true, rule: checkPathSegmentName })),
});

const RESOURCE_BACKEND_NOTE = 'Strait serves only Service backends: requests routed to a resource backend get 503';

export const ingressBackendSchema = obj(
  {
    service: field(ingressServiceBackendSchema),
    resource: unsupported(typedLocalObjectReferenceSchema, RESOURCE_BACKEND_NOTE, { ownWarning: true }),
  },
  {
    exactlyOne: [['service', 'resource']],
    formerly: { serviceName: v1beta1Backend, servicePort: v1beta1Backend },
    refine(b, r) {
      if (b.resource !== undefined) {
        r.warn(
          ['resource'],
          'unsupported-value',
          `a resource backend (${b.resource.kind} ${b.resource.name}) is valid Kubernetes (ING-15), but Strait serves only Service backends: requests routed here get 503`,
          'point the backend at a Service (service: {name, port}) that serves the content',
          'key',
        );
      }
    },
  },
);

// ---- paths, rules, tls --------------------------------------------------------------------------

export const INGRESS_PATH_TYPES = ['Exact', 'Prefix', 'ImplementationSpecific'] as const;

/** What the API server refuses inside Exact and Prefix paths, with the fix for each. */
const INVALID_PATH_SEQUENCES: readonly (readonly [string, string])[] = [
  ['//', 'collapse the repeated slashes'],
  ['/./', "remove the '.' segment"],
  ['/../', "remove the '..' segment"],
  ['%2f', 'write the path without an encoded slash (or use pathType ImplementationSpecific)'],
  ['%2F', 'write the path without an encoded slash (or use pathType ImplementationSpecific)'],
];
const INVALID_PATH_SUFFIXES: readonly (readonly [string, string])[] = [
  ['/..', "remove the final '..' segment"],
  ['/.', "remove the final '.' segment"],
];

type CheckedPath = { readonly path?: string; readonly pathType: (typeof INGRESS_PATH_TYPES)[number] };

function checkPath(p: CheckedPath, r: Refiner): void {
  const { path, pathType } = p;
  if (pathType === 'ImplementationSpecific') {
    if (path !== undefined && path !== '' && !path.startsWith('/')) {
      r.error(['path'], 'invalid-value', `must be an absolute path: ${JSON.stringify(path)} does not start with '/'`, `write "/${path}"`);
    }
    return;
  }
  if (path === undefined || path === '') {
    r.error(path === undefined ? [] : ['path'], 'missing-field', `pathType ${pathType} needs a path starting with '/' (ING-08)`, 'add path: / (or the path to match); only ImplementationSpecific paths may omit it', path === undefined ? 'key' : 'value');
    return;
  }
  if (!path.startsWith('/')) {
    r.error(['path'], 'invalid-value', `must be an absolute path: ${JSON.stringify(path)} does not start with '/' (ING-08)`, `write "/${path}"`);
  }
  for (const [seq, fix] of INVALID_PATH_SEQUENCES) {
    if (path.includes(seq)) r.error(['path'], 'invalid-value', `${JSON.stringify(path)} must not contain '${seq}' (Kubernetes refuses it in ${pathType} paths)`, fix);
  }
  for (const [suffix, fix] of INVALID_PATH_SUFFIXES) {
    if (path.endsWith(suffix)) r.error(['path'], 'invalid-value', `${JSON.stringify(path)} must not end with '${suffix}' (Kubernetes refuses it in ${pathType} paths)`, fix);
  }
}

export const httpIngressPathSchema = obj(
  {
    path: field(str(), "starts with '/'; required for Exact and Prefix; an omitted ImplementationSpecific path means '/' (ING-08)"),
    pathType: required(enumOf(INGRESS_PATH_TYPES, { expected: 'Exact, Prefix or ImplementationSpecific' }), 'Exact (ING-09), Prefix (ING-10) or ImplementationSpecific (ING-11)'),
    backend: required(ingressBackendSchema),
  },
  { refine: checkPath },
);

export const ingressRuleSchema = obj({
  host: field(hostSchema({ allowEmpty: true }), 'lower case, no port, no IP address; *.example.com matches exactly one label (ING-05, ING-06); omitted: every host (ING-07)'),
  http: field(obj({ paths: required(listOf(httpIngressPathSchema, { minItems: 1 })) }), 'omitted: the rule has no paths of its own, so requests for its host go to the default backend'),
});

export const ingressTlsSchema = obj(
  {
    hosts: field(listOf(hostSchema({ allowIp: true })), 'hosts served with this certificate, by SNI (ING-16); omitted: every host'),
    secretName: field(str({ rule: (v) => (v === '' ? undefined : checkDns1123Subdomain(v)) }), 'a Secret with tls.crt and tls.key in the namespace of the Ingress (ING-17); omitted: SNI routing only'),
  },
  {
    refine(tls, r) {
      // The API server accepts IP addresses here (it checks them only as DNS names, which a
      // dotted quad passes), but clients never send an IP address as SNI (RFC 6066 §3).
      (tls.hosts ?? []).forEach((h, i) => {
        if (isIpAddress(h)) {
          r.warn(['hosts', i], 'invalid-value', `${JSON.stringify(h)} is an IP address, which clients never send as SNI, so this entry never selects its certificate for it`, 'use the DNS name clients connect to');
        }
      });
    },
  },
);

type CheckedRule = ObjectOf<(typeof ingressRuleSchema)['fields']>;

export const ingressSpecSchema = obj(
  {
    ingressClassName: field(str({ rule: checkDns1123Subdomain }), 'the IngressClass of this Ingress; Strait serves classes whose controller is strait.dev/ingress-controller, such as its built-in class strait (ING-01)'),
    defaultBackend: field(ingressBackendSchema, 'receives requests that match no rule; without one they get 404 (ING-03)'),
    rules: field(listOf(ingressRuleSchema)),
    tls: field(listOf(ingressTlsSchema)),
  },
  {
    formerly: { backend: 'rename it to defaultBackend; networking.k8s.io/v1 writes it as defaultBackend: {service: {name: <service>, port: {number: <port>}}}' },
    refine(spec, r) {
      const rules: readonly CheckedRule[] = spec.rules ?? [];
      if (rules.length === 0 && spec.defaultBackend === undefined) {
        r.error([], 'missing-field', 'either defaultBackend or rules must be specified (ING-03)', 'add rules (hosts and paths), or a defaultBackend that receives every request', 'key');
      }
      if (spec.defaultBackend === undefined) {
        rules.forEach((rule, i) => {
          if (rule.http !== undefined) return;
          const host = rule.host ? `host ${rule.host}` : 'any host';
          r.warn(['rules', i], 'no-paths', `this rule has no http paths and the Ingress has no defaultBackend, so it routes no request for ${host}`, 'add http.paths to the rule, or a defaultBackend', 'value');
        });
      }
    },
  },
);

export const ingressSchema = resourceSchema({ spec: required(ingressSpecSchema) }, undefined, {
  refine(v, r) {
    const annotations = v.metadata.annotations ?? {};
    if (!Object.hasOwn(annotations, INGRESS_CLASS_ANNOTATION)) return;
    const annotated = annotations[INGRESS_CLASS_ANNOTATION];
    const at = ['metadata', 'annotations', INGRESS_CLASS_ANNOTATION];
    const className = v.spec.ingressClassName;
    if (className !== undefined && annotated !== className) {
      // The API server refuses this combination on create (ValidateIngressCreate).
      r.error(at, 'conflict', `must match spec.ingressClassName when both are set: the annotation says ${JSON.stringify(annotated)}, ingressClassName says ${JSON.stringify(className)}`, `remove the deprecated annotation ${INGRESS_CLASS_ANNOTATION}; spec.ingressClassName replaces it`);
    } else if (className === undefined) {
      r.warn(at, 'deprecated', `the annotation ${INGRESS_CLASS_ANNOTATION} is deprecated since Kubernetes 1.18; Strait still honours it (ING-01)`, `replace it with spec.ingressClassName: ${annotated || '<class>'}`, 'key');
    }
  },
});

// ---- conversion --------------------------------------------------------------------------------

type CheckedBackend = ObjectOf<(typeof ingressBackendSchema)['fields']>;

function toBackend(b: CheckedBackend): IngressBackend {
  const service = b.service;
  const resource = b.resource;
  return {
    ...(service
      ? {
          service: {
            name: service.name,
            port: service.port.number !== undefined ? { number: service.port.number } : { name: service.port.name },
          },
        }
      : {}),
    ...(resource ? { resource: { ...(resource.apiGroup !== undefined ? { apiGroup: resource.apiGroup } : {}), kind: resource.kind, name: resource.name } } : {}),
  };
}

export const ingressKind = defineKind({
  kind: 'Ingress',
  apiVersions: ['networking.k8s.io/v1'],
  origin: 'Kubernetes',
  schema: ingressSchema,
  convert(v, base): IngressResource {
    const rules = (v.spec.rules ?? []).map((rule, i): IngressRule => {
      const at = ['spec', 'rules', i] as const;
      const paths = (rule.http?.paths ?? []).map(
        (p, j): IngressPath => ({
          // Validation left only ImplementationSpecific paths possibly empty; "" matches
          // every path, which is what "/" says explicitly.
          path: p.path === undefined || p.path === '' ? '/' : p.path,
          pathType: p.pathType,
          backend: toBackend(p.backend),
          at: [...at, 'http', 'paths', j],
        }),
      );
      return { ...(rule.host ? { host: rule.host } : {}), paths, at };
    });
    const tls = (v.spec.tls ?? []).map(
      (t, i): IngressTLS => ({ hosts: t.hosts ?? [], ...(t.secretName ? { secretName: t.secretName } : {}), at: ['spec', 'tls', i] }),
    );
    return {
      ...base,
      kind: 'Ingress',
      spec: {
        ...(v.spec.ingressClassName !== undefined ? { ingressClassName: v.spec.ingressClassName } : {}),
        ...(v.spec.defaultBackend !== undefined ? { defaultBackend: toBackend(v.spec.defaultBackend) } : {}),
        rules,
        tls,
      },
    };
  },
});
