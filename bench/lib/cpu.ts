// Linux /proc readings for the benchmark: CPU time of one process (utime+stime from
// /proc/<pid>/stat, all its threads), its resident memory (VmRSS, RssAnon from
// /proc/<pid>/status), and per-CPU busy time from /proc/stat (to check that the load-generator CPU was not the limit).

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

let ticksPerSecond: number | undefined;

/** USER_HZ, the unit of the /proc times (100 on every common Linux). */
export function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

export interface ProcessCpu {
  user: number;
  system: number;
}

/** CPU seconds in user and kernel mode the process (all its threads) has used so far. */
export function processCpu(pid: number): ProcessCpu {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) is in parentheses and may contain spaces: split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime is field 14 and stime field 15.
  return { user: Number(fields[11]) / clockTicks(), system: Number(fields[12]) / clockTicks() };
}

/** CPU seconds (user + system) the process has used so far. */
export function processCpuSeconds(pid: number): number {
  const c = processCpu(pid);
  return c.user + c.system;
}

/** `VmRSS`: all resident memory; `RssAnon`: the private anonymous part (see processMemoryBytes). */
export type MemoryField = 'VmRSS' | 'RssAnon';

/**
 * Resident memory in bytes from /proc/<pid>/status. RssAnon is the process's own heap and
 * stacks, without the file pages of its executable and libraries, which every process mapping
 * them shares (for node, about 40 MB of the binary).
 */
export function processMemoryBytes(pid: number, field: MemoryField): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = status.match(new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm'));
  if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}

/** Resident set size in bytes (VmRSS). */
export function processRssBytes(pid: number): number {
  return processMemoryBytes(pid, 'VmRSS');
}

/** Jiffies of one CPU from /proc/stat (guest time is already inside user and nice). */
export interface CpuTimes {
  user: number;
  nice: number;
  system: number;
  idle: number;
  iowait: number;
  irq: number;
  softirq: number;
  steal: number;
}

/** Jiffies per CPU (index = CPU number) from /proc/stat. */
export function perCpuTimes(): CpuTimes[] {
  const out: CpuTimes[] = [];
  for (const line of fs.readFileSync('/proc/stat', 'utf8').split('\n')) {
    const m = line.match(/^cpu(\d+)\s+(.*)$/);
    if (!m) continue;
    const v = m[2]!.trim().split(/\s+/).map(Number);
    out[Number(m[1])] = {
      user: v[0] ?? 0,
      nice: v[1] ?? 0,
      system: v[2] ?? 0,
      idle: v[3] ?? 0,
      iowait: v[4] ?? 0,
      irq: v[5] ?? 0,
      softirq: v[6] ?? 0,
      steal: v[7] ?? 0,
    };
  }
  return out;
}

/** How one CPU spent a time window, as fractions of the window (0..1). */
export interface CpuShare {
  /** Everything but idle and iowait (includes irq, softirq and steal). */
  busy: number;
  /** Kernel time in soft interrupts (loopback packet processing lands here when accounted apart). */
  softirq: number;
  /** Time the hypervisor gave to someone else. */
  steal: number;
}

function sum(t: CpuTimes): number {
  return t.user + t.nice + t.system + t.idle + t.iowait + t.irq + t.softirq + t.steal;
}

/** Share of each CPU between two perCpuTimes() readings. */
export function cpuShares(before: CpuTimes[], after: CpuTimes[]): CpuShare[] {
  return after.map((a, i) => {
    const b = before[i];
    const total = b ? sum(a) - sum(b) : 0;
    if (!b || total <= 0) return { busy: 0, softirq: 0, steal: 0 };
    const idle = a.idle - b.idle + (a.iowait - b.iowait);
    return { busy: 1 - idle / total, softirq: (a.softirq - b.softirq) / total, steal: (a.steal - b.steal) / total };
  });
}
