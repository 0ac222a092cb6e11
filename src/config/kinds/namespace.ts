// v1 Namespace. Strait needs only its name: namespaces scope names and short hosts, and the
// analyzers warn about resources placed in a namespace that no file declares.

import { ignored } from '../schema.js';
import type { NamespaceResource } from '../types.js';
import { checkDns1123Label } from '../names.js';
import { defineKind, metadataSchema, resourceSchema } from './common.js';

export const namespaceSchema = resourceSchema(
  {
    spec: ignored('only `finalizers`, which nothing in Strait waits on'),
  },
  metadataSchema(checkDns1123Label),
);

export const namespaceKind = defineKind({
  kind: 'Namespace',
  apiVersions: ['v1'],
  origin: 'Kubernetes',
  clusterScoped: true,
  schema: namespaceSchema,
  convert: (_v, base): NamespaceResource => ({ ...base, kind: 'Namespace' }),
});
