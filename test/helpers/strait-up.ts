// Starts a real `strait up` (the built CLI, dist/cli/main.js) on a fixture directory for
// end-to-end tests: a random loopback address block, the gateway on that block's own address
// and ephemeral control-plane ports, so test files can run side by side. Reads the API and
// gateway URLs from its output and stops it by PID.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { AddressBlock } from '../../src/local/address-block.js';
import type { MeshStatus } from '../../src/local/api-server.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = path.join(ROOT, 'dist/cli/main.js');

export interface RunningMesh {
  readonly proc: ChildProcess;
  readonly apiUrl: string;
  /** First gateway URL printed (e.g. http://127.x.y.1:8080). */
  readonly gatewayUrl: string;
  readonly gatewayAddress: string;
  /** URL of a gateway server port as the default port rule binds it (80 → 8080). */
  gatewayUrlFor(port: number): string;
  readonly output: string[];
  status(): Promise<MeshStatus>;
  logs(pod: string, container: string): Promise<string[]>;
  /** Waits for an output line matching `re` (searching lines already seen too). */
  waitForOutput(re: RegExp, timeoutMs?: number): Promise<string>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function requireBuild(): void {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm test does)`);
}

export async function startMesh(paths: string[], opts: { extraArgs?: string[]; readyTimeoutMs?: number } = {}): Promise<RunningMesh> {
  requireBuild();
  const block = AddressBlock.random();
  const gatewayAddress = block.hostAddress();
  const cidr = `${block.hostAddress().replace(/\.1$/, '.0')}/20`;
  const args = [CLI, 'up', ...paths, '--address-block', cidr, '--gateway-address', gatewayAddress, '--xds-port', '0', '--api-port', '0', ...(opts.extraArgs ?? [])];
  const proc = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  const onLine = (line: string) => {
    output.push(line);
    if (process.env.STRAIT_TEST_VERBOSE) process.stderr.write(`[mesh] ${line}\n`);
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (waiters[i]!.re.test(line)) {
        waiters[i]!.resolve(line);
        waiters.splice(i, 1);
      }
    }
  };
  readline.createInterface({ input: proc.stdout! }).on('line', onLine);
  readline.createInterface({ input: proc.stderr! }).on('line', onLine);
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));

  const waitForOutput = (re: RegExp, timeoutMs = 30_000): Promise<string> => {
    const seen = output.find((l) => re.test(l));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no output matching ${re} within ${timeoutMs} ms; output:\n${output.slice(-40).join('\n')}`)), timeoutMs);
      waiters.push({
        re,
        resolve: (l) => {
          clearTimeout(t);
          resolve(l);
        },
      });
      void exited.then((code) => {
        clearTimeout(t);
        reject(new Error(`strait up exited (${code}) before printing ${re}; output:\n${output.slice(-40).join('\n')}`));
      });
    });
  };

  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
    proc.kill(signal);
    const t = setTimeout(() => proc.kill('SIGKILL'), 15_000);
    const code = await exited;
    clearTimeout(t);
    return code;
  };

  try {
    const apiLine = await waitForOutput(/control plane: xDS \S+, API (http:\/\/\S+)/, opts.readyTimeoutMs ?? 60_000);
    const apiUrl = /API (http:\/\/\S+)/.exec(apiLine)![1]!;
    await waitForOutput(/^strait \| (ready: |not ready after)/, opts.readyTimeoutMs ?? 60_000);
    // The summary (gateway URLs) ends with the status hint.
    await waitForOutput(/^strait \| status: /, 10_000);
    const gwLine = output.find((l) => /^strait \| gateway: /.test(l));
    const gatewayUrl = gwLine ? /gateway: (\S+)/.exec(gwLine)![1]! : '';
    return {
      proc,
      apiUrl,
      gatewayUrl,
      gatewayAddress,
      gatewayUrlFor: (port: number) => `${port === 443 ? 'https' : 'http'}://${gatewayAddress}:${port < 1024 ? port + 8000 : port}`,
      output,
      waitForOutput,
      stop,
      async status() {
        const res = await fetch(`${apiUrl}/api/status`);
        return (await res.json()) as MeshStatus;
      },
      async logs(pod: string, container: string) {
        const res = await fetch(`${apiUrl}/api/logs?pod=${encodeURIComponent(pod)}&container=${encodeURIComponent(container)}`);
        return (await res.text()).split('\n').filter(Boolean);
      },
    };
  } catch (e) {
    await stop('SIGKILL');
    throw e;
  }
}

/** True while a process with this PID exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
