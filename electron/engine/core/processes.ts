/**
 * Facts about other processes of this machine, read without spawning anything: whether one
 * still runs, and its parent (Linux /proc). Used to find abandoned config temp files and to
 * notice that the launcher of a relay (npm) has gone.
 */
import { readFileSync } from 'node:fs';

/** True while process `pid` exists (also when it belongs to another user: EPERM). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The parent of process `pid` (Linux /proc), or undefined where that cannot be read. */
export function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so read after the last ")".
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isInteger(ppid) ? ppid : undefined;
  } catch {
    return undefined;
  }
}
