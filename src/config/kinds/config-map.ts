// v1 ConfigMap: accepted and checked, but not used yet (nothing mounts it or reads it into the
// environment, since volumes and envFrom are unsupported), so each one gets an `unused-kind`
// warning instead of silently doing nothing.

import { field, ignored, mapOf, str } from '../schema.js';
import { defineKind, resourceSchema } from './common.js';
import { checkBase64, checkDataKey } from './secret.js';

export const configMapSchema = resourceSchema({
  data: field(mapOf(str(), { keyRule: checkDataKey, expected: 'a map of strings' })),
  binaryData: field(mapOf(str({ rule: checkBase64, expected: 'a base64 string' }), { keyRule: checkDataKey, expected: 'a map of base64 strings' })),
  immutable: ignored('Strait re-reads files on change; nothing to protect'),
});

export const configMapKind = defineKind({
  kind: 'ConfigMap',
  apiVersions: ['v1'],
  origin: 'Kubernetes',
  schema: configMapSchema,
  unusedWarning: 'ConfigMap is loaded but not used yet: Strait does not mount volumes or read envFrom',
});
