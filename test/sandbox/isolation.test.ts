import { describe, expect, it } from 'vitest'
import { bwrapArgs, cellUid, type IsolationSpec, SANDBOX_ENV } from '../../src/sandbox/isolation.js'

const spec = (root: boolean): IsolationSpec => ({
  host: {
    system: [
      { path: '/usr' },
      { path: '/lib', symlinkTo: 'usr/lib' },
      { path: '/bin', symlinkTo: 'usr/bin' },
    ],
    etc: ['/etc/ld.so.cache'],
    root,
  },
  python: {
    executable: '/home/u/.pyenv/versions/3.11/bin/python3.11',
    paths: [
      '/home/u/.pyenv/versions/3.11',
      '/home/u/.pyenv/versions/3.11/lib/python3.11',
      '/usr/lib/python3/dist-packages',
    ],
  },
  workerDirectory: '/project/src/sandbox/python',
})

const pairs = (args: string[], flag: string) =>
  args.flatMap((arg, i) => (arg === flag ? [[args[i + 1], args[i + 2]].join(' ')] : []))

describe('bwrapArgs', () => {
  it('binds the system read-only and the interpreter alone from the home directory', () => {
    const args = bwrapArgs(spec(true))
    expect(pairs(args, '--ro-bind')).toEqual([
      '/usr /usr',
      '/home/u/.pyenv/versions/3.11 /home/u/.pyenv/versions/3.11',
      '/project/src/sandbox/python /opt/start',
    ])
    expect(pairs(args, '--symlink')).toContain('usr/lib /lib')
    // parents readable by the cell's uid; nothing else of /home/u is there
    expect(args.join(' ')).toContain(
      '--perms 0755 --dir /home --perms 0755 --dir /home/u --perms 0755 --dir /home/u/.pyenv',
    )
    expect(args.join(' ')).not.toContain('--bind ')
  })

  it('leaves nothing writable: /, /dev and the scratch mount point are read-only', () => {
    const args = bwrapArgs(spec(true)).join(' ')
    // each record's world mounts its own scratch tmpfs on /sandbox; the worker's is only a directory
    expect(args).toContain('--perms 0755 --dir /sandbox')
    expect(args).not.toContain('--tmpfs')
    expect(args).toContain('--symlink /sandbox /tmp')
    expect(args).toContain('--dev /dev --remount-ro /dev')
    // the read-only remount of / comes after every mount and directory it must not undo
    expect(args.lastIndexOf('--remount-ro / ')).toBeGreaterThan(args.indexOf('--dir /sandbox'))
    expect(args).toContain('--chdir /sandbox')
  })

  it('cuts the network and the process tree, and dies with its parent', () => {
    const args = bwrapArgs(spec(true))
    for (const flag of [
      '--unshare-net',
      '--unshare-pid',
      '--unshare-ipc',
      '--die-with-parent',
      '--new-session',
      '--clearenv',
    ]) {
      expect(args).toContain(flag)
    }
  })

  it('keeps only the capabilities to build worlds (and, as root, to drop uid and kill); otherwise uses a user namespace', () => {
    const rootArgs = bwrapArgs(spec(true)).join(' ')
    expect(rootArgs).toContain(
      '--cap-drop ALL --cap-add CAP_SYS_ADMIN --cap-add CAP_SETUID --cap-add CAP_SETGID --cap-add CAP_KILL --',
    )
    expect(rootArgs).not.toContain('--unshare-user')
    const userArgs = bwrapArgs(spec(false)).join(' ')
    expect(userArgs).toContain('--cap-drop ALL --cap-add CAP_SYS_ADMIN --unshare-user --disable-userns')
  })

  it('passes only the sandbox environment', () => {
    const args = bwrapArgs(spec(true))
    expect(pairs(args, '--setenv').map((pair) => pair.split(' ')[0])).toEqual(Object.keys(SANDBOX_ENV))
  })
})

describe('cellUid', () => {
  it('gives every live worker of every process a uid of its own, all unprivileged and below 2^31', () => {
    const uids = new Set<number>()
    const pids = [1, 2, 300, 4_194_303]
    for (const pid of pids) for (let serial = 0; serial < 256; serial++) uids.add(cellUid(pid, serial))
    expect(uids.size).toBe(pids.length * 256)
    expect(Math.min(...uids)).toBeGreaterThanOrEqual(100_000)
    expect(Math.max(...uids)).toBeLessThan(2 ** 31)
    // two runs whose first workers both have serial 0 still differ
    expect(cellUid(1000, 0)).not.toBe(cellUid(1001, 0))
  })
})
