// Looks at real processes through /proc: who is whose child, what it runs, how much CPU it used, what it listens on (tests and benches).
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcStat {
  ppid: number;
  /** utime + stime, in clock ticks (getconf CLK_TCK, 100 on Linux). */
  cpuTicks: number;
}

/** Null once the process is gone (a zombie counts as gone). */
export function procStat(pid: number): ProcStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  if (f[0] === 'Z') return null;
  return { ppid: Number(f[1]), cpuTicks: Number(f[11]) + Number(f[12]) };
}

export const alive = (pid: number): boolean => procStat(pid) !== null;

export function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

/** Live children of `ppid` whose command line contains `needle`. */
export function childrenRunning(ppid: number, needle: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((pid) => procStat(pid)?.ppid === ppid && cmdline(pid).join(' ').includes(needle));
}

/** Local addresses ("0100007F" is 127.0.0.1) with a TCP socket listening on `port`, from /proc/net/tcp and tcp6. */
export function listeners(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const out: string[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const [addr, p] = (cols[1] ?? '').split(':');
      // State 0A is LISTEN.
      if (p === hexPort && cols[3] === '0A') out.push(addr!);
    }
  }
  return out;
}
