import { readFileSync } from 'node:fs'
import { LlamaCppEngine } from './src/inference/llama-cpp.ts'
import { runHintLoop } from './src/inference/hint-loop.ts'
import { loadHintLibrary } from './src/hints/library.ts'
import { DEFAULT_HINT_POLICY, seededRandom, sampleSeed } from './src/hints/policy.ts'
import { SandboxPool } from './src/sandbox/pool.ts'
const e = await LlamaCppEngine.load({ model: '../shared/models/testbed-tir-f32.gguf', threads: 1 })
const p = JSON.parse(readFileSync('../shared/datasets/testbed-dev.jsonl','utf8').split('\n')[Number(process.argv[2] ?? 0)])
const prompt = e.renderPrompt([{ role: 'user', content: p.problem }])
const stream: any = await e.startGeneration(prompt, { temperature: 0, topP: 0.95, seed: sampleSeed(0, p.id, 0) })
const pool = new SandboxPool({ workers: 1 } as any)
const library = await loadHintLibrary(undefined as any)
const session = await pool.openSession()
const r = await runHintLoop(stream, () => session, { hints: { policy: DEFAULT_HINT_POLICY, library, random: seededRandom(sampleSeed(0, p.id, 0)) }, domain: 'math', startsThinking: true, maxTokens: 4096, maxToolCalls: 6, maxOutputChars: 2048 })
const ctx = [...stream.sequence.contextTokens].map(Number)
const resp = await fetch('http://127.0.0.1:18080/tokenize', { method: 'POST', body: JSON.stringify({ content: prompt.replace(/^<s>/, '') + r.text, add_special: true }) })
const srv = (await resp.json()).tokens as number[]
let i = 0; while (i < ctx.length && ctx[i] === srv[i]) i++
const det = (t: number[]) => JSON.stringify(e['model'].detokenize(t as any, true))
console.log('ctx', ctx.length, 'srv', srv.length, 'first diff at', i)
console.log('inproc:', ctx.slice(i - 5, i + 8).map(t => det([t])).join(' '))
console.log('server:', srv.slice(i - 5, i + 8).map(t => det([t])).join(' '))
console.log(JSON.stringify(r.segments.map((s: any) => [s.kind, s.text.slice(0, 40)])))
await session.close(); await pool.close(); await stream.close(); await e.close()
