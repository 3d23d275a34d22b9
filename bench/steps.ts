/**
 * `start steps` on 100k trajectories: records/s and peak memory, against copying the same JSONL through
 * the same reader and writer (parse, stringify), in the same process.
 *
 *   npm run bench:steps [-- --trajectories 100000]
 */
import { createWriteStream, readFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { openJsonlSink, readJsonlInputs } from '../src/core/jsonl.js'
import { runSplitSteps } from '../src/swirl/run-split-steps.js'
import { argument } from './arguments.js'

const count = Number(argument('trajectories', '100000'))
const dir = join(tmpdir(), `start-bench-steps-${process.pid}`)
await import('node:fs/promises').then((fs) => fs.mkdir(dir, { recursive: true }))
const input = join(dir, 'trajectories.jsonl')
const fixtures = readFileSync('test/fixtures/trajectories/hinted.jsonl', 'utf8')
  .trim()
  .split('\n')
  .map((line) => JSON.parse(line))
const file = createWriteStream(input)
for (let i = 0; i < count; i++) {
  const record = fixtures[i % fixtures.length]
  if (!file.write(`${JSON.stringify({ ...record, problemId: `p${i}` })}\n`))
    await new Promise<void>((resolve) => file.once('drain', () => resolve()))
}
await new Promise<void>((resolve) => file.end(() => resolve()))

async function measured(run: () => Promise<void>): Promise<{ seconds: number; peakMb: number }> {
  global.gc?.()
  let peak = process.memoryUsage().rss
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss)
  }, 50)
  const started = performance.now()
  await run()
  clearInterval(timer)
  return { seconds: (performance.now() - started) / 1000, peakMb: peak / 2 ** 20 }
}

const copy = await measured(async () => {
  const sink = await openJsonlSink(join(dir, 'copy.jsonl'))
  for await (const { value } of readJsonlInputs([input])) await sink.write(value)
  await sink.commit()
})
let steps = 0
const split = await measured(async () => {
  const summary = await runSplitSteps({
    inputs: [input],
    out: join(dir, 'steps.jsonl'),
    db: join(dir, 's.db'),
    runId: 'bench',
    flags: {},
    toolVersion: 'bench',
  })
  steps = summary.steps
})

console.log(
  `machine: ${cpus().length} x ${cpus()[0]?.model}, node ${process.version}; ${count} trajectories -> ${steps} steps`,
)
console.log('\n| path | trajectories/s | peak RSS | ratio |')
console.log('| --- | --- | --- | --- |')
console.log(
  `| copy the JSONL (read, parse, stringify, write) | ${(count / copy.seconds).toFixed(0)} | ${copy.peakMb.toFixed(0)} MB | 1.00x |`,
)
console.log(
  `| start steps | ${(count / split.seconds).toFixed(0)} | ${split.peakMb.toFixed(0)} MB | ${(copy.seconds / split.seconds).toFixed(2)}x |`,
)
