// `strait exec POD -- CMD [ARGS...]`: like `kubectl exec`, runs a command "in" a pod of a running
// `strait up`. Local pods are processes, not containers, so the command runs on this machine with
// the environment the pod's workload has: HTTP_PROXY/http_proxy at the pod's sidecar (its
// outbound listener, `http://<pod IP>:15001`), NO_PROXY, and the POD_* variables. So
// `strait exec sleep -- curl -s http://httpbin:8000/headers` goes through sleep's sidecar, as
// the same curl would inside the sleep pod. The pod is found through the API (`--server`);
// stdin, stdout and stderr are the command's own, and its exit status becomes ours.

import { spawn } from 'node:child_process';
import os from 'node:os';
import type { MeshStatus, PodStatus } from '../../local/api-server.js';

export interface ExecOptions {
  server: string;
  namespace?: string;
}

/** The sidecar's outbound listener (Istio's 15001), where workloads send HTTP_PROXY traffic. */
export const OUTBOUND_PORT = 15001;

/** What a pod's workload must not inherit from this shell: proxies that would bypass the mesh. */
const DROPPED = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy', 'NODE_OPTIONS'];

/** Resource-type prefixes that name a Deployment, as kubectl accepts them. */
const DEPLOYMENT_PREFIXES = ['deploy/', 'deployment/', 'deployments/', 'deployment.apps/'];

export type PodLookup = { pod: PodStatus } | { error: string };

/**
 * Finds the pod `ref` names: an exact pod name (or `pod/<name>`), a Deployment (`deploy/<name>`,
 * or its bare name), or a pod-name prefix whose pods all belong to one Deployment. Among several
 * replicas, a running one is taken first. `namespace` narrows the search.
 */
export function findPod(status: MeshStatus, ref: string, namespace?: string): PodLookup {
  const pods = status.pods.filter((p) => namespace === undefined || p.namespace === namespace);
  const where = namespace === undefined ? '' : ` in namespace ${namespace}`;
  const known = (): string => pods.map((p) => `${p.namespace}/${p.name}`).join(', ') || 'none';
  const deploymentOf = (p: PodStatus): string => p.owner.slice(p.owner.indexOf('/') + 1);

  const prefix = DEPLOYMENT_PREFIXES.find((x) => ref.startsWith(x));
  if (prefix) {
    const name = ref.slice(prefix.length);
    return pick(pods.filter((p) => p.owner !== '' && deploymentOf(p) === name), name, where, `no Deployment "${name}"${where} has pods (pods: ${known()})`);
  }
  const name = ref.startsWith('pod/') ? ref.slice('pod/'.length) : ref;
  const exact = pods.filter((p) => p.name === name);
  if (exact.length > 0) return pick(exact, name, where, '');
  const owned = pods.filter((p) => p.owner !== '' && deploymentOf(p) === name);
  if (owned.length > 0) return pick(owned, name, where, '');
  return pick(pods.filter((p) => p.name.startsWith(name)), name, where, `no pod "${name}"${where} (pods: ${known()})`);
}

/** One pod of one workload (a running replica first); pods of several workloads are ambiguous. */
function pick(candidates: PodStatus[], name: string, where: string, notFound: string): PodLookup {
  const owners = new Set(candidates.map((p) => p.owner || `${p.namespace}/${p.name}`));
  if (owners.size > 1) {
    const names = candidates.map((p) => `${p.namespace}/${p.name}`).join(', ');
    return { error: `"${name}" matches pods of more than one workload${where}: ${names}; give more of the name, or --namespace` };
  }
  const rank = (p: PodStatus): number => (p.phase === 'Running' ? 0 : p.phase === 'Pending' ? 1 : 2);
  const best = [...candidates].sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name))[0];
  return best ? { pod: best } : { error: notFound };
}

/** The command's environment: this shell's, minus its proxies, plus what the pod's workload gets. */
export function execEnv(pod: PodStatus, base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const k of DROPPED) delete env[k];
  Object.assign(env, {
    POD_NAME: pod.name,
    POD_NAMESPACE: pod.namespace,
    POD_IP: pod.ip,
    // An older `strait up` did not report it.
    SERVICE_ACCOUNT: pod.serviceAccount ?? 'default',
    POD_LABELS: JSON.stringify(pod.labels),
  });
  if (pod.sidecar) {
    // Both spellings: curl reads only the lower-case http_proxy, other clients the upper-case.
    env.HTTP_PROXY = env.http_proxy = `http://${pod.ip}:${OUTBOUND_PORT}`;
    env.NO_PROXY = env.no_proxy = `localhost,127.0.0.1,${pod.localAddress}`;
  }
  return env;
}

export async function runExec(ref: string, command: string[], opts: ExecOptions): Promise<number> {
  const err = (line: string): void => void process.stderr.write(`strait exec: ${line}\n`);
  if (command.length === 0) {
    err('no command given: strait exec POD -- COMMAND [ARGS...]');
    return 2;
  }
  let status: MeshStatus;
  try {
    const res = await fetch(`${opts.server.replace(/\/$/, '')}/api/status`);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    status = (await res.json()) as MeshStatus;
  } catch (e) {
    err(`cannot reach ${opts.server} (${(e as Error).message}). Is \`strait up\` running? Use --server URL.`);
    return 1;
  }
  const found = findPod(status, ref, opts.namespace);
  if ('error' in found) {
    err(found.error);
    return 1;
  }
  if (!found.pod.sidecar) err(`note: pod ${found.pod.name} has no sidecar; the command reaches other services directly`);
  return runCommand(command, execEnv(found.pod, process.env));
}

/** Runs the command with our stdio; resolves with its exit status (128 + signal when killed). */
function runCommand(command: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command[0]!, command.slice(1), { stdio: 'inherit', env });
    // Ctrl-C reaches the command through the terminal; we stay until it has exited. A SIGTERM
    // sent to us alone is passed on.
    const onInt = (): void => undefined;
    const onTerm = (): void => void child.kill('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    const done = (code: number): void => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve(code);
    };
    child.once('error', (e: NodeJS.ErrnoException) => {
      process.stderr.write(`strait exec: cannot run ${JSON.stringify(command[0])}: ${e.code === 'ENOENT' ? 'command not found' : e.message}\n`);
      // The shell's conventions: 127 not found, 126 found but not runnable.
      done(e.code === 'ENOENT' ? 127 : 126);
    });
    child.once('exit', (code, signal) => {
      done(code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 1));
    });
  });
}
