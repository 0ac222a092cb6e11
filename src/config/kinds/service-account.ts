// v1 ServiceAccount: accepted and checked so that manifests written for a cluster load unchanged,
// but not stored: Strait derives workload identities (SPIFFE IDs) from the namespace and
// `serviceAccountName` of each Deployment, whether or not a ServiceAccount object exists, as
// Istio does.

import { ignored } from '../schema.js';
import { defineKind, resourceSchema } from './common.js';

export const serviceAccountSchema = resourceSchema({
  secrets: ignored('API tokens for the Kubernetes API server, which Strait does not run'),
  imagePullSecrets: ignored('Strait does not pull images'),
  automountServiceAccountToken: ignored('there is no API server token to mount'),
});

export const serviceAccountKind = defineKind({
  kind: 'ServiceAccount',
  apiVersions: ['v1'],
  origin: 'Kubernetes',
  schema: serviceAccountSchema,
});
