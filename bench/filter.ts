/**
 * `start filter` throughput and peak memory on synthetic hint-infer trajectories (math, with code,
 * outputs, hints, answers in several spellings, repeats and loops), at growing input sizes, against
 * the floor of any JSONL stage measured in the same run: read, JSON.parse, JSON.stringify, write.
 *
 *   npm run bench:filter [-- --sizes 25000,50000,100000]
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { seededRandom } from '../src/hints/policy.js'

const at = process.argv.indexOf('--sizes')
const sizes = (at > 0 ? process.argv[at + 1]! : '25000,50000,100000').split(',').map(Number)
const SAMPLES = 8

const WORDS =
  'so the number of ways is then we compute each term and check the sum again carefully since the total must be an integer let us verify'.split(
    ' ',
  )

function prose(rng: () => number, words: number): string {
  let text = ''
  for (let i = 0; i < words; i++)
    text += `${WORDS[Math.floor(rng() * WORDS.length)]}${i % 17 === 16 ? '.\n' : ' '}`
  return text
}

/** The answer spelled one of several ways, and sometimes wrong. */
function spell(answer: number, rng: () => number): string {
  const wrong = rng() < 0.3
  const value = wrong ? answer + 1 + Math.floor(rng() * 5) : answer
  const forms = [`${value}`, `${value}.0`, `\\frac{${value * 2}}{2}`, `${value}^\\circ`, `\\text{${value}}`]
  return forms[Math.floor(rng() * forms.length)]!
}

function trajectory(problem: number, sample: number, hinted: boolean) {
  const rng = seededRandom(problem * 1000 + sample + (hinted ? 0 : 500))
  const answer = (problem * 37) % 1000
  const segments: { kind: string; text: string; hint?: object }[] = [
    { kind: 'model', text: `Let me think. ${prose(rng, 80 + Math.floor(rng() * 120))}Wait,` },
  ]
  if (hinted) {
    segments.push({
      kind: 'hint',
      text: ' maybe using Python here is a good idea.\n',
      hint: { id: 'general-1', category: 'general', trigger: 'connective', word: 'Wait' },
    })
  }
  const loops = rng() < 0.05
  const calls = hinted ? 1 + Math.floor(rng() * 3) : 0
  for (let call = 0; call < calls; call++) {
    segments.push({
      kind: 'model',
      text: `\`\`\`python\nprint(sum(range(${problem + call})) % 1000 + ${answer})\n\`\`\`\n`,
    })
    segments.push({ kind: 'output', text: `\`\`\`output\n${answer + call}\n\`\`\`\n` })
    segments.push({ kind: 'model', text: `The output ${answer + call} confirms it. ${prose(rng, 40)}` })
  }
  const tail = loops ? 'let us verify the sum again. '.repeat(60) : prose(rng, 60)
  segments.push({ kind: 'model', text: `${tail}</think>\nThe answer is $\\boxed{${spell(answer, rng)}}$.` })
  const text = segments.map((segment) => segment.text).join('')
  const problemText = `Problem ${problem}: compute the sum of the first ${problem} integers modulo 1000 plus ${answer}.`
  return {
    run: hinted ? 'bench-hinted' : 'bench-plain',
    problemId: `bench-${problem}`,
    source: 'bench',
    sample,
    problem: problemText,
    messages: [{ role: 'user', content: problemText }],
    prompt: `<|user|>${problemText}<|assistant|><think>\n`,
    text,
    segments,
    predicted: null,
    answer: String(answer),
    hints: [],
    toolCalls: calls,
    finishReason: 'stop',
    tokens: { promptTokens: 40, generatedTokens: Math.round(text.length / 4), reevaluatedTokens: 0 },
    ms: 1000,
    hinted,
  }
}

async function writeJsonl(file: string, records: Iterable<object>): Promise<number> {
  const out = createWriteStream(file)
  let bytes = 0
  for (const record of records) {
    const line = `${JSON.stringify(record)}\n`
    bytes += line.length
    if (!out.write(line)) await once(out, 'drain')
  }
  out.end()
  await once(out, 'finish')
  return bytes
}

/** Runs a command; returns its wall time and the peak of its resident memory (VmHWM, polled). */
async function measure(command: string[]): Promise<{ seconds: number; peakMb: number; stdout: string }> {
  const started = performance.now()
  const child = spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] })
  let stdout = ''
  child.stdout.on('data', (chunk) => {
    stdout += chunk
  })
  let peakKb = 0
  const poll = setInterval(async () => {
    const status = await readFile(`/proc/${child.pid}/status`, 'utf8').catch(() => '')
    const hwm = /VmHWM:\s+(\d+)/.exec(status)
    if (hwm) peakKb = Math.max(peakKb, Number(hwm[1]))
  }, 20)
  const [code] = await once(child, 'exit')
  clearInterval(poll)
  if (code !== 0) throw new Error(`${command.join(' ')} exited ${code}`)
  return { seconds: (performance.now() - started) / 1000, peakMb: peakKb / 1024, stdout }
}

const BASELINE = `
const { createInterface } = require('node:readline')
const { createReadStream, createWriteStream } = require('node:fs')
const out = createWriteStream('/dev/null')
let n = 0
createInterface({ input: createReadStream(process.argv[1]) })
  .on('line', (line) => { const record = JSON.parse(line); n++; out.write(JSON.stringify({ messages: record.messages, text: record.text }) + '\\n') })
  .on('close', () => out.end())
`

const dir = await mkdtemp(join(tmpdir(), 'start-bench-filter-'))
try {
  console.log(
    '| trajectories | input MB | filter traj/s | baseline traj/s | ratio | filter peak RSS MB | kept |',
  )
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
  for (const size of sizes) {
    const problems = Math.ceil(size / SAMPLES)
    const hinted = join(dir, `hinted-${size}.jsonl`)
    const plain = join(dir, `plain-${size}.jsonl`)
    const bytes = await writeJsonl(
      hinted,
      (function* () {
        for (let i = 0; i < size; i++) yield trajectory(Math.floor(i / SAMPLES), i % SAMPLES, true)
      })(),
    )
    await writeJsonl(
      plain,
      (function* () {
        for (let p = 0; p < problems; p++) for (let s = 0; s < 2; s++) yield trajectory(p, s, false)
      })(),
    )
    const baseline = await measure(['node', '-e', BASELINE, hinted])
    const filter = await measure([
      'node',
      'bin/run.js',
      'filter',
      hinted,
      '--plain',
      plain,
      '--out',
      join(dir, 'seed.jsonl'),
      '--db',
      join(dir, `bench-${size}.db`),
      '--json',
    ])
    const summary = JSON.parse(filter.stdout) as { kept: number; trajectories: number }
    if (summary.trajectories !== size) throw new Error(`filter read ${summary.trajectories} of ${size}`)
    const filterRate = size / filter.seconds
    const baselineRate = size / baseline.seconds
    console.log(
      `| ${size} | ${(bytes / 1e6).toFixed(0)} | ${filterRate.toFixed(0)} | ${baselineRate.toFixed(0)} | ` +
        `${(filterRate / baselineRate).toFixed(2)}x | ${filter.peakMb.toFixed(0)} | ${summary.kept} |`,
    )
    await rm(hinted)
    await rm(plain)
  }
} finally {
  await rm(dir, { recursive: true, force: true })
}
