// v1 ConfigMap: accepted and checked. The one Istio reads its mesh config from (`istio` in
// `istio-system`, key `mesh`) becomes a typed MeshConfigResource (mesh-config.ts). Every other
// ConfigMap is not used yet (nothing mounts it or reads it into the environment, since volumes
// and envFrom are unsupported), so each one gets an `unused-kind` warning instead of silently
// doing nothing.

import { field, ignored, mapOf, str } from '../schema.js';
import { defineKind, resourceSchema } from './common.js';
import { MESH_CONFIG_MAP, isMeshConfigMap, parseMeshConfig } from './mesh-config.js';
import { checkBase64, checkDataKey } from './secret.js';

export const configMapSchema = resourceSchema({
  data: field(mapOf(str(), { keyRule: checkDataKey, expected: 'a map of strings' }), 'in ConfigMap istio-system/istio, key mesh holds the mesh config'),
  binaryData: field(mapOf(str({ rule: checkBase64, expected: 'a base64 string' }), { keyRule: checkDataKey, expected: 'a map of base64 strings' })),
  immutable: ignored('Strait re-reads files on change; nothing to protect'),
});

export const configMapKind = defineKind({
  kind: 'ConfigMap',
  apiVersions: ['v1'],
  origin: 'Kubernetes',
  schema: configMapSchema,
  unusedWarning: 'ConfigMap is loaded but not used yet: Strait does not mount volumes or read envFrom',
  convert(v, base, ctx, source) {
    if (!isMeshConfigMap(base.metadata.name, base.metadata.namespace)) return undefined;
    const text = v.data?.[MESH_CONFIG_MAP.key];
    if (text === undefined) {
      ctx.warn(['data'], 'no-mesh-config', `ConfigMap ${MESH_CONFIG_MAP.namespace}/${MESH_CONFIG_MAP.name} has no key "${MESH_CONFIG_MAP.key}", so Istio's default mesh config applies`, `put the mesh config YAML under data.${MESH_CONFIG_MAP.key} (mesh: |)`, 'key');
      return undefined;
    }
    return parseMeshConfig(text, base, ctx, source);
  },
});
