/**
 * The bubblewrap command line for a sandbox worker. Pure: the host facts it needs come in
 * as `HostLayout`, so the policy (what is visible, what is writable) is testable on its own.
 */

export const SCRATCH = '/sandbox'
/** Where the worker's Python source (src/sandbox/python) is bound read-only, and the file that runs it. */
export const WORKER_DIRECTORY = '/opt/start'
export const WORKER_PATH = `${WORKER_DIRECTORY}/run_worker.py`
/** Where the worker sees its memory cgroup directory (each world covers it before its cell runs). */
export const CGROUP_MOUNT = '/cgroup'

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
  /** The worker's Python source directory on the host (run_worker.py and the sandbox_worker package). */
  workerDirectory: string
  /** The worker's memory cgroup directory on the host, if it has one. */
  cgroup?: string
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

/**
 * System calls a cell gets EPERM for: other processes' memory, the kernel keyring, new
 * namespaces and mounts, System V and POSIX IPC (a record's state must not outlive it), memory
 * outside its address-space limit (memfd), and the kernel's riskier surfaces.
 */
export const SECCOMP_DENIED = [
  // reading or steering another process
  'ptrace',
  'process_vm_readv',
  'process_vm_writev',
  'pidfd_getfd',
  'kcmp',
  // the kernel keyring
  'keyctl',
  'add_key',
  'request_key',
  // namespaces and mounts
  'unshare',
  'setns',
  'mount',
  'umount2',
  'pivot_root',
  'chroot',
  'open_tree',
  'move_mount',
  'fsopen',
  'fsconfig',
  'fsmount',
  'fspick',
  'mount_setattr',
  // System V and POSIX IPC
  'shmget',
  'shmat',
  'shmctl',
  'shmdt',
  'semget',
  'semop',
  'semctl',
  'semtimedop',
  'msgget',
  'msgsnd',
  'msgrcv',
  'msgctl',
  'mq_open',
  'mq_unlink',
  'mq_timedsend',
  'mq_timedreceive',
  'mq_notify',
  'mq_getsetattr',
  // memory no limit counts
  'memfd_create',
  'memfd_secret',
  'userfaultfd',
  // kernel surfaces a cell has no use for
  'bpf',
  'perf_event_open',
  'io_uring_setup',
  'io_uring_enter',
  'io_uring_register',
  'open_by_handle_at',
  'name_to_handle_at',
  'fanotify_init',
  'lookup_dcookie',
  'syslog',
  'kexec_load',
  'kexec_file_load',
  'init_module',
  'finit_module',
  'delete_module',
  'swapon',
  'swapoff',
  'reboot',
  'acct',
  'quotactl',
  'quotactl_fd',
  'vhangup',
  'settimeofday',
  'clock_settime',
  'clock_adjtime',
  'adjtimex',
  'sethostname',
  'setdomainname',
]

/** clone3 passes its flags in memory a filter cannot read: ENOSYS makes glibc use clone. */
export const SECCOMP_UNAVAILABLE = ['clone3']

/** clone flags that make a namespace; a clone with any of them is denied. */
export const CLONE_NAMESPACE_FLAGS = [
  0x00000080, // CLONE_NEWTIME
  0x00020000, // CLONE_NEWNS
  0x02000000, // CLONE_NEWCGROUP
  0x04000000, // CLONE_NEWUTS
  0x08000000, // CLONE_NEWIPC
  0x10000000, // CLONE_NEWUSER
  0x20000000, // CLONE_NEWPID
  0x40000000, // CLONE_NEWNET
]

/**
 * As root, each worker's cells run as a uid of their own: CELL_UID_BASE + pid * UIDS_PER_PROCESS +
 * serial. The pid keeps two concurrent runs apart (a live pid is unique on the machine, and the
 * default pid_max of 2^22 keeps the uid below 2^31); the serial keeps one process's live workers
 * apart (up to 256 at once).
 */
const CELL_UID_BASE = 100_000
const UIDS_PER_PROCESS = 256

export function cellUid(pid: number, serial: number): number {
  return CELL_UID_BASE + pid * UIDS_PER_PROCESS + (serial % UIDS_PER_PROCESS)
}

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
  args.push('--ro-bind', spec.workerDirectory, WORKER_DIRECTORY)
  args.push('--proc', '/proc', '--dev', '/dev', '--remount-ro', '/dev')
  // Only the mount point: each record's world mounts a fresh, size-limited tmpfs here.
  args.push('--perms', '0755', '--dir', SCRATCH, '--symlink', SCRATCH, '/tmp')
  // The worker's cgroup directory, where it makes each world's cgroup (no world keeps this mount).
  if (spec.cgroup) args.push('--bind', spec.cgroup, CGROUP_MOUNT)
  // The root bwrap builds is a tmpfs the sandbox owns inside a user namespace: freeze it, so a
  // record's scratch (a mount of its own) stays the only writable place.
  args.push('--remount-ro', '/')
  args.push('--unshare-net', '--unshare-pid', '--unshare-ipc', '--unshare-uts')
  // The worker moves each world into a cgroup of the host's hierarchy, which a cgroup namespace rooted
  // where the worker starts would put out of its reach; each world enters a cgroup namespace of its own.
  if (!spec.cgroup) args.push('--unshare-cgroup-try')
  // The worker keeps only what it needs to build each record's world (namespaces and mounts:
  // CAP_SYS_ADMIN) and, as real root, to drop each cell to its own uid and kill what the cell
  // leaves behind. Cells run with no capabilities at all.
  const capabilities = spec.host.root
    ? ['CAP_SYS_ADMIN', 'CAP_SETUID', 'CAP_SETGID', 'CAP_KILL']
    : ['CAP_SYS_ADMIN']
  args.push('--cap-drop', 'ALL', ...capabilities.flatMap((name) => ['--cap-add', name]))
  if (!spec.host.root) args.push('--unshare-user', '--disable-userns')
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
