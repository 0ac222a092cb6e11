// Open-loop, constant-rate HTTP/1.1 load generator (performance.md §6, §8 step 4): the stand-in
// for wrk2 / fortio `-uniform`, which are not installable here. Each of C keep-alive connections
// sends one GET every C/R seconds, the connections staggered by 1/R so that the whole load is
// one request every 1/R seconds. Latency is measured from the *scheduled* send time to the last
// byte of the response: when a response is late, the next request of that connection goes out
// as soon as it can but is still timed from its schedule, so stalls are counted in full (no
// coordinated omission, as in wrk2). It also records the time from the actual send (service
// time) and how late sends left (send lag), which shows the generator's own precision.
//
// Precision: libuv's timers have 1 ms granularity, larger than the latencies measured here, so
// by default a worker thread keeps the schedule with µs waits and wakes the loop (see Timing).
//
// Raw `net` sockets and one pre-built request keep the generator's own cost per request small.
// Run as a process: `node --import tsx bench/lib/open-loop.ts --url U --rps R --connections C
// --duration S [--warmup S] [--timing worker|nap|spin|timer] [--body BYTES]`; it prints one `OPEN_LOOP_RESULT {json}` line.

import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { Histogram, type HistogramSummary } from './histogram.js';

export interface OpenLoopOptions {
  url: string;
  rps: number;
  connections: number;
  durationS: number;
  warmupS: number;
  /** How the loop waits between sends: see TIMING below. */
  timing: Timing;
  /** Expected body size; other sizes count as errors (undefined: not checked). */
  bodyBytes?: number;
  timeoutMs: number;
}

export interface OpenLoopErrors {
  connect: number;
  /** Connection reset or closed by the peer with a request in flight. */
  io: number;
  /** Responses that are not 2xx. */
  status: number;
  /** Body not of the expected size. */
  body: number;
  timeout: number;
}

export interface OpenLoopResult {
  targetRps: number;
  connections: number;
  durationS: number;
  /** Requests scheduled in the measured window. */
  scheduled: number;
  /** Of those, answered with a complete response (any status). */
  completed: number;
  /** Scheduled in the window but never sent because the connection was still busy at the end. */
  unsent: number;
  achievedRps: number;
  errors: OpenLoopErrors;
  errorCount: number;
  /** From the scheduled send time: the latency to report. */
  latencyMs: HistogramSummary;
  /** From the actual send time (what a closed-loop tool would report). */
  serviceMs: HistogramSummary;
  /** Actual minus scheduled send time: the generator's own lateness plus queueing behind slow responses. */
  sendLagMs: HistogramSummary;
  /** Share of one core the generator process used. */
  generatorCpu: number;
  histogram: ReturnType<Histogram['toJSON']>;
}

const CRLF2 = Buffer.from('\r\n\r\n');

/**
 * - `worker` (default): the main thread sleeps in libuv's poll, so each response is timestamped
 *   the moment it arrives; a worker thread keeps the schedule with Atomics.wait (a futex with a
 *   µs timeout, unlike libuv's 1 ms timers), finishing the last SPIN_US of each wait busy (the
 *   kernel's timer slack is ~50 µs), and wakes the main thread with a message at every send time.
 * - `nap`: every loop turn polls the sockets without blocking, then sleeps NAP_US in
 *   Atomics.wait (a futex with a µs timeout, unlike libuv's 1 ms timers). Sends and response
 *   timestamps are late by at most about one nap plus the kernel's timer slack (~50 µs), the
 *   process stays mostly asleep, and as a sleeper it is scheduled promptly when the CPU is shared.
 * - `spin`: the same without the sleep: the most precise on an idle CPU, but it keeps the load
 *   CPU busy, so the origin on that CPU waits for the scheduler, and under contention the
 *   spinner loses whole time slices (ms).
 * - `timer`: libuv timers only (1 ms granularity): the cheapest, the least precise.
 */
export type Timing = 'worker' | 'nap' | 'spin' | 'timer';
export const TIMINGS: readonly Timing[] = ['worker', 'nap', 'spin', 'timer'];
const NAP_US = 20;
const napCell = new Int32Array(new SharedArrayBuffer(4));
const SPIN_US = 60;

/** The ticker thread of `worker` timing: one message per send time, in absolute ms (timeOrigin + now). */
const TICKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { performance } = require('node:perf_hooks');
const { start, period, end, spinMs } = workerData;
const cell = new Int32Array(new SharedArrayBuffer(4));
const now = () => performance.timeOrigin + performance.now();
for (let k = 0; ; k++) {
  const target = start + k * period;
  if (target > end) break;
  let wait = target - now() - spinMs;
  if (wait > 0) Atomics.wait(cell, 0, 0, wait);
  while (now() < target) {}
  parentPort.postMessage(0);
}
parentPort.postMessage(1);
`;

interface Conn {
  index: number;
  socket: net.Socket | null;
  /** Scheduled time (ms, performance.now) of the next request to send. */
  next: number;
  inFlight: { scheduled: number; sent: number; measured: boolean } | null;
  buf: Buffer;
}

/** Parses one complete response at the start of `b`: [status, body bytes, total bytes, close] or null if incomplete. */
export function parseResponse(b: Buffer): [number, number, number, boolean] | null {
  const he = b.indexOf(CRLF2);
  if (he < 0) return null;
  const head = b.toString('latin1', 0, he).toLowerCase();
  const status = Number(head.slice(9, 12));
  const close = /\r\nconnection:\s*close/.test(head);
  const cl = /\r\ncontent-length:\s*(\d+)/.exec(head);
  const start = he + 4;
  if (cl) {
    const n = Number(cl[1]);
    return b.length >= start + n ? [status, n, start + n, close] : null;
  }
  if (/\r\ntransfer-encoding:[^\r]*chunked/.test(head)) {
    let p = start;
    let body = 0;
    for (;;) {
      const le = b.indexOf('\r\n', p, 'latin1');
      if (le < 0) return null;
      const size = parseInt(b.toString('latin1', p, le), 16);
      if (size === 0) {
        const end = b.indexOf(CRLF2, le - 2);
        return end < 0 ? null : [status, body, end + 4, close];
      }
      if (b.length < le + 2 + size + 2) return null;
      body += size;
      p = le + 2 + size + 2;
    }
  }
  // No length: a 204/304 or a body up to close; the benchmark's systems never do the latter.
  return [status, 0, start, close];
}

export async function runOpenLoop(o: OpenLoopOptions): Promise<OpenLoopResult> {
  const url = new URL(o.url);
  const port = Number(url.port || 80);
  const host = url.hostname;
  const request = Buffer.from(`GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nUser-Agent: strait-open-loop\r\n\r\n`, 'latin1');
  const latency = new Histogram();
  const service = new Histogram();
  const lag = new Histogram();
  const errors: OpenLoopErrors = { connect: 0, io: 0, status: 0, body: 0, timeout: 0 };
  let scheduled = 0;
  let completed = 0;
  const interval = (1000 * o.connections) / o.rps; // ms between two requests of one connection
  let t0 = 0;
  let measureFrom = 0;
  let measureTo = 0;
  let done = false;
  const conns: Conn[] = [];

  const connect = (c: Conn): Promise<void> =>
    new Promise((resolve) => {
      const s = net.connect({ host, port });
      s.setNoDelay(true);
      c.socket = s;
      c.buf = Buffer.alloc(0);
      s.once('connect', () => resolve());
      s.on('data', (d: Buffer) => onData(c, d));
      // 'close' follows every 'error'; it counts a lost request and reconnects (after a pause,
      // so a refused port does not become a busy loop).
      s.on('error', () => {
        if (c.socket === s && s.connecting) errors.connect++;
      });
      s.on('close', () => {
        if (c.socket !== s) return;
        if (c.inFlight) {
          if (c.inFlight.measured) errors.io++;
          c.inFlight = null;
        }
        c.socket = null;
        if (!done) setTimeout(() => void connect(c), 10);
        resolve();
      });
    });

  const onData = (c: Conn, d: Buffer) => {
    c.buf = c.buf.length ? Buffer.concat([c.buf, d]) : d;
    for (;;) {
      const r = parseResponse(c.buf);
      if (!r) return;
      const [status, bodyBytes, total, close] = r;
      c.buf = c.buf.subarray(total);
      const f = c.inFlight;
      if (!f) return; // unsolicited bytes: ignore
      const now = performance.now();
      c.inFlight = null;
      if (f.measured) {
        completed++;
        latency.record((now - f.scheduled) * 1e6);
        service.record((now - f.sent) * 1e6);
        if (status < 200 || status > 299) errors.status++;
        else if (o.bodyBytes !== undefined && bodyBytes !== o.bodyBytes) errors.body++;
      }
      if (close) {
        c.socket?.destroy();
        return;
      }
      sendDue(c, now);
    }
  };

  const sendDue = (c: Conn, now: number) => {
    if (c.inFlight || !c.socket || c.socket.connecting || c.next > now || c.next >= measureTo) return;
    const measured = c.next >= measureFrom;
    if (measured) {
      scheduled++;
      lag.record((now - c.next) * 1e6);
    }
    c.inFlight = { scheduled: c.next, sent: now, measured };
    c.next += interval;
    c.socket.write(request);
  };

  for (let i = 0; i < o.connections; i++) conns.push({ index: i, socket: null, next: 0, inFlight: null, buf: Buffer.alloc(0) });
  await Promise.all(conns.map(connect));
  const cpu0 = process.cpuUsage();
  t0 = performance.now() + 20;
  measureFrom = t0 + o.warmupS * 1000;
  measureTo = measureFrom + o.durationS * 1000;
  for (const c of conns) c.next = t0 + (c.index * 1000) / o.rps;

  let ticker: Worker | null = null;
  await new Promise<void>((resolve) => {
    if (o.timing === 'worker') {
      const abs = performance.timeOrigin;
      const period = 1000 / o.rps;
      ticker = new Worker(TICKER, { eval: true, workerData: { start: abs + t0, period, end: abs + measureTo, spinMs: Math.min(SPIN_US / 1000, period / 4) } });
      ticker.on('message', () => tick());
      ticker.on('error', (e) => process.stderr.write(`open-loop ticker: ${e.message}\n`));
      // Checks timeouts and the end of the run; sends are driven by the ticker and by responses.
      const check = setInterval(() => tick(), 5);
      const finish = resolve;
      resolve = () => {
        clearInterval(check);
        finish();
      };
    }
    const tick = () => {
      const now = performance.now();
      let busy = false;
      for (const c of conns) {
        sendDue(c, now);
        if (c.inFlight) {
          busy = true;
          if (now - c.inFlight.sent > o.timeoutMs) {
            if (c.inFlight.measured) errors.timeout++;
            c.inFlight = null;
            c.socket?.destroy();
          }
        }
      }
      if (now >= measureTo && !busy) return resolve();
      // A hard stop: never wait more than the timeout after the window for stragglers.
      if (now >= measureTo + o.timeoutMs) return resolve();
      if (o.timing === 'worker') return;
      if (o.timing === 'spin') setImmediate(tick);
      else if (o.timing === 'nap') {
        // Nothing due for a while and nothing in flight: a timer is precise enough.
        const nextDue = Math.min(...conns.map((c) => c.next));
        if (!busy && nextDue - now > 3) setTimeout(tick, nextDue - now - 2);
        else {
          Atomics.wait(napCell, 0, 0, NAP_US / 1000);
          setImmediate(tick);
        }
      } else {
        let wait = Math.max(0, Math.min(...conns.map((c) => (c.inFlight ? 1 : c.next - now))));
        if (!Number.isFinite(wait)) wait = 1;
        setTimeout(tick, Math.floor(wait));
      }
    };
    if (o.timing !== 'worker') tick();
  });
  done = true;
  await (ticker as Worker | null)?.terminate();
  const cpu = process.cpuUsage(cpu0);
  const wallMs = performance.now() - t0;
  let unsent = 0;
  for (const c of conns) {
    // Requests whose scheduled time fell in the window but never left.
    if (c.next < measureTo) unsent += Math.ceil((measureTo - Math.max(c.next, measureFrom)) / interval);
    c.socket?.destroy();
  }
  const errorCount = errors.connect + errors.io + errors.status + errors.body + errors.timeout;
  return {
    targetRps: o.rps,
    connections: o.connections,
    durationS: o.durationS,
    scheduled,
    completed,
    unsent,
    achievedRps: completed / o.durationS,
    errors,
    errorCount,
    latencyMs: latency.summary(),
    serviceMs: service.summary(),
    sendLagMs: lag.summary(),
    generatorCpu: (cpu.user + cpu.system) / 1000 / wallMs,
    histogram: latency.toJSON(),
  };
}

async function cli(): Promise<void> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      rps: { type: 'string' },
      connections: { type: 'string', default: '16' },
      duration: { type: 'string', default: '10' },
      warmup: { type: 'string', default: '2' },
      timing: { type: 'string', default: 'worker' },
      body: { type: 'string' },
      timeout: { type: 'string', default: '10000' },
    },
  });
  if (!TIMINGS.includes(values.timing as Timing)) throw new Error(`--timing must be one of ${TIMINGS.join(', ')}`);
  if (!values.url || !values.rps) throw new Error('usage: open-loop.ts --url URL --rps R [--connections C] [--duration S] [--warmup S] [--timing worker|nap|spin|timer] [--body BYTES]');
  const r = await runOpenLoop({
    url: values.url,
    rps: Number(values.rps),
    connections: Number(values.connections),
    durationS: Number(values.duration),
    warmupS: Number(values.warmup),
    timing: values.timing as Timing,
    ...(values.body !== undefined ? { bodyBytes: Number(values.body) } : {}),
    timeoutMs: Number(values.timeout),
  });
  process.stdout.write(`OPEN_LOOP_RESULT ${JSON.stringify(r)}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  cli().then(
    () => process.exit(0),
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
      process.exit(1);
    },
  );
}
