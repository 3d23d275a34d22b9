/**
 * The bubblewrap command line for a sandbox worker. Pure: the host facts it needs come in
 * as `HostLayout`, so the policy (what is visible, what is writable) is testable on its own.
 */

export const SCRATCH = '/sandbox'
export const WORKER_PATH = '/opt/start/worker.py'

export interface HostLayout {
  /** Top-level system entries: a directory to bind read-only, or a symlink to recreate. */
  system: { path: string; symlinkTo?: string }[]
  /** Files and directories under /etc that exist and that programs need (loader cache, zoneinfo). */
  etc: string[]
  /** Whether this process is real root: then cells drop to an unprivileged uid. */
  root: boolean
}

export interface IsolationSpec {
  host: HostLayout
  /** Interpreter and the directories it reads (prefixes, site-packages). */
  python: { executable: string; paths: string[] }
  workerScript: string
  scratchMb: number
}

const SYSTEM_ENTRIES = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32']
export const ETC_ENTRIES = [
  '/etc/ld.so.cache',
  '/etc/ld.so.conf',
  '/etc/ld.so.conf.d',
  '/etc/localtime',
  '/etc/alternatives',
  '/etc/fonts',
  '/etc/mime.types',
]

/** Environment of the worker and its cells: nothing of the caller's (no tokens, no keys) leaks in. */
export const SANDBOX_ENV: Record<string, string> = {
  PATH: '/usr/local/bin:/usr/bin:/bin',
  HOME: SCRATCH,
  TMPDIR: SCRATCH,
  LANG: 'C.UTF-8',
  PYTHONIOENCODING: 'utf-8',
  PYTHONDONTWRITEBYTECODE: '1',
  PYTHONHASHSEED: '0',
  OMP_NUM_THREADS: '1',
  OPENBLAS_NUM_THREADS: '1',
  MKL_NUM_THREADS: '1',
  NUMEXPR_NUM_THREADS: '1',
  MPLBACKEND: 'Agg',
}

export function systemEntries(): string[] {
  return SYSTEM_ENTRIES
}

function isWithin(path: string, root: string): boolean {
  return path === root || path.startsWith(root.endsWith('/') ? root : `${root}/`)
}

export function bwrapArgs(spec: IsolationSpec): string[] {
  const args: string[] = []
  const visible: string[] = []
  for (const entry of spec.host.system) {
    if (entry.symlinkTo) args.push('--symlink', entry.symlinkTo, entry.path)
    else args.push('--ro-bind', entry.path, entry.path)
    visible.push(entry.path)
  }
  if (spec.host.etc.length > 0) args.push('--perms', '0755', '--dir', '/etc')
  for (const path of spec.host.etc) args.push('--ro-bind-try', path, path)
  // The interpreter may live outside /usr (pyenv under $HOME, a venv): bind just its own
  // directories. bwrap would create their parents 0700, unreadable once a cell drops its uid.
  const created = new Set<string>()
  const extra = [...new Set([dirnameOf(spec.python.executable), ...spec.python.paths])]
    .filter((path) => !visible.some((root) => isWithin(path, root)))
    .sort()
  const bound: string[] = []
  for (const path of extra) {
    if (bound.some((root) => isWithin(path, root))) continue
    for (const parent of parentsOf(path)) {
      if (created.has(parent)) continue
      created.add(parent)
      args.push('--perms', '0755', '--dir', parent)
    }
    args.push('--ro-bind', path, path)
    bound.push(path)
  }
  args.push('--ro-bind', spec.workerScript, WORKER_PATH)
  args.push('--proc', '/proc', '--dev', '/dev')
  args.push('--size', String(spec.scratchMb * 1024 * 1024), '--perms', '1777', '--tmpfs', SCRATCH)
  args.push('--symlink', SCRATCH, '/tmp')
  // The root bwrap builds is a tmpfs the sandbox owns inside a user namespace: freeze it, so the
  // scratch directory (a mount of its own) stays the only writable place.
  args.push('--remount-ro', '/')
  args.push('--unshare-net', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try')
  if (spec.host.root) {
    // Real root keeps only what the worker needs to drop each cell to its own uid and to
    // kill what the cell leaves behind.
    args.push(
      '--cap-drop',
      'ALL',
      '--cap-add',
      'CAP_SETUID',
      '--cap-add',
      'CAP_SETGID',
      '--cap-add',
      'CAP_KILL',
    )
  } else {
    args.push('--unshare-user', '--disable-userns')
  }
  args.push('--die-with-parent', '--new-session', '--clearenv')
  for (const [name, value] of Object.entries(SANDBOX_ENV)) args.push('--setenv', name, value)
  args.push('--chdir', SCRATCH)
  return args
}

function dirnameOf(path: string): string {
  return path.slice(0, path.lastIndexOf('/')) || '/'
}

/** "/a/b/c" -> ["/a", "/a/b"] */
function parentsOf(path: string): string[] {
  const parts = path.split('/').filter(Boolean)
  return parts.slice(0, -1).map((_, i) => `/${parts.slice(0, i + 1).join('/')}`)
}
