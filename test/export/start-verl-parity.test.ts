import { execFileSync } from 'node:child_process'
import { copyFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { formatOutput } from '../../src/inference/format-output.js'
import { detectStopPoint } from '../../src/inference/stop-points.js'
import type { ExecutionResult } from '../../src/sandbox/types.js'
import { executionResult as result } from '../inference/scripted-stream.js'
import { tempDir } from '../integration/cli.js'

/**
 * start_verl.py re-implements two decisions of start's hint loop for verl's agent loop (it runs in verl's
 * Python, not here): which code block the model just closed, and the ```output block that goes after it.
 * The same cases through both sides must agree, or a policy trained on verl sees other text than start's.
 */
function python(expression: string, cases: unknown[]): unknown[] {
  // The module reads the start_verl.json `start export` writes beside it; these functions need none of it.
  const dir = tempDir()
  copyFileSync('src/export/start_verl.py', join(dir, 'start_verl.py'))
  writeFileSync(join(dir, 'start_verl.json'), '{}')
  const script = `import json, sys, start_verl\ncases = json.load(sys.stdin)\nprint(json.dumps([${expression} for case in cases]))`
  const stdout = execFileSync('python3', ['-c', script], {
    input: JSON.stringify(cases),
    env: { ...process.env, PYTHONPATH: dir },
  })
  return JSON.parse(String(stdout))
}

/** The code start's loop runs when the text ends at a fence: the stop point of that last piece. */
function closedBlock(text: string): string | null {
  const end = text.trimEnd()
  const fence = end.lastIndexOf('```')
  if (fence < 0 || fence !== end.length - 3) return null
  const stop = detectStopPoint(text.slice(0, fence), text.slice(fence), { connectives: [], thinking: false })
  return stop?.kind === 'code' ? stop.code : null
}

const BLOCKS = [
  'Let me compute.\n```python\nprint(6 * 7)\n```',
  'Let me compute.\n```python\nprint(6 * 7)\n```\n',
  '```python\nx = 1\nprint(x)\n```',
  'Text\n```py\nprint(1)\n```',
  'Text\n```python  \nprint(1)\n```',
  'Text\n```python\nprint(1)```',
  'Text\n```python\n```',
  'No code here ```',
  'Text ```python\nprint(1)\n```',
  '```python\nprint(1)\n```\n```output\n1\n```',
  '```python\nprint(1)\n```\nand then\n```',
  '```python\ns = "a ``` b"\nprint(s)\n```',
  '```python\nprint(1)\n```python\nprint(2)\n```',
  'Plain text ending in a fence of another language\n```text\nhello\n```',
]

const RESULTS: ExecutionResult[] = [
  result({ stdout: '42\n' }),
  result({ stdout: '' }),
  result({ stdout: 'partial', exitCode: 1, stderr: 'Traceback\n  File "x"\nValueError: bad\n' }),
  result({ stdout: 'line\n', exitCode: 1, stderr: '' }),
  result({ stdout: 'slow\n', timedOut: true, exitCode: null, signal: 'SIGKILL' }),
  result({ stdout: `${'x'.repeat(300)}\n` }),
  result({ stdout: 'a ``` fence and ````` more\n' }),
  result({ stdout: '  \n\n' }),
]

describe("start_verl.py decides as start's hint loop does", () => {
  it('reads the same closed code block from the same text', () => {
    const theirs = python('start_verl.closed_code_block(case)', BLOCKS)
    const ours = BLOCKS.map(closedBlock)
    expect(ours.filter((code) => code !== null).length).toBeGreaterThan(5)
    expect(theirs).toEqual(ours)
  })

  it('writes the same output block from the same execution (SandboxFusion fields on its side)', async () => {
    const maxChars = 100
    const asRunResult = RESULTS.map((r) => ({
      stdout: r.stdout,
      stderr: r.stderr,
      return_code: r.exitCode,
      status: r.timedOut ? 'TimeLimitExceeded' : 'Finished',
    }))
    const theirs = python(`start_verl.format_output(case, ${maxChars})`, asRunResult)
    expect(theirs).toEqual(await Promise.all(RESULTS.map((r) => formatOutput(r, maxChars))))
  })

  it('cuts an output to its token limit the same way, on each side (a word tokenizer on both sides)', async () => {
    const words = result({ stdout: 'w0 w1 w2 w3 w4 w5 w6 w7 w8 w9\n' })
    const tokenizer = {
      encode: async (text: string) => text.split(' ').map((_, i) => i),
      decode: async (tokens: number[]) => tokens.map((i) => `w${i}`).join(' '),
    }
    const sides = ['left', 'middle', 'right'] as const
    const limits = [3, 4, 10]
    const cases = sides.flatMap((side) => limits.map((maxTokens) => ({ side, maxTokens })))
    const encode = "lambda t: list(range(len(t.split(' '))))"
    const decode = "lambda ids: ' '.join(f'w{i}' for i in ids)"
    const theirs = python(
      `start_verl.format_output({"stdout": ${JSON.stringify(words.stdout)}, "return_code": 0, "status": "Finished"}, 100, (case["maxTokens"], case["side"], ${encode}, ${decode}))`,
      cases,
    )
    const ours = await Promise.all(cases.map((limit) => formatOutput(words, 100, { ...limit, tokenizer })))
    expect(theirs).toEqual(ours)
    expect(new Set(ours).size).toBe(7) // three sides at 3 and 4 tokens, and the whole text at 10
  })
})
