// apps/v1 Deployment: what the local runner starts. Strait runs `replicas` copies of the pod
// template, each as a local process with its own loopback address and sidecar, and only the
// FIRST container of the template (a pod with several processes sharing one network namespace
// has no equivalent among local processes yet; we warn). Scheduling, image-pull, resource and
// security fields have no meaning for local processes and are ignored; fields that change what
// the process sees or when it is considered ready (volumes, probes, envFrom, lifecycle hooks) are
// valid Kubernetes that Strait will implement later, so they are reported as unsupported.

import { anyValue, bool, enumOf, field, ignored, int, listOf, obj, required, str, unsupported } from '../schema.js';
import type { Container, DeploymentResource, EnvVar } from '../types.js';
import { checkDns1123Label, checkIanaServiceName } from '../names.js';
import { defineKind, labelMap, resourceSchema, templateMetadataSchema } from './common.js';

const noLocalMeaning = 'no meaning for a local process';

export const envVarSchema = obj({
  name: required(str({ nonEmpty: true })),
  value: field(str(), 'defaults to ""'),
  valueFrom: unsupported(anyValue('a map'), 'the variable is left out'),
});

export const containerPortSchema = obj({
  containerPort: required(int({ min: 1, max: 65535 })),
  name: field(str({ rule: checkIanaServiceName })),
  protocol: field(enumOf(['TCP', 'UDP', 'SCTP']), 'defaults to TCP'),
  hostPort: unsupported(int({ min: 1, max: 65535 }), 'exposing a pod port on the host arrives with port forwarding'),
  hostIP: ignored('host networking of cluster nodes'),
});

export const containerSchema = obj(
  {
    name: required(str({ rule: checkDns1123Label })),
    image: field(str(), 'selects what runs: `strait/echo` or a local command'),
    command: field(listOf(str())),
    args: field(listOf(str())),
    env: field(listOf(envVarSchema)),
    ports: field(listOf(containerPortSchema)),
    workingDir: field(str()),
    envFrom: unsupported(listOf(anyValue('a map')), 'ConfigMap/Secret environment sources'),
    volumeMounts: unsupported(listOf(anyValue('a map')), 'volumes arrive later'),
    volumeDevices: ignored('block devices of cluster nodes'),
    livenessProbe: unsupported(anyValue('a map'), 'the process is restarted only when it exits'),
    readinessProbe: unsupported(anyValue('a map'), 'every running process receives traffic'),
    startupProbe: unsupported(anyValue('a map'), 'every running process receives traffic'),
    lifecycle: unsupported(anyValue('a map'), 'postStart/preStop hooks'),
    restartPolicy: unsupported(str(), 'native sidecar containers'),
    imagePullPolicy: ignored('Strait does not pull images'),
    resources: ignored(`CPU and memory requests and limits: ${noLocalMeaning}`),
    resizePolicy: ignored(noLocalMeaning),
    securityContext: ignored(`users, capabilities and seccomp: ${noLocalMeaning}`),
    terminationMessagePath: ignored(noLocalMeaning),
    terminationMessagePolicy: ignored(noLocalMeaning),
    stdin: ignored('local processes get no interactive stdin'),
    stdinOnce: ignored('local processes get no interactive stdin'),
    tty: ignored('local processes get no terminal'),
  },
  {
    refine(c, r) {
      if (c.image === undefined && (c.command ?? []).length === 0) {
        r.error([], 'missing-field', `container "${c.name}" needs an image or a command`, 'add `image:` (e.g. strait/echo) or `command:`', 'key');
      }
    },
  },
);

const scheduling = 'scheduling onto cluster nodes; everything runs on this machine';

export const podSpecSchema = obj(
  {
    containers: required(
      listOf(containerSchema, {
        minItems: 1,
        refine(containers, r) {
          const seen = new Map<string, number>();
          containers.forEach((c, i) => {
            const first = seen.get(c.name);
            if (first !== undefined) r.error([i, 'name'], 'duplicate-value', `container name "${c.name}" is already used by containers[${first}]`, 'give every container a different name');
            else seen.set(c.name, i);
          });
          if (containers.length > 1) {
            r.warn([1], 'extra-containers', `only the first container ("${containers[0].name}") runs; ${containers.length - 1} more ${containers.length === 2 ? 'is' : 'are'} ignored`, 'move the other containers to Deployments of their own', 'value');
          }
        },
      }),
    ),
    serviceAccountName: field(str(), 'defaults to "default"'),
    serviceAccount: field(str(), 'deprecated alias of serviceAccountName'),
    initContainers: unsupported(listOf(anyValue('a map')), 'init containers arrive later'),
    volumes: unsupported(listOf(anyValue('a map')), 'volumes arrive later'),
    terminationGracePeriodSeconds: unsupported(int({ min: 0 }), 'processes get the default grace period'),
    hostAliases: unsupported(listOf(anyValue('a map')), '/etc/hosts entries'),
    nodeSelector: ignored(scheduling),
    nodeName: ignored(scheduling),
    affinity: ignored(scheduling),
    tolerations: ignored(scheduling),
    topologySpreadConstraints: ignored(scheduling),
    schedulerName: ignored(scheduling),
    schedulingGates: ignored(scheduling),
    priorityClassName: ignored(scheduling),
    priority: ignored(scheduling),
    preemptionPolicy: ignored(scheduling),
    runtimeClassName: ignored(noLocalMeaning),
    overhead: ignored(noLocalMeaning),
    resources: ignored(noLocalMeaning),
    resourceClaims: ignored(noLocalMeaning),
    os: ignored(noLocalMeaning),
    securityContext: ignored(noLocalMeaning),
    hostUsers: ignored(noLocalMeaning),
    hostNetwork: ignored('every pod gets its own loopback address'),
    hostPID: ignored(noLocalMeaning),
    hostIPC: ignored(noLocalMeaning),
    shareProcessNamespace: ignored(noLocalMeaning),
    imagePullSecrets: ignored('Strait does not pull images'),
    dnsPolicy: ignored('processes use the host resolver'),
    dnsConfig: ignored('processes use the host resolver'),
    hostname: ignored('processes see the host name of this machine'),
    subdomain: ignored('processes see the host name of this machine'),
    setHostnameAsFQDN: ignored('processes see the host name of this machine'),
    enableServiceLinks: ignored('Strait does not inject Docker-link variables'),
    automountServiceAccountToken: ignored('there is no API server token to mount'),
    readinessGates: ignored('every running process receives traffic'),
    restartPolicy: ignored('a Deployment always restarts (the only value Kubernetes allows is Always)'),
    activeDeadlineSeconds: ignored('not allowed in Deployments by Kubernetes'),
    ephemeralContainers: ignored('debugging containers are added by kubectl debug, not manifests'),
  },
  { expected: 'a pod spec (a map)' },
);

export const deploymentSpecSchema = obj(
  {
    replicas: field(int({ min: 0 }), 'defaults to 1'),
    selector: required(
      obj({
        matchLabels: required(labelMap),
        matchExpressions: unsupported(listOf(anyValue('a map')), 'use matchLabels'),
      }),
    ),
    template: required(obj({ metadata: field(templateMetadataSchema), spec: required(podSpecSchema) })),
    strategy: ignored('Strait replaces processes at once on reload'),
    minReadySeconds: ignored('rollout pacing'),
    revisionHistoryLimit: ignored('Strait keeps no ReplicaSet history'),
    progressDeadlineSeconds: ignored('rollout pacing'),
    paused: unsupported(bool(), 'changes are applied immediately'),
  },
  {
    // Kubernetes rejects a Deployment whose selector does not select its own template
    // ("selector does not match template labels"); so do we, at the selector.
    refine(spec, r) {
      const labels = spec.template.metadata?.labels ?? {};
      const mismatched = Object.entries(spec.selector.matchLabels).filter(([k, v]) => labels[k] !== v);
      if (mismatched.length > 0) {
        const [k, v] = mismatched[0];
        r.error(
          ['selector', 'matchLabels', k],
          'selector-mismatch',
          `selector does not match template labels: the template has ${k in labels ? `${k}: ${JSON.stringify(labels[k])}` : `no label ${k}`}, the selector wants ${k}: ${JSON.stringify(v)}`,
          `add \`${k}: ${v}\` to spec.template.metadata.labels, or change the selector`,
        );
      }
      if (Object.keys(spec.selector.matchLabels).length === 0) {
        r.error(['selector', 'matchLabels'], 'invalid-value', 'an empty selector would select every pod in the namespace', 'add at least one label (e.g. app: <name>) to the selector and the template', 'key');
      }
    },
  },
);

export const deploymentSchema = resourceSchema({ spec: required(deploymentSpecSchema) });

export const deploymentKind = defineKind({
  kind: 'Deployment',
  apiVersions: ['apps/v1'],
  origin: 'Kubernetes',
  schema: deploymentSchema,
  convert(v, base): DeploymentResource {
    const pod = v.spec.template.spec;
    const containers = pod.containers.map((c): Container => ({
      name: c.name,
      ...(c.image !== undefined ? { image: c.image } : {}),
      ...(c.command !== undefined ? { command: c.command } : {}),
      ...(c.args !== undefined ? { args: c.args } : {}),
      // A variable whose value comes from valueFrom (unsupported) is left out rather than set to
      // "": an empty value would look deliberate to the program reading it.
      env: (c.env ?? []).filter((e) => e.valueFrom === undefined || e.value !== undefined).map((e): EnvVar => ({ name: e.name, value: e.value ?? '' })),
      ports: (c.ports ?? []).map((p) => ({ containerPort: p.containerPort, ...(p.name !== undefined ? { name: p.name } : {}), protocol: p.protocol ?? 'TCP' })),
      ...(c.workingDir !== undefined ? { workingDir: c.workingDir } : {}),
    }));
    return {
      ...base,
      kind: 'Deployment',
      spec: {
        replicas: v.spec.replicas ?? 1,
        selector: { matchLabels: v.spec.selector.matchLabels },
        template: {
          metadata: { labels: v.spec.template.metadata?.labels ?? {}, annotations: v.spec.template.metadata?.annotations ?? {} },
          spec: { serviceAccountName: pod.serviceAccountName ?? pod.serviceAccount ?? 'default', containers },
        },
      },
    };
  },
});
