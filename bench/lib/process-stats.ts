import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

/*
 * What the kernel accounts for a process (Linux /proc): CPU time and resident memory. The benchmark reads
 * the server's own accounting rather than timing from outside, so a figure is the server's work alone,
 * whatever the load generator beside it costs.
 */

let ticksPerSecond: number | undefined;

/** The kernel's clock ticks per second (`getconf CLK_TCK`; 100, the Linux default, when getconf is missing). */
export function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    try {
      const value = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
      ticksPerSecond = Number.isFinite(value) && value > 0 ? value : 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** The fields of /proc/<pid>/stat after the command name, which may itself hold spaces and parentheses. */
function statFields(pid: number): string[] | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // the process ended
  }
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

/** The processes whose parent is `pid`, and theirs, recursively. */
function descendantsOf(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(Number(entry));
    if (!fields) continue;
    const parent = Number(fields[1]); // field 4, ppid
    children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
  }
  const found: number[] = [];
  const pending = [pid];
  while (pending.length > 0) {
    for (const child of children.get(pending.pop() as number) ?? []) {
      found.push(child);
      pending.push(child);
    }
  }
  return found;
}

/**
 * CPU milliseconds (user + system, every thread) spent so far by process `pid` and all its descendants,
 * including the children they have already waited for: so a service that later runs worker processes is
 * counted whole. Compare two readings around a phase.
 * @throws Error when `pid` is not running
 */
export function processTreeCpuMs(pid: number): number {
  let ticks = 0;
  for (const member of [pid, ...descendantsOf(pid)]) {
    const fields = statFields(member);
    if (!fields) {
      if (member === pid) throw new Error(`process ${pid} is not running`);
      continue;
    }
    // Fields 14-17 of stat(5): utime, stime, cutime, cstime; here offset by the 2 fields before ppid.
    ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  }
  return (ticks * 1000) / clockTicksPerSecond();
}

/** Resident memory of one process, from /proc/<pid>/status. */
export interface ProcessMemory {
  /** VmRSS: resident now. */
  rssBytes: number;
  /** VmHWM: the highest resident size since the start or since {@link resetPeakRss}. */
  peakRssBytes: number;
}

/** @throws Error when `pid` is not running */
export function processMemory(pid: number): ProcessMemory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssBytes: kib('VmRSS') * 1024, peakRssBytes: kib('VmHWM') * 1024 };
}

/**
 * Resets the process's VmHWM to its current RSS (writing 5 to /proc/<pid>/clear_refs, Linux ≥ 4.0), so
 * that the peak read afterwards is the peak of the phase that follows, not of the start-up.
 * @returns false when the kernel refused (the peak then includes the start-up)
 */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** Resident memory of a process and its descendants (a clustered service: its primary and workers). */
export interface TreeMemory {
  /** The processes, each with what {@link processMemory} read. */
  members: Map<number, ProcessMemory>;
  /** Sum of their VmRSS. */
  rssBytes: number;
}

/** Reads the memory of `pid` and of every descendant (one that ends meanwhile is left out). */
export function processTreeMemory(pid: number): TreeMemory {
  const members = new Map<number, ProcessMemory>();
  let rssBytes = 0;
  for (const member of [pid, ...descendantsOf(pid)]) {
    try {
      const memory = processMemory(member);
      members.set(member, memory);
      rssBytes += memory.rssBytes;
    } catch (error) {
      if (member === pid) throw error;
    }
  }
  return { members, rssBytes };
}

/**
 * {@link resetPeakRss} for every process of the tree.
 * @returns false when the kernel refused for any of them
 */
export function resetTreePeakRss(tree: TreeMemory): boolean {
  let reset = true;
  for (const pid of tree.members.keys()) reset = resetPeakRss(pid) && reset;
  return reset;
}

/**
 * How much more resident memory the tree held at its peak than in `before` (read before a phase, just
 * before its VmHWMs were reset): the sum over the processes of (VmHWM now − VmRSS before). The processes'
 * peaks need not coincide, so this is an upper bound of the tree's growth; it counts a process that
 * appeared meanwhile whole.
 */
export function treePeakGrowthBytes(before: TreeMemory, after: TreeMemory): number {
  let growth = 0;
  for (const [pid, memory] of after.members) {
    growth += Math.max(0, memory.peakRssBytes - (before.members.get(pid)?.rssBytes ?? 0));
  }
  return growth;
}
