// The table of kinds Strait reads: the ones it implements (with their schemas), the ones it
// accepts and checks without using (ServiceAccount; ConfigMaps other than the mesh config), and
// the ones from the same API families that it will implement later (loaded with an `unsupported-kind` warning instead of an error, so a real cluster's manifests
// can be pointed at Strait as they are). `fieldStatusTable()` walks the schemas and lists every
// field with its status and note: the single source for the field-support documentation.

import type { FieldStatus, Fields, ListSchema, MapSchema, ObjectSchema, Schema } from '../schema.js';
import type { KindDefinition } from './common.js';
import { authorizationPolicyKind } from './authorization-policy.js';
import { configMapKind } from './config-map.js';
import { deploymentKind } from './deployment.js';
import { destinationRuleKind } from './destination-rule.js';
import { gatewayKind } from './gateway.js';
import { ingressClassKind } from './ingress-class.js';
import { ingressKind } from './ingress.js';
import { MESH_CONFIG_MAP, meshConfigSchema } from './mesh-config.js';
import { namespaceKind } from './namespace.js';
import { peerAuthenticationKind } from './peer-authentication.js';
import { requestAuthenticationKind } from './request-authentication.js';
import { secretKind } from './secret.js';
import { serviceAccountKind } from './service-account.js';
import { serviceEntryKind, workloadEntryKind } from './service-entry.js';
import { serviceKind } from './service.js';
import { sidecarKind } from './sidecar.js';
import { telemetryKind } from './telemetry.js';
import { virtualServiceKind } from './virtual-service.js';

export type { KindDefinition } from './common.js';

export const KINDS: readonly KindDefinition[] = [
  namespaceKind,
  serviceKind,
  deploymentKind,
  secretKind,
  serviceAccountKind,
  configMapKind,
  gatewayKind,
  virtualServiceKind,
  destinationRuleKind,
  serviceEntryKind,
  workloadEntryKind,
  sidecarKind,
  peerAuthenticationKind,
  requestAuthenticationKind,
  authorizationPolicyKind,
  telemetryKind,
  ingressKind,
  ingressClassKind,
];

export interface FutureKind {
  readonly kind: string;
  readonly apiVersions: readonly string[];
}

const gatewayApi = ['gateway.networking.k8s.io/v1', 'gateway.networking.k8s.io/v1beta1'];

/** Kinds Strait will implement later: accepted with a warning, never stored. */
export const FUTURE_KINDS: readonly FutureKind[] = [
  { kind: 'EnvoyFilter', apiVersions: ['networking.istio.io/v1alpha3'] },
  { kind: 'Gateway', apiVersions: gatewayApi },
  { kind: 'HTTPRoute', apiVersions: gatewayApi },
  { kind: 'GatewayClass', apiVersions: gatewayApi },
];

export type KindLookup =
  | { readonly type: 'known'; readonly def: KindDefinition }
  | { readonly type: 'future'; readonly def: FutureKind }
  /** The kind exists, but not at this apiVersion. */
  | { readonly type: 'wrong-version'; readonly accepted: readonly string[] }
  | { readonly type: 'unknown'; readonly candidates: readonly string[] };

/** Every kind name Strait recognises, for did-you-mean suggestions. */
export function knownKindNames(): string[] {
  return [...new Set([...KINDS.map((k) => k.kind), ...FUTURE_KINDS.map((k) => k.kind)])];
}

export function lookupKind(apiVersion: string, kind: string): KindLookup {
  const def = KINDS.find((k) => k.kind === kind && k.apiVersions.includes(apiVersion));
  if (def) return { type: 'known', def };
  const future = FUTURE_KINDS.find((k) => k.kind === kind && k.apiVersions.includes(apiVersion));
  if (future) return { type: 'future', def: future };
  const accepted = [...KINDS, ...FUTURE_KINDS].filter((k) => k.kind === kind).flatMap((k) => k.apiVersions);
  if (accepted.length > 0) return { type: 'wrong-version', accepted };
  return { type: 'unknown', candidates: knownKindNames() };
}

// ---- documentation table ----------------------------------------------------------------------

export interface FieldStatusRow {
  readonly kind: string;
  /** Dotted path with `[]` for list items and `{}` for map values: spec.http[].match[].uri.exact */
  readonly path: string;
  readonly status: FieldStatus;
  readonly note?: string;
}

/** Follows lists and maps down to the object schema they contain (`type` tells which interface). */
function innerObject(s: Schema<unknown>, suffix = ''): { schema: ObjectSchema<Fields>; suffix: string } | undefined {
  if (s.type === 'object') return { schema: s as ObjectSchema<Fields>, suffix };
  if (s.type === 'list') return innerObject((s as ListSchema<unknown>).items, `${suffix}[]`);
  if (s.type === 'map') return innerObject((s as MapSchema<unknown>).values, `${suffix}{}`);
  return undefined;
}

function rows(kind: string, schema: ObjectSchema<Fields>, prefix: string, inherited: FieldStatus | undefined, out: FieldStatusRow[]): void {
  for (const [name, spec] of Object.entries(schema.fields)) {
    const path = prefix ? `${prefix}.${name}` : name;
    // Below an unsupported field everything is unsupported, whatever its own declaration says.
    const status = inherited ?? spec.status;
    out.push({ kind, path, status, ...(spec.note !== undefined ? { note: spec.note } : {}) });
    const inner = spec.schema ? innerObject(spec.schema) : undefined;
    if (inner) rows(kind, inner.schema, `${path}${inner.suffix}`, status === 'unsupported' ? 'unsupported' : inherited, out);
  }
}

/** The mesh config is not a kind but YAML inside a ConfigMap; it is documented like one. */
export const MESH_CONFIG_DOC = {
  kind: 'MeshConfig',
  title: `MeshConfig (ConfigMap ${MESH_CONFIG_MAP.namespace}/${MESH_CONFIG_MAP.name}, key ${MESH_CONFIG_MAP.key})`,
  // Erased to the common shape for the table; only `fields` is read through it.
  schema: meshConfigSchema as unknown as ObjectSchema<Fields>,
} as const;

/** Every field of every implemented kind (and of the mesh config) with its status: supported, ignored or unsupported. */
export function fieldStatusTable(): FieldStatusRow[] {
  const out: FieldStatusRow[] = [];
  for (const k of KINDS) rows(k.kind, k.schema, '', undefined, out);
  rows(MESH_CONFIG_DOC.kind, MESH_CONFIG_DOC.schema, '', undefined, out);
  return out;
}
