import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { machineParentCandidates } from '../../src/sandbox/cgroup.js'
import { type SandboxOptions, SandboxPool } from '../../src/sandbox/pool.js'

/**
 * Root mode (cells drop to a uid of their own) and unprivileged mode (bwrap in a user namespace, as a
 * plain user: here the test, when root, starts the sandbox as nobody). Every attack runs in both.
 */
const UNPRIVILEGED: SandboxOptions = {
  runAs: { uid: 65534, gid: 65534 },
  // nobody cannot enter root's home, where pyenv keeps its interpreter
  python: existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3',
}
/** Whether this machine lets start (as root) make memory cgroups: then every world's memory is capped as a whole. */
const MEMORY_CGROUP_WRITABLE = process.getuid?.() === 0 && machineParentCandidates().length > 0

/** The cgroup directories this process's sandbox workers hold now. */
const startCgroups = () =>
  execFileSync(
    'find',
    ['/sys/fs/cgroup', '-maxdepth', '8', '-type', 'd', '-name', `start-${process.pid}-*`],
    {
      encoding: 'utf8',
    },
  )
    .split('\n')
    .filter(Boolean)
    .sort()

const SANDBOX_MODES: [string, SandboxOptions][] =
  process.getuid?.() === 0
    ? [
        ['root mode', {}],
        ['unprivileged mode', UNPRIVILEGED],
      ]
    : [['unprivileged mode', {}]]

/** A system call by name, from a cell, through libc: returns "ok" or the errno's name. */
const SYSCALL_HELPER = `
import ctypes, errno, platform
_libc = ctypes.CDLL(None, use_errno=True)
_NUMBERS = {
    "x86_64": {"ptrace": 101, "process_vm_readv": 310, "keyctl": 250, "add_key": 248, "unshare": 272,
               "setns": 308, "mount": 165, "bpf": 321, "perf_event_open": 298, "memfd_create": 319,
               "shmget": 29, "msgget": 68, "semget": 64, "mq_open": 240, "userfaultfd": 323},
    "aarch64": {"ptrace": 117, "process_vm_readv": 270, "keyctl": 219, "add_key": 217, "unshare": 97,
                "setns": 268, "mount": 40, "bpf": 280, "perf_event_open": 241, "memfd_create": 279,
                "shmget": 194, "msgget": 186, "semget": 190, "mq_open": 180, "userfaultfd": 282},
}[platform.machine()]
def syscall(name, *args):
    result = _libc.syscall(_NUMBERS[name], *[ctypes.c_long(a) for a in args])
    return "ok" if result >= 0 else errno.errorcode[ctypes.get_errno()]
`

// Every test here runs hostile code in the real sandbox and checks that it is contained and
// that the test process (and the pool) are unharmed afterwards.
describe.each(SANDBOX_MODES)('sandbox security, %s', (_mode, modeOptions) => {
  let pool: SandboxPool
  let server: Server
  let port = 0
  const secretFile = resolve(homedir(), `.start-test-secret-${process.pid}`)

  beforeAll(async () => {
    process.env.START_TEST_SECRET = 'hunter2'
    writeFileSync(secretFile, 'top secret')
    server = createServer((socket) => socket.end('hello from the host\n'))
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
    port = (server.address() as { port: number }).port
    pool = new SandboxPool({
      ...modeOptions,
      workers: 1,
      limits: { timeoutMs: 5000, memoryMb: 1024, scratchMb: 32, fileSizeMb: 16, processes: 32 },
    })
    await pool.warm()
  })

  afterAll(async () => {
    await pool.close()
    server.close()
    rmSync(secretFile, { force: true })
    delete process.env.START_TEST_SECRET
  })

  const stillHealthy = async () => {
    const result = await pool.execute('print(6 * 7)')
    expect(result.stdout).toBe('42\n')
  }

  it('cannot reach the network, not even a server on the host loopback', async () => {
    const result = await pool.execute(`
import socket
for address in [("127.0.0.1", ${port}), ("1.1.1.1", 80)]:
    try:
        socket.create_connection(address, timeout=2).recv(100)
        print("connected", address)
    except OSError as error:
        print("blocked", type(error).__name__)
`)
    expect(result.stdout).not.toContain('connected')
    expect(result.stdout.match(/blocked/g)).toHaveLength(2)
  })

  it('cannot read /etc/shadow, the home directory, or the project', async () => {
    const result = await pool.execute(`
for path in ["/etc/shadow", ${JSON.stringify(secretFile)}, ${JSON.stringify(resolve('package.json'))}]:
    try:
        open(path).read()
        print("read", path)
    except OSError as error:
        print("denied", type(error).__name__)
`)
    expect(result.stdout).not.toContain('read ')
    expect(result.stdout.match(/denied/g)).toHaveLength(3)
  })

  it('sees none of the caller environment', async () => {
    const result = await pool.execute('import os\nprint(sorted(k for k in os.environ if "SECRET" in k))')
    expect(result.stdout).toBe('[]\n')
  })

  it('writes only inside its scratch directory', async () => {
    const result = await pool.execute(`
import os
for path in ["/usr/evil", "/opt/start/evil", "/etc/evil", "/evil", ${JSON.stringify(resolve('evil'))}]:
    try:
        open(path, "w").write("x")
        print("wrote", path)
    except OSError:
        print("denied")
open("ok.txt", "w").write("fine")
print(os.getcwd(), open("/tmp/ok.txt").read())
`)
    expect(result.stdout).not.toContain('wrote')
    expect(result.stdout).toContain('/sandbox fine')
  })

  it('contains a fork bomb and leaves no process behind', async () => {
    const bomb = await pool.execute(
      'import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass',
      {
        timeoutMs: 2000,
      },
    )
    expect(bomb.timedOut).toBe(true)
    // Live processes this cell can see, polled while killed ones finish tearing down: a surviving bomb
    // would keep the count up. A record sees only its own world: this cell, pid 1 there.
    const countLive = `
import os, time
def live():
    n = 0
    for p in os.listdir("/proc"):
        try:
            if p.isdigit() and open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()[0] not in "ZX":
                n += 1
        except OSError:
            pass
    return n
for _ in range(100):
    if live() <= 1:
        break
    time.sleep(0.01)
print(live())`
    const after = await pool.execute(countLive)
    expect(Number(after.stdout)).toBe(1)
  })

  it('stops a memory bomb with MemoryError', async () => {
    const result = await pool.execute(
      'chunks = []\nwhile True:\n    chunks.append(bytearray(64 * 1024 * 1024))',
    )
    expect(result.timedOut).toBe(false)
    expect(result.stderr).toContain('MemoryError')
    await stillHealthy()
  })

  it('stops a disk bomb: one huge file, then many files', async () => {
    const big = await pool.execute('open("big", "wb").write(b"x" * (20 * 1024 * 1024))')
    expect(big.stderr).toContain('File too large')
    const many = await pool.execute(
      'import os\nfor i in range(100):\n    with open(f"f{i}", "wb") as f:\n        f.write(os.urandom(1024 * 1024))',
    )
    expect(many.stderr).toContain('No space left on device')
    await stillHealthy()
  })

  it('kills an infinite loop, and a sleeper, at the time limit', async () => {
    for (const code of ['while True:\n    pass', 'import time\ntime.sleep(100)', 'sum(range(10**13))']) {
      const started = Date.now()
      const result = await pool.execute(code, { timeoutMs: 500 })
      expect(result.timedOut).toBe(true)
      expect(result.exitCode).toBeNull()
      expect(Date.now() - started).toBeLessThan(3000)
    }
    await stillHealthy()
  })

  it('caps 100 MB of output to head and tail with a marker', async () => {
    const result = await pool.execute('import sys\nsys.stdout.write("a" * 50_000_000 + "b" * 50_000_000)')
    expect(result.truncated).toBe(true)
    expect(result.stdoutBytes).toBe(100_000_000)
    expect(result.stdout.length).toBeLessThan(40_000)
    expect(result.stdout.startsWith('aaaa')).toBe(true)
    expect(result.stdout.endsWith('bbbb')).toBe(true)
    expect(result.stdout).toMatch(/\[\d+ bytes truncated\]/)
  })

  it('cannot kill its parent, the worker, or anything but its own processes', async () => {
    const result = await pool.execute(`
import os, signal
for target in [os.getppid(), 1, -1] + [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()]:
    for sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGSTOP):
        try:
            os.kill(target, sig)
        except OSError:
            pass
print("still here")`)
    expect(result.stdout).toBe('still here\n')
    await stillHealthy()
    await stillHealthy()
  })

  it('leaves no background process running after the cell', async () => {
    const marker = `start-bg-${process.pid}-${Date.now()}`
    const result = await pool.execute(`
import subprocess, sys, os
subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "${marker}"], start_new_session=True)
if os.fork() == 0:
    os.setsid()
    os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(60)", "${marker}"])
print("started")
`)
    expect(result.stdout).toBe('started\n')
    // Killed processes may take a moment to be reaped; none may still be alive after that.
    let alive = ['?']
    for (let attempt = 0; attempt < 20 && alive.length > 0; attempt++) {
      await new Promise((done) => setTimeout(done, 50))
      alive = execFileSync('ps', ['-eo', 'stat=,args='])
        .toString()
        .split('\n')
        .filter((line) => line.includes(marker) && !line.trimStart().startsWith('Z'))
    }
    expect(alive).toEqual([])
  })

  it('gives every record a fresh world: scratch, /dev/shm, modes and files of the last one are gone', async () => {
    const first = await pool.execute(`
import os
os.makedirs("/sandbox/kept/deeper", exist_ok=True)
open("/sandbox/kept/deeper/file", "w").write("from the last record")
os.chmod("/sandbox/kept", 0o000)
open("/dev/shm/shared", "w").write("x")
open("/tmp/tmpfile", "w").write("x")
try:
    os.chmod("/sandbox", 0o700)
except OSError:
    pass
print("planted")`)
    expect(first.stdout).toBe('planted\n')
    const next = await pool.execute(
      'import os\nprint(os.listdir("/sandbox"), os.listdir("/dev/shm"), oct(os.stat("/sandbox").st_mode & 0o7777))',
    )
    expect(next.stdout).toBe('[] [] 0o1777\n')
  })

  it('has no System V or POSIX IPC, no keyring, no memfd, no ptrace, no new namespaces or mounts', async () => {
    const result = await pool.execute(`${SYSCALL_HELPER}
print({name: syscall(name, *args) for name, args in [
    ("shmget", (0, 300 << 20, 0o1600)), ("msgget", (0, 0o1600)), ("semget", (0, 1, 0o1600)),
    ("mq_open", (0, 0)), ("keyctl", (0, -3, 0)), ("add_key", (0, 0, 0, 0, -3)),
    ("memfd_create", (0, 0)), ("ptrace", (16, 1, 0, 0)), ("process_vm_readv", (1, 0, 0, 0, 0, 0)),
    ("unshare", (0x10000000,)), ("unshare", (0x20000000,)), ("setns", (0, 0)), ("mount", (0, 0, 0, 0, 0)),
    ("bpf", (0, 0, 0)), ("perf_event_open", (0, 0, -1, -1, 0)), ("userfaultfd", (0,)),
]})
import os
try:
    os.memfd_create("x")
    print("memfd made")
except OSError as error:
    print("memfd", error.errno)
print(os.fork() if False else "fork ok")`)
    const verdicts = result.stdout.split('\n')[0]!
    expect(verdicts).not.toContain("'ok'")
    expect(verdicts.match(/'EPERM'/g)).toHaveLength(15)
    expect(result.stdout).toContain('memfd 1')
    // a plain fork and a thread still work
    const ordinary = await pool.execute(
      'import os, threading\nt = threading.Thread(target=print, args=("thread",)); t.start(); t.join()\npid = os.fork()\nif pid == 0:\n    os._exit(7)\nprint(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))',
    )
    expect(ordinary.stdout).toBe('thread\n7\n')
  })

  it('sees only its own world: its processes, no descriptors beyond 0-2, no secret in any environment', async () => {
    const result = await pool.execute(`
import os, json
pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
fds = sorted(int(fd) for fd in os.listdir("/proc/self/fd"))
environments = ""
for pid in pids:
    try:
        environments += open(f"/proc/{pid}/environ").read()
    except OSError:
        pass
print(json.dumps({"pids": pids, "me": os.getpid(), "fds": fds, "secret": "hunter2" in environments or "SECRET" in environments}))`)
    const seen = JSON.parse(result.stdout) as { pids: number[]; me: number; fds: number[]; secret: boolean }
    // the cell is pid 1 of its own world, alone there
    expect(seen.pids).toEqual([1])
    expect(seen.me).toBe(1)
    // 0-2, and the descriptor listdir itself holds open
    expect(seen.fds).toEqual([0, 1, 2, 3])
    expect(seen.secret).toBe(false)
  })

  it('cannot forge its own exit status through an inherited descriptor', async () => {
    const result = await pool.execute(`
import os
for fd in range(3, 256):
    try:
        os.write(fd, b"0\\n")
    except OSError:
        pass
raise ValueError("the cell failed")`)
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toContain('ValueError: the cell failed')
  })

  it("cannot reach the next record: not the worker's spare, nor the code it will run", async () => {
    // Kills every other process it can see and writes code into every pipe it can open, in a session
    // (whose worker the next session reuses) and in a stateless cell (whose worker runs the next one).
    const attack = `
import os, signal
me = os.getpid()
pids = sorted((int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) != me), reverse=True)
for pid in pids:
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        fds = []
    for fd in fds:
        try:
            os.write(os.open(f"/proc/{pid}/fd/{fd}", os.O_WRONLY | os.O_NONBLOCK), b"\\x05\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00print('hijacked')")
        except OSError:
            pass
for pid in pids:
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass
print("attacked")`
    const first = await pool.openSession()
    // from the second cell on, the worker's spare for the next session is waiting
    await first.execute('pass')
    expect((await first.execute(attack)).stdout).toBe('attacked\n')
    await first.close()
    const second = await pool.openSession()
    try {
      expect(await second.execute('print("clean")')).toMatchObject({ stdout: 'clean\n', exitCode: 0 })
    } finally {
      await second.close()
    }
    await pool.execute('pass')
    expect((await pool.execute(attack)).stdout).toBe('attacked\n')
    expect(await pool.execute('print("clean")')).toMatchObject({ stdout: 'clean\n', exitCode: 0 })
  })

  it("does not let one run's processes use up another run's process limit", async () => {
    // Another run: its own pool, with a session that leaves 25 sleepers running.
    const other = new SandboxPool({ ...modeOptions, workers: 1, limits: { timeoutMs: 5000, processes: 32 } })
    const session = await other.openSession()
    try {
      const sleepers = await session.execute(
        'import subprocess, sys\nprocs = [subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]) for _ in range(25)]\nprint(len(procs))',
      )
      expect(sleepers.stdout).toBe('25\n')
      const forks = await pool.execute(`
import os
children = []
for _ in range(20):
    pid = os.fork()
    if pid == 0:
        import time
        time.sleep(2)
        os._exit(0)
    children.append(pid)
print(len(children))`)
      expect(forks.stdout).toBe('20\n')
    } finally {
      await session.close()
      await other.close()
    }
  })
})

describe.runIf(MEMORY_CGROUP_WRITABLE)("a record's memory, counted as a whole (a memory cgroup)", () => {
  describe.each(SANDBOX_MODES)('%s', (_mode, modeOptions) => {
    // 512 MiB for the world; each process alone could take that much address space, scratch and a file twice as much.
    let capped: SandboxPool
    beforeAll(async () => {
      capped = new SandboxPool({
        ...modeOptions,
        workers: 1,
        limits: { timeoutMs: 20_000, memoryMb: 512, scratchMb: 1024, fileSizeMb: 1024, processes: 32 },
      })
      await capped.warm()
    })
    afterAll(() => capped.close())

    const stillUncapped = async () => {
      const fine = await capped.execute(
        'block = bytearray(200 * 1024 * 1024)\nblock[::4096] = b"x" * len(block[::4096])\nprint("ok")',
      )
      expect(fine).toMatchObject({ stdout: 'ok\n', exitCode: 0 })
    }

    it('caps processes that each stay under the limit but together exceed it', async () => {
      expect(capped.memoryScope).toBe('world')
      const result = await capped.execute(`
import os, time
children = []
for _ in range(3):
    pid = os.fork()
    if pid == 0:
        block = bytearray(200 * 1024 * 1024)
        block[::4096] = b"x" * len(block[::4096])
        time.sleep(1)
        os._exit(0)
    children.append(pid)
print(sorted(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in children))`)
      expect(result.stdout).not.toBe('[0, 0, 0]\n')
      expect(result.stderr).toContain('memory limit exceeded')
      await stillUncapped()
    })

    it('counts scratch and shared memory: filling /dev/shm past the limit ends the world', async () => {
      const result = await capped.execute(`
chunk = b"x" * (16 * 1024 * 1024)
with open("/dev/shm/fill", "wb") as fill:
    for _ in range(40):
        fill.write(chunk)
        fill.flush()
print("wrote 640 MiB")`)
      expect(result.stdout).not.toContain('wrote')
      expect(result).toMatchObject({ exitCode: null, signal: 'SIGKILL', timedOut: false })
      expect(result.stderr).toContain('memory limit exceeded: a record')
      await stillUncapped()
    })

    it('cannot see or change its cgroup, and leaves none behind', async () => {
      // what a start process killed with -9 left (no live process has this pid: above pid_max)
      const stale = join(machineParentCandidates()[0]!.path, 'start-4194999-0')
      mkdirSync(join(stale, 'world-1'), { recursive: true })
      const before = startCgroups()
      const other = new SandboxPool({ ...modeOptions, workers: 1 })
      const result = await other.execute(`
import os
print("paths seen", open("/proc/self/cgroup").read().count("start-"))
for path in ["/cgroup", "/cgroup/memory.limit_in_bytes", "/sys/fs/cgroup"]:
    try:
        print(os.listdir(path) if os.path.isdir(path) else open(path, "w").write("1"))
    except OSError as error:
        print("denied", type(error).__name__)`)
      expect(result.stdout.split('\n').slice(0, 4)).toEqual([
        'paths seen 0',
        'denied PermissionError',
        'denied PermissionError',
        'denied FileNotFoundError',
      ])
      expect(startCgroups().length).toBeGreaterThan(before.length)
      expect(existsSync(stale)).toBe(false)
      await other.close()
      expect(startCgroups()).toEqual(before)
    })
  })
})
