// What the benchmark ran on, recorded with every result (performance.md §8 step 7: state tool,
// pinning, Node version): CPUs, CPU model, kernel, tool versions and the git commit measured.

import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { haproxyVersion } from './haproxy.js';
import { nginxVersion } from './nginx.js';

export interface MachineInfo {
  nproc: number;
  cpuModel: string;
  kernel: string;
  node: string;
  nginx: string;
  haproxy: string;
  wrk: string;
  gitCommit: string;
  gitDirty: boolean;
}

function firstLine(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n')[0]?.trim() ?? '';
}

function cpuModel(): string {
  const r = spawnSync('lscpu', [], { encoding: 'utf8' });
  const m = (r.stdout ?? '').match(/^Model name:\s+(.+)$/m);
  return m?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
}

export function machineInfo(): MachineInfo {
  const dirty = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' });
  return {
    nproc: os.availableParallelism(),
    cpuModel: cpuModel(),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    nginx: nginxVersion(),
    haproxy: haproxyVersion(),
    wrk: firstLine('wrk', ['--version']) || 'unknown',
    gitCommit: firstLine('git', ['rev-parse', 'HEAD']) || 'unknown',
    gitDirty: (dirty.stdout ?? '').trim().length > 0,
  };
}
