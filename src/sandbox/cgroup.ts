/**
 * Memory cgroups for the sandbox: each worker gets a directory of its own in a memory cgroup, and
 * its worker makes one child per record's world there, capped at the world's memory limit. Unlike
 * rlimits (per process, address space), a cgroup counts everything the world holds: all its
 * processes, its scratch tmpfs, its shared memory.
 *
 * Which hierarchy, and where in it: parsing is pure (`ownCgroups`, `parentCandidates`); the rest
 * touches /sys/fs/cgroup.
 */
import {
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { UsageError } from '../core/errors.js'
import { isProcessAlive } from '../core/process-alive.js'

export type CgroupVersion = 1 | 2

/** A cgroup directory on the host, with its hierarchy's version. */
export interface MemoryCgroup {
  version: CgroupVersion
  path: string
}

/** `auto`: a cgroup of start's own where the machine lets it make one; `off`; or a directory delegated to this user. */
export type MemoryCgroupSetting = 'auto' | 'off' | (string & {})

const V1_MOUNT = '/sys/fs/cgroup/memory'
const V2_MOUNTS = ['/sys/fs/cgroup', '/sys/fs/cgroup/unified']
/** A worker's directory: `start-<pid>-<serial>`, so that another run can tell whether its owner is gone. */
const WORKER_DIRECTORY = /^start-(\d+)-\d+$/

/** This process's cgroup paths, from /proc/self/cgroup: the v1 memory hierarchy's and the v2 one's. */
export function ownCgroups(procSelfCgroup: string): { v1Memory?: string; v2?: string } {
  const own: { v1Memory?: string; v2?: string } = {}
  for (const line of procSelfCgroup.split('\n')) {
    const [id, controllers, ...rest] = line.split(':')
    const path = rest.join(':')
    if (!path) continue
    if (id === '0' && controllers === '') own.v2 = path
    else if (controllers?.split(',').includes('memory')) own.v1Memory = path
  }
  return own
}

/** What `parentCandidates` needs to know of the machine. */
export interface CgroupHost {
  procSelfCgroup: string
  exists(path: string): boolean
  read(path: string): string | undefined
}

/**
 * Where start may make its cgroups, best first. v1: its own memory cgroup (anything under it is
 * counted against whatever limits start itself). v2: a cgroup whose children get the memory
 * controller (its `cgroup.subtree_control` lists it): its own, or the hierarchy's root.
 */
export function parentCandidates(host: CgroupHost): MemoryCgroup[] {
  const own = ownCgroups(host.procSelfCgroup)
  const candidates: MemoryCgroup[] = []
  if (own.v1Memory !== undefined && host.exists(join(V1_MOUNT, 'memory.limit_in_bytes'))) {
    const path = join(V1_MOUNT, own.v1Memory)
    candidates.push({ version: 1, path: host.exists(path) ? path : V1_MOUNT })
  }
  const v2Mount = V2_MOUNTS.find((mount) => host.exists(join(mount, 'cgroup.controllers')))
  if (v2Mount !== undefined) {
    for (const path of new Set([join(v2Mount, own.v2 ?? '/'), v2Mount])) {
      if (handsOutMemory(host.read(join(path, 'cgroup.subtree_control'))))
        candidates.push({ version: 2, path })
    }
  }
  return candidates
}

/** A v2 `cgroup.subtree_control` that gives the memory controller to the cgroup's children. */
function handsOutMemory(subtreeControl: string | undefined): boolean {
  return subtreeControl?.split(/\s+/).includes('memory') ?? false
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
}

/** `parentCandidates` on this machine (read when a worker starts, not when this module loads). */
export function machineParentCandidates(): MemoryCgroup[] {
  return parentCandidates({
    procSelfCgroup: readText('/proc/self/cgroup') ?? '',
    exists: existsSync,
    read: readText,
  })
}

/** The version of a cgroup directory given by the user, or an error naming the flag. */
function delegatedParent(path: string): MemoryCgroup {
  if (existsSync(join(path, 'memory.limit_in_bytes'))) return { version: 1, path }
  if (handsOutMemory(readText(join(path, 'cgroup.subtree_control')))) return { version: 2, path }
  throw new UsageError(
    `--memory-cgroup ${path}: not a memory cgroup whose children get the memory controller`,
    'give a cgroup v1 memory directory, or a v2 directory with "memory" in its cgroup.subtree_control',
  )
}

let serial = 0

/**
 * Makes a worker's cgroup directory, or returns undefined when `auto` finds nowhere writable.
 * `owner`: the uid and gid the sandbox runs as, when that is not this process's (unprivileged mode
 * started by root): the directory is handed to them, as an administrator delegates a cgroup.
 */
export function createWorkerCgroup(
  setting: MemoryCgroupSetting,
  owner?: { uid: number; gid: number },
): MemoryCgroup | undefined {
  if (setting === 'off') return undefined
  const parents = setting === 'auto' ? machineParentCandidates() : [delegatedParent(setting)]
  for (const parent of parents) {
    removeStale(parent.path)
    const path = join(parent.path, `start-${process.pid}-${serial++}`)
    try {
      mkdirSync(path)
      // v2: the worlds made inside get the memory controller (this directory holds no process).
      if (parent.version === 2) writeFileSync(join(path, 'cgroup.subtree_control'), '+memory')
      if (owner)
        for (const entry of ['', ...readdirSync(path)]) chownSync(join(path, entry), owner.uid, owner.gid)
      return { version: parent.version, path }
    } catch (error) {
      removeCgroupTree(path)
      if (setting !== 'auto') {
        throw new UsageError(
          `--memory-cgroup ${setting}: cannot make a cgroup there: ${(error as Error).message}`,
        )
      }
    }
  }
  return undefined
}

/** Removes a cgroup directory and its children; false while one still holds a process. */
export function removeCgroupTree(path: string): boolean {
  if (!existsSync(path)) return true
  try {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      if (entry.isDirectory()) removeCgroupTree(join(path, entry.name))
    }
    rmdirSync(path)
    return true
  } catch {
    return false
  }
}

/** `removeCgroupTree`, retried while the processes of a world just killed finish dying. */
export async function removeCgroupTreeSoon(path: string, withinMs = 5_000): Promise<void> {
  const deadline = Date.now() + withinMs
  while (!removeCgroupTree(path) && Date.now() < deadline) await new Promise((done) => setTimeout(done, 20))
}

/** Directories left by a start process that is gone (killed before it could clean up). */
function removeStale(parent: string): void {
  let entries: string[]
  try {
    entries = readdirSync(parent)
  } catch {
    return
  }
  for (const name of entries) {
    const pid = Number(WORKER_DIRECTORY.exec(name)?.[1])
    if (pid && pid !== process.pid && !isProcessAlive(pid)) removeCgroupTree(join(parent, name))
  }
}
