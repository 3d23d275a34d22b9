import { existsSync } from 'node:fs'

/** Whether a process with this pid exists (one of another user's counts: EPERM means it is there). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * The command line, run so that the process gets SIGKILL when its parent dies: a command killed with
 * SIGKILL (no handler runs) must not leave llama-server holding its port, or a trainer writing on. On
 * Linux, util-linux's setpriv sets the parent-death signal and then execs the command (same pid);
 * elsewhere, the command as it is.
 */
export function diesWithParent(commandLine: string[]): string[] {
  const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((path) => existsSync(path))
  return process.platform === 'linux' && setpriv
    ? [setpriv, '--pdeathsig', 'SIGKILL', '--', ...commandLine]
    : commandLine
}
