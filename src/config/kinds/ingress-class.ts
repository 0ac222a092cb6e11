// networking.k8s.io/v1 IngressClass (kubernetes/api networking/v1 types.go): names the controller
// that serves the Ingresses of a class (ING-19), optionally with a reference to controller
// parameters (ING-20). Cluster-scoped, like Namespace. Validation follows the API server's
// (validateIngressClassSpec, validateIngressClassParametersReference); `parameters.scope` gets
// the API's default, Cluster. Strait's controller takes no parameters, so they are checked, kept
// and warned about. The default-class annotation becomes `isDefault` (ING-02).
//
// Which Ingresses an IngressClass makes Strait serve is decided in ../ingress-class.ts.

import { enumOf, field, obj, required, str, unsupported } from '../schema.js';
import type { IngressClassResource } from '../types.js';
import { checkDns1123Label, checkDns1123Subdomain, checkDomainPrefixedPath, checkPathSegmentName } from '../names.js';
import { DEFAULT_CLASS_ANNOTATION, STRAIT_CONTROLLER } from '../ingress-class.js';
import { defineKind, resourceSchema } from './common.js';

/** Longest controller name the API server accepts. */
export const MAX_CONTROLLER_LENGTH = 250;

function checkController(v: string): string | undefined {
  if (v.length > MAX_CONTROLLER_LENGTH) return `at most ${MAX_CONTROLLER_LENGTH} characters long (this one has ${v.length})`;
  return checkDomainPrefixedPath(v);
}

export const ingressClassParametersSchema = obj(
  {
    apiGroup: field(str({ rule: checkDns1123Subdomain }), 'omitted: the core API group'),
    kind: required(str({ nonEmpty: true, rule: checkPathSegmentName })),
    name: required(str({ nonEmpty: true, rule: checkPathSegmentName })),
    scope: field(enumOf(['Cluster', 'Namespace']), 'defaults to Cluster'),
    namespace: field(str({ rule: checkDns1123Label }), 'required when scope is Namespace, refused when it is Cluster'),
  },
  {
    refine(p, r) {
      const scope = p.scope ?? 'Cluster';
      if (scope === 'Namespace' && p.namespace === undefined) {
        r.error([], 'missing-field', "namespace is required when scope is 'Namespace'", 'add namespace: <the namespace of the parameters resource>', 'key');
      }
      if (scope === 'Cluster' && p.namespace !== undefined) {
        r.error(['namespace'], 'invalid-value', `namespace is not allowed when scope is 'Cluster'${p.scope === undefined ? ' (the default)' : ''}`, 'remove namespace, or set scope: Namespace', 'key');
      }
    },
  },
);

export const ingressClassSpecSchema = obj({
  controller: required(str({ nonEmpty: true, rule: checkController }), `a domain-prefixed path (ING-19); Strait's is ${STRAIT_CONTROLLER}`),
  parameters: unsupported(ingressClassParametersSchema, "Strait's controller takes no parameters"),
});

export const ingressClassSchema = resourceSchema({ spec: required(ingressClassSpecSchema) }, undefined, {
  refine(v, r) {
    const annotations = v.metadata.annotations ?? {};
    if (!Object.hasOwn(annotations, DEFAULT_CLASS_ANNOTATION)) return;
    const value = annotations[DEFAULT_CLASS_ANNOTATION];
    // Kubernetes' admission plugin compares with "true" exactly: "True" or "yes" silently do not
    // make a default class, which is worth saying.
    if (value !== 'true' && value.toLowerCase() !== 'false') {
      r.warn(['metadata', 'annotations', DEFAULT_CLASS_ANNOTATION], 'invalid-value', `only the exact string "true" marks the default class; ${JSON.stringify(value)} does not, so this class is not the default`, 'write "true" to make it the default class, or remove the annotation');
    }
  },
});

export const ingressClassKind = defineKind({
  kind: 'IngressClass',
  apiVersions: ['networking.k8s.io/v1'],
  origin: 'Kubernetes',
  clusterScoped: true,
  schema: ingressClassSchema,
  convert(v, base): IngressClassResource {
    const p = v.spec.parameters;
    return {
      ...base,
      kind: 'IngressClass',
      spec: {
        controller: v.spec.controller,
        ...(p !== undefined ? { parameters: { ...p, scope: p.scope ?? 'Cluster' } } : {}),
      },
      isDefault: base.metadata.annotations[DEFAULT_CLASS_ANNOTATION] === 'true',
    };
  },
});
