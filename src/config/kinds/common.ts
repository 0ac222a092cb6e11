// Pieces shared by every kind: ObjectMeta, label maps, the top-level shape of a resource
// (apiVersion, kind, metadata, status) and the KindDefinition that the loader dispatches on.
// Kind modules build their schema with `resourceSchema(...)` and register a converter with
// `defineKind(...)`, which hides their precise static types behind one uniform `load` function.

import type { ConfigResource, ObjectMeta, ResourceSource } from '../types.js';
import {
  INVALID,
  field,
  ignored,
  mapOf,
  obj,
  required,
  str,
  unsupported,
  walk,
} from '../schema.js';
import type { FieldSpec, Fields, ObjectOf, ObjectSchema, Origin, Refiner, WalkContext } from '../schema.js';
import { checkDns1123Label, checkDns1123Subdomain, checkLabelKey, checkLabelValue } from '../names.js';

/** Map of label values (strings, as Kubernetes requires: `true` or `8080` must be quoted). */
export const labelMap = mapOf(str({ rule: checkLabelValue }), { keyRule: checkLabelKey, expected: 'a map of strings' });
export const annotationMap = mapOf(str(), { expected: 'a map of strings' });

/** Server-written and scheduling-only ObjectMeta fields, accepted so `kubectl get -o yaml` output loads. */
const serverWrittenMeta = {
  uid: ignored('written by the API server'),
  resourceVersion: ignored('written by the API server'),
  creationTimestamp: ignored('written by the API server (generated manifests often carry `creationTimestamp: null`)'),
  generation: ignored('written by the API server'),
  managedFields: ignored('written by the API server (server-side apply bookkeeping)'),
  selfLink: ignored('written by the API server (deprecated)'),
  deletionTimestamp: ignored('written by the API server'),
  deletionGracePeriodSeconds: ignored('written by the API server'),
  ownerReferences: ignored('garbage collection between cluster objects; Strait deletes what the files no longer contain'),
  finalizers: ignored('deletion hooks of cluster controllers; nothing in Strait waits on them'),
} as const;

export function metadataSchema(nameRule: (v: string) => string | undefined) {
  return obj(
    {
      name: required(str({ rule: nameRule })),
      // "" is how the API writes "not set"; it means the default namespace.
      namespace: field(str({ rule: (v) => (v === '' ? undefined : checkDns1123Label(v)) }), 'defaults to "default"'),
      labels: field(labelMap),
      annotations: field(annotationMap),
      generateName: unsupported(str(), 'Strait needs a fixed name to track a resource across reloads'),
      ...serverWrittenMeta,
    },
    { origin: 'Kubernetes' },
  );
}

/** `spec.template.metadata` of a workload: only labels and annotations mean anything there. */
export const templateMetadataSchema = obj(
  {
    labels: field(labelMap),
    annotations: field(annotationMap),
    name: ignored('pods get generated names'),
    namespace: ignored('pods live in the namespace of their Deployment'),
    generateName: ignored('pods get generated names'),
    ...serverWrittenMeta,
  },
  { origin: 'Kubernetes' },
);

export const defaultMetadata = metadataSchema(checkDns1123Subdomain);

export type MetadataSchema = ReturnType<typeof metadataSchema>;
export type CheckedMetadata = ObjectOf<MetadataSchema['fields']>;

export type ResourceTop = {
  apiVersion: FieldSpec<string, 'supported', true>;
  kind: FieldSpec<string, 'supported', true>;
  metadata: FieldSpec<CheckedMetadata, 'supported', true>;
  status: FieldSpec<never, 'ignored', false>;
};

/** The fields every resource has, plus the kind's own top-level fields. */
export function resourceSchema<F extends Fields>(
  own: F,
  metadata: MetadataSchema = defaultMetadata,
  opts: { refine?: (value: ObjectOf<F & ResourceTop>, r: Refiner) => void } = {},
): ObjectSchema<F & ResourceTop> {
  const top: ResourceTop = {
    apiVersion: required(str()),
    kind: required(str()),
    metadata: required(metadata),
    status: ignored('written by controllers, never read from manifests'),
  };
  return obj<F & ResourceTop>({ ...top, ...own }, { refine: opts.refine });
}

/** What every converter receives besides the checked value. */
export interface ResourceBase {
  readonly apiVersion: string;
  readonly metadata: ObjectMeta;
  readonly source: ResourceSource;
}

export function toObjectMeta(m: CheckedMetadata, clusterScoped: boolean): ObjectMeta {
  return {
    name: m.name,
    // Cluster-scoped objects (Namespace) have no namespace, as in the Kubernetes API.
    namespace: clusterScoped ? '' : m.namespace || 'default',
    labels: m.labels ?? {},
    annotations: m.annotations ?? {},
  };
}

export interface KindDefinition {
  readonly kind: string;
  readonly apiVersions: readonly string[];
  readonly origin: Origin;
  readonly clusterScoped: boolean;
  /** The root schema, for the field-status table. */
  readonly schema: ObjectSchema<Fields>;
  /**
   * False for kinds Strait accepts and checks but does not use (ServiceAccount): never stored.
   * ConfigMap is stored only as the mesh config; `unusedWarning` (if set) is reported once for
   * each resource that is not stored.
   */
  readonly stored: boolean;
  readonly unusedWarning?: string;
  /**
   * Checks `raw`; when it has no errors, converts it. Returns undefined for resources with errors
   * or kinds that are not stored.
   */
  load(raw: unknown, ctx: WalkContext, source: ResourceSource): ConfigResource | undefined;
}

export function defineKind<F extends Fields>(def: {
  kind: string;
  apiVersions: readonly string[];
  origin: Origin;
  clusterScoped?: boolean;
  schema: ObjectSchema<F & ResourceTop>;
  unusedWarning?: string;
  /**
   * Builds the stored resource. Returning undefined stores nothing (and reports `unusedWarning`):
   * a ConfigMap is stored only when it is the mesh config.
   */
  convert?: (value: ObjectOf<F & ResourceTop>, base: ResourceBase, ctx: WalkContext, source: ResourceSource) => ConfigResource | undefined;
}): KindDefinition {
  const clusterScoped = def.clusterScoped ?? false;
  return {
    kind: def.kind,
    apiVersions: def.apiVersions,
    origin: def.origin,
    clusterScoped,
    // Erased to the common shape for the kind table; only `fields` is read through it.
    schema: def.schema as unknown as ObjectSchema<Fields>,
    stored: def.convert !== undefined,
    unusedWarning: def.unusedWarning,
    load(raw, ctx, source) {
      const value = walk(def.schema, raw, ctx, def.origin);
      if (value === INVALID || ctx.errors > 0) return undefined;
      if (!def.convert) {
        if (def.unusedWarning) ctx.warn([], 'unused-kind', def.unusedWarning, 'remove it if nothing else reads it; Strait does not use it', 'key');
        return undefined;
      }
      // TypeScript cannot see through ObjectOf<F & ResourceTop> for a generic F; every resource
      // schema has these two required fields (resourceSchema adds them).
      const v = value as unknown as { apiVersion: string; metadata: CheckedMetadata };
      if (clusterScoped && v.metadata.namespace !== undefined && v.metadata.namespace !== '') {
        ctx.warn(
          ['metadata', 'namespace'],
          'ignored-namespace',
          `metadata.namespace: ${def.kind} is cluster-scoped, so its namespace is ignored`,
          'remove metadata.namespace',
          'key',
        );
      }
      const base: ResourceBase = { apiVersion: v.apiVersion, metadata: toObjectMeta(v.metadata, clusterScoped), source };
      const reported = ctx.findings.length;
      const resource = def.convert(value, base, ctx, source);
      // A converter that said why it stores nothing has said enough.
      if (resource === undefined && def.unusedWarning && ctx.findings.length === reported) ctx.warn([], 'unused-kind', def.unusedWarning, 'remove it if nothing else reads it; Strait does not use it', 'key');
      return ctx.errors > 0 ? undefined : resource;
    },
  };
}
