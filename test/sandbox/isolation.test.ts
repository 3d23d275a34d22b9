import { describe, expect, it } from 'vitest'
import { bwrapArgs, type IsolationSpec, SANDBOX_ENV } from '../../src/sandbox/isolation.js'

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
  workerScript: '/project/src/sandbox/worker.py',
  scratchMb: 64,
})

const pairs = (args: string[], flag: string) =>
  args.flatMap((arg, i) => (arg === flag ? [[args[i + 1], args[i + 2]].join(' ')] : []))

describe('bwrapArgs', () => {
  it('binds the system read-only and the interpreter alone from the home directory', () => {
    const args = bwrapArgs(spec(true))
    expect(pairs(args, '--ro-bind')).toEqual([
      '/usr /usr',
      '/home/u/.pyenv/versions/3.11 /home/u/.pyenv/versions/3.11',
      '/project/src/sandbox/worker.py /opt/start/worker.py',
    ])
    expect(pairs(args, '--symlink')).toContain('usr/lib /lib')
    // parents readable by the cell's uid; nothing else of /home/u is there
    expect(args.join(' ')).toContain(
      '--perms 0755 --dir /home --perms 0755 --dir /home/u --perms 0755 --dir /home/u/.pyenv',
    )
    expect(args.join(' ')).not.toContain('--bind ')
  })

  it('gives a size-limited tmpfs as the only writable place', () => {
    const args = bwrapArgs(spec(true)).join(' ')
    expect(args).toContain(`--size ${64 * 1024 * 1024} --perms 1777 --tmpfs /sandbox`)
    expect(args).toContain('--symlink /sandbox /tmp')
    expect(args).toContain('--remount-ro /')
    // the read-only remount comes after every mount it must not undo
    expect(args.indexOf('--remount-ro /')).toBeGreaterThan(args.indexOf('--tmpfs /sandbox'))
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

  it('as root keeps only the capabilities to drop uid and kill; otherwise uses a user namespace', () => {
    const rootArgs = bwrapArgs(spec(true)).join(' ')
    expect(rootArgs).toContain('--cap-drop ALL --cap-add CAP_SETUID --cap-add CAP_SETGID --cap-add CAP_KILL')
    expect(rootArgs).not.toContain('--unshare-user')
    const userArgs = bwrapArgs(spec(false)).join(' ')
    expect(userArgs).toContain('--unshare-user --disable-userns')
    expect(userArgs).not.toContain('--cap-add')
  })

  it('passes only the sandbox environment', () => {
    const args = bwrapArgs(spec(true))
    expect(pairs(args, '--setenv').map((pair) => pair.split(' ')[0])).toEqual(Object.keys(SANDBOX_ENV))
  })
})
