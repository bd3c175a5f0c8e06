// Child processes for the benchmark (mock, nginx, gateway, load clients) and what they cost:
// CPU time and resident memory read from /proc for a process and all its descendants.
import { execFileSync, spawn } from "node:child_process";
import { appendFileSync, openSync, readFileSync, readdirSync } from "node:fs";
import { createServer } from "node:net";
import { clearInterval, setInterval, setTimeout } from "node:timers";
import { setTimeout as sleep } from "node:timers/promises";

let clkTck = 100;
try {
  clkTck = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
} catch {
  // 100 is the value on every Linux we run on
}

/** A free TCP port on 127.0.0.1 (bound then released). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts a child process; stdout/stderr go to logFile. With `readyLine`, resolves once a line of
 * stdout matches it (and returns the match); otherwise resolves at once.
 */
export function startProcess(name, cmd, args, { env, logFile, readyLine, timeoutMs = 20_000, cwd } = {}) {
  const out = logFile ? openSync(logFile, "a") : "ignore";
  const child = spawn(cmd, args, {
    env: env ?? process.env,
    cwd,
    stdio: ["ignore", readyLine ? "pipe" : out, out],
    detached: false,
  });
  const proc = { name, child, pid: child.pid, exited: false, exitCode: null, match: null };
  const exited = new Promise((resolve) => {
    child.on("exit", (code, signal) => {
      proc.exited = true;
      proc.exitCode = code ?? signal;
      resolve(proc.exitCode);
    });
  });
  proc.exitedPromise = exited;
  if (!readyLine) return Promise.resolve(proc);
  return new Promise((resolve, reject) => {
    let buf = "";
    let done = false;
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      child.kill("SIGKILL");
      reject(new Error(`${name} did not start within ${timeoutMs} ms; log: ${logFile}`));
    }, timeoutMs);
    child.stdout.on("data", (d) => {
      if (logFile) {
        try {
          // keep everything in the log file too
          appendFileSync(logFile, d);
        } catch {
          // logging is best effort
        }
      }
      if (done) return;
      buf += d.toString();
      const m = buf.match(readyLine);
      if (m) {
        done = true;
        clearTimeout(timer);
        proc.match = m;
        resolve(proc);
      }
    });
    void exited.then((code) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}) before it was ready; log: ${logFile}`));
    });
  });
}

/** Sends SIGTERM, waits up to graceMs, then SIGKILL. */
export async function stopProcess(proc, graceMs = 10_000) {
  if (!proc || proc.exited) return proc?.exitCode;
  proc.child.kill("SIGTERM");
  const t = sleep(graceMs).then(() => "timeout");
  const r = await Promise.race([proc.exitedPromise, t]);
  if (r === "timeout" && !proc.exited) {
    proc.child.kill("SIGKILL");
    await proc.exitedPromise;
  }
  return proc.exitCode;
}

/** Runs a command to completion; resolves with {code, stdout, stderr}. */
export function runCommand(cmd, args, { env, timeoutMs = 600_000 } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env: env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal, stdout, stderr, pid: child.pid });
    });
  });
}

function parentMap() {
  const children = new Map();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(d));
    } catch {
      // process went away
    }
  }
  return children;
}

/** The pid and all its descendants. */
export function treePids(root) {
  const children = parentMap();
  const out = [];
  const stack = [root];
  while (stack.length) {
    const p = stack.pop();
    out.push(p);
    for (const c of children.get(p) ?? []) stack.push(c);
  }
  return out;
}

export function cpuMicros(pid, withReapedChildren = false) {
  const t = cpuTimes(pid);
  return t === undefined ? undefined : t.user + t.sys + (withReapedChildren ? t.reaped : 0);
}

/**
 * One process's CPU in µs from /proc/PID/stat (its threads included): user, system, and `reaped`,
 * the CPU of children that exited and were waited for (e.g. a wrk run).
 */
export function cpuTimes(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields 14-17 (utime, stime, cutime, cstime) are at index 11-14 after the state field
    const us = (i) => (Number(f[i]) * 1e6) / clkTck;
    return { user: us(11), sys: us(12), reaped: us(13) + us(14) };
  } catch {
    return undefined;
  }
}

export function rssKb(pid) {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Busy CPU time of the whole machine in µs (all cores), from /proc/stat. */
function systemBusyMicros() {
  try {
    const f = readFileSync("/proc/stat", "utf8").split("\n", 1)[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal
    const busy = f[0] + f[1] + f[2] + f[5] + f[6] + (f[7] ?? 0);
    return (busy * 1e6) / clkTck;
  } catch {
    return undefined;
  }
}

/**
 * Samples CPU and RSS of several process trees while a load runs. start() records CPU, then
 * every intervalMs records each process's RSS; stop() returns per group: cpu_us (sys_us of it in
 * the kernel), peak RSS of the largest single process (MB), peak of the sum (MB), and the
 * processes seen.
 */
export class TreeSampler {
  constructor(groups, intervalMs = 200) {
    this.groups = groups; // { name: rootPid }
    this.intervalMs = intervalMs;
  }

  /** CPU per process (µs), and the system (kernel) part of it. */
  cpuOf(pids) {
    const per = new Map();
    const sys = new Map();
    for (const p of pids) {
      const t = cpuTimes(p);
      if (t === undefined) continue;
      per.set(p, t.user + t.sys + (p === process.pid ? t.reaped : 0));
      sys.set(p, t.sys);
    }
    return { per, sys };
  }

  start() {
    this.state = {};
    for (const [name, root] of Object.entries(this.groups)) {
      if (!root) continue;
      const pids = treePids(root);
      const cpu0 = this.cpuOf(pids);
      this.state[name] = { pids, cpu0: cpu0.per, sys0: cpu0.sys, peakProcKb: 0, peakTotalKb: 0 };
    }
    this.self0 = this.cpuOf(treePids(process.pid)).per;
    this.sys0 = systemBusyMicros();
    this.t0 = process.hrtime.bigint();
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
  }

  sample() {
    for (const [name, st] of Object.entries(this.state)) {
      const root = this.groups[name];
      // pick up workers that were (re)started during the run
      if (Math.random() < 0.1) st.pids = treePids(root);
      let total = 0;
      for (const p of st.pids) {
        const kb = rssKb(p);
        total += kb;
        if (kb > st.peakProcKb) st.peakProcKb = kb;
      }
      if (total > st.peakTotalKb) st.peakTotalKb = total;
    }
  }

  stop() {
    clearInterval(this.timer);
    this.sample();
    const wallUs = Number(process.hrtime.bigint() - this.t0) / 1000;
    const out = {};
    // CPU used on this machine by processes that are not this benchmark (other jobs, other users):
    // the ratios are only meaningful when this stays near zero.
    const sys1 = systemBusyMicros();
    let self = 0;
    for (const [p, c] of this.cpuOf(treePids(process.pid)).per) self += c - (this.self0.get(p) ?? 0);
    out._machine = {
      bench_cores: +(self / wallUs).toFixed(3),
      foreign_cores: sys1 !== undefined && this.sys0 !== undefined ? +Math.max(0, (sys1 - this.sys0 - self) / wallUs).toFixed(3) : null,
    };
    for (const [name, st] of Object.entries(this.state)) {
      const pids = treePids(this.groups[name]);
      const now = this.cpuOf(pids);
      let cpu = 0;
      for (const [p, c] of now.per) cpu += c - (st.cpu0.get(p) ?? 0);
      let sys = 0;
      for (const [p, c] of now.sys) sys += c - (st.sys0.get(p) ?? 0);
      out[name] = {
        cpu_us: Math.round(cpu),
        // the kernel's share of cpu_us (socket calls, wake-ups); the rest is the process's own code
        sys_us: Math.round(sys),
        cpu_cores: +(cpu / wallUs).toFixed(3),
        peak_rss_mb_max_process: +(st.peakProcKb / 1024).toFixed(1),
        peak_rss_mb_total: +(st.peakTotalKb / 1024).toFixed(1),
        processes: pids.length,
      };
    }
    return out;
  }
}

/** Resolves once `fn` returns truthy (polled), or rejects after timeoutMs. */
export async function waitFor(what, fn, timeoutMs = 20_000, everyMs = 50) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await fn()) return;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}
