import { describe, expect, it } from 'vitest'
import { type CgroupHost, ownCgroups, parentCandidates } from '../../src/sandbox/cgroup.js'

const HYBRID = `9:name=systemd:/
4:memory:/process_api/942ee
1:cpu,cpuacct:/
0::/`

const host = (procSelfCgroup: string, files: Record<string, string>): CgroupHost => ({
  procSelfCgroup,
  exists: (path) => path in files || Object.keys(files).some((file) => file.startsWith(`${path}/`)),
  read: (path) => files[path],
})

describe('ownCgroups', () => {
  it('reads the v1 memory and the v2 paths of /proc/self/cgroup', () => {
    expect(ownCgroups(HYBRID)).toEqual({ v1Memory: '/process_api/942ee', v2: '/' })
    expect(ownCgroups('0::/user.slice/user-1000.slice/session-2.scope\n')).toEqual({
      v2: '/user.slice/user-1000.slice/session-2.scope',
    })
    expect(ownCgroups('5:cpuset,memory:/a:b\n')).toEqual({ v1Memory: '/a:b' })
  })
})

describe('parentCandidates', () => {
  it('v1: its own memory cgroup, or the hierarchy root where that path is not mounted', () => {
    const mounted = host(HYBRID, {
      '/sys/fs/cgroup/memory/memory.limit_in_bytes': '',
      '/sys/fs/cgroup/memory/process_api/942ee/memory.limit_in_bytes': '',
    })
    expect(parentCandidates(mounted)).toEqual([
      { version: 1, path: '/sys/fs/cgroup/memory/process_api/942ee' },
    ])
    // a container that sees only its own part of the hierarchy, mounted as the root
    const container = host(HYBRID, { '/sys/fs/cgroup/memory/memory.limit_in_bytes': '' })
    expect(parentCandidates(container)).toEqual([{ version: 1, path: '/sys/fs/cgroup/memory' }])
  })

  it('v2: a cgroup that hands the memory controller to its children, its own first', () => {
    const own = '0::/user.slice/start.scope\n'
    const rootOnly = host(own, {
      '/sys/fs/cgroup/cgroup.controllers': 'cpu memory pids',
      '/sys/fs/cgroup/cgroup.subtree_control': 'cpu memory pids\n',
      '/sys/fs/cgroup/user.slice/start.scope/cgroup.subtree_control': '\n',
    })
    expect(parentCandidates(rootOnly)).toEqual([{ version: 2, path: '/sys/fs/cgroup' }])
    const delegated = host(own, {
      '/sys/fs/cgroup/cgroup.controllers': 'cpu memory pids',
      '/sys/fs/cgroup/cgroup.subtree_control': 'memory',
      '/sys/fs/cgroup/user.slice/start.scope/cgroup.subtree_control': 'memory pids',
    })
    expect(parentCandidates(delegated).map((candidate) => candidate.path)).toEqual([
      '/sys/fs/cgroup/user.slice/start.scope',
      '/sys/fs/cgroup',
    ])
  })

  it('nothing where no hierarchy offers the memory controller', () => {
    expect(parentCandidates(host(HYBRID, {}))).toEqual([])
    const withoutMemory = host('0::/\n', {
      '/sys/fs/cgroup/cgroup.controllers': 'cpu pids',
      '/sys/fs/cgroup/cgroup.subtree_control': 'cpu pids',
    })
    expect(parentCandidates(withoutMemory)).toEqual([])
  })
})
