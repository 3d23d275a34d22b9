/**
 * Sandbox throughput and latency against the baseline of spawning `python3 -c` per snippet,
 * measured in the same run on the same machine. Prints a markdown table for BENCHMARKS.md.
 *
 *   npm run bench:sandbox [-- --iterations 200]
 */
import { cpus } from 'node:os'
import { execa } from 'execa'
import { SandboxPool } from '../src/sandbox/pool.js'
import { findPythonRuntime } from '../src/sandbox/python-runtime.js'
import { argument } from './arguments.js'
import { type Measure, measure, percentile } from './measure.js'

const SNIPPETS = {
  'print(1+1)': 'print(1+1)',
  'sympy solve': "import sympy as sp\nx = sp.Symbol('x')\nprint(sp.solve(x**2 - 5*x + 6, x))",
}

const iterations = Number(argument('iterations', '200'))
const baselineIterations = Number(argument('baseline-iterations', '20'))

const python = await findPythonRuntime()
console.log(
  `machine: ${cpus().length} x ${cpus()[0]?.model}, node ${process.version}, python ${python.version}`,
)
console.log(`iterations: ${iterations} sandboxed, ${baselineIterations} spawned per cell of the table\n`)
console.log(
  '| snippet | concurrency | spawn python3 -c: exec/s, p50, p99 | sandbox, fresh process per cell | ratio | sandbox, later cells of a session | ratio |',
)
console.log('| --- | --- | --- | --- | --- | --- | --- |')
for (const concurrency of [1, 2]) {
  const pool = new SandboxPool({ workers: concurrency })
  await pool.warm()
  for (const [name, code] of Object.entries(SNIPPETS)) {
    // Baseline: a fresh interpreter per snippet, no isolation (the real binary, not a shim).
    const spawn = await measure(baselineIterations, concurrency, async () => {
      const result = await execa(python.executable, ['-c', code])
      if (!result.stdout) throw new Error('baseline printed nothing')
    })
    await pool.execute(code) // first call of the kind: not part of the figures
    const sandbox = await measure(iterations, concurrency, async () => {
      const result = await pool.execute(code)
      if (result.exitCode !== 0) throw new Error(`sandbox failed: ${result.stderr}`)
    })
    // Sessions (what hint-infer uses): a trajectory's later cells reuse its process, no fork.
    const sessions = await Promise.all(Array.from({ length: concurrency }, () => pool.openSession()))
    await Promise.all(sessions.map((session) => session.execute(code)))
    let next = 0
    const inSession = await measure(iterations, concurrency, async () => {
      const result = await sessions[next++ % concurrency]!.execute(code)
      if (result.exitCode !== 0) throw new Error(`session failed: ${result.stderr}`)
    })
    await Promise.all(sessions.map((session) => session.close()))
    const cell = (m: Measure) => `${m.perSecond.toFixed(1)}/s, ${m.p50.toFixed(1)} ms, ${m.p99.toFixed(1)} ms`
    const ratio = (m: Measure) => `${(m.perSecond / spawn.perSecond).toFixed(1)}x`
    console.log(
      `| ${name} | ${concurrency} | ${cell(spawn)} | ${cell(sandbox)} | ${ratio(sandbox)} | ${cell(inSession)} | ${ratio(inSession)} |`,
    )
  }
  await pool.close()
}

// What counting each record's memory as a whole costs: the same cells with the memory cgroup on and
// off, in alternating rounds (so both see the same machine state), median throughput per row.
const rounds = Number(argument('cgroup-rounds', '6'))
const perRound = Math.max(10, Math.round(iterations / 3))
const withCgroup = new SandboxPool({ workers: 1, memoryCgroup: 'auto' })
await withCgroup.warm()
if (withCgroup.memoryScope !== 'world') {
  console.log('\nmemory cgroup: none this user may make here; the on/off comparison is skipped')
} else {
  console.log(
    `\nmemory cgroup on vs off: ${rounds} alternating rounds of ${perRound} executions, median exec/s\n`,
  )
  console.log('| snippet | mode | cgroup off | cgroup on | on / off |')
  console.log('| --- | --- | --- | --- | --- |')
  const withoutCgroup = new SandboxPool({ workers: 1, memoryCgroup: 'off' })
  await withoutCgroup.warm()
  for (const [name, code] of Object.entries(SNIPPETS)) {
    for (const mode of ['fresh process per cell', 'later cells of a session'] as const) {
      const rates = new Map<SandboxPool, number[]>([
        [withoutCgroup, []],
        [withCgroup, []],
      ])
      for (let round = 0; round < rounds; round++) {
        for (const [pool, figures] of rates) {
          const session = mode === 'later cells of a session' ? await pool.openSession() : undefined
          await (session ?? pool).execute(code)
          const figure = await measure(perRound, 1, async () => {
            const result = await (session ?? pool).execute(code)
            if (result.exitCode !== 0) throw new Error(`failed: ${result.stderr}`)
          })
          await session?.close()
          figures.push(figure.perSecond)
        }
      }
      const off = percentile(rates.get(withoutCgroup)!, 0.5)
      const on = percentile(rates.get(withCgroup)!, 0.5)
      console.log(
        `| ${name} | ${mode} | ${off.toFixed(1)}/s | ${on.toFixed(1)}/s | ${(on / off).toFixed(2)} |`,
      )
    }
  }
  await withoutCgroup.close()
}
await withCgroup.close()

// A trajectory's two first cells, as hint-infer runs them: a session opened per trajectory, the model
// generating between cells (--gap-ms, one row each). The first cell runs in the world the pool built
// beforehand; the next spare world is built after its reply, while the model generates.
const sessionCount = Number(argument('sessions', '40'))
const latency = (values: number[]) =>
  `${percentile(values, 0.5).toFixed(1)} ms, ${percentile(values, 0.99).toFixed(1)} ms`
console.log(`\na trajectory's cells: ${sessionCount} sessions of two print(1+1) cells\n`)
console.log(
  '| model generating between cells | first cell: p50, p99 | second cell: p50, p99 | both: p50, p99 |',
)
console.log('| --- | --- | --- | --- |')
for (const gapMs of argument('gap-ms', '20,50').split(',').map(Number)) {
  const trajectories = new SandboxPool({ workers: 1 })
  await trajectories.warmSessions(1)
  const cells: [number[], number[]] = [[], []]
  const both: number[] = []
  for (let i = 0; i < sessionCount; i++) {
    const session = await trajectories.openSession()
    let total = 0
    for (const latencies of cells) {
      const started = performance.now()
      const result = await session.execute(SNIPPETS['print(1+1)'])
      const elapsed = performance.now() - started
      if (result.exitCode !== 0) throw new Error(`session failed: ${result.stderr}`)
      latencies.push(elapsed)
      total += elapsed
      await new Promise((resolve) => setTimeout(resolve, gapMs))
    }
    both.push(total)
    await session.close()
  }
  await trajectories.close()
  console.log(`| ${gapMs} ms | ${latency(cells[0])} | ${latency(cells[1])} | ${latency(both)} |`)
}
