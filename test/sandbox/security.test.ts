import { execFileSync } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { homedir } from 'node:os'
import { resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SandboxPool } from '../../src/sandbox/pool.js'

// Every test here runs hostile code in the real sandbox and checks that it is contained and
// that the test process (and the pool) are unharmed afterwards.
describe('sandbox security', () => {
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
    // Live processes in the sandbox, polled while killed ones finish tearing down: a surviving bomb
    // would keep the count up. What may remain: bwrap's reaper, the worker, its spare child, this cell.
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
    if live() <= 4:
        break
    time.sleep(0.01)
print(live())`
    const after = await pool.execute(countLive)
    expect(Number(after.stdout)).toBeLessThanOrEqual(4)
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

  it('cannot kill its parent', async () => {
    const result = await pool.execute('import os\nos.kill(os.getppid(), 9)')
    expect(result.exitCode).not.toBe(0)
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
})
