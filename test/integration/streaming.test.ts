import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { execa } from 'execa'
import { describe, expect, it } from 'vitest'
import { CLI, tempDir } from './cli.js'

const HINTED = readFileSync('test/fixtures/trajectories/hinted.jsonl', 'utf8').split('\n')

/**
 * Feeds a command's stdin one line and keeps the pipe open: the command must answer that record
 * before stdin closes (a stage in the middle of `hint-infer | filter | ...` streams).
 */
async function firstAnswerWhileOpen(args: string[], line: string): Promise<unknown> {
  const child = execa('node', [CLI, ...args], { reject: false, stdin: 'pipe', stdout: 'pipe' })
  try {
    const first = new Promise<string>((resolve, reject) => {
      let buffered = ''
      child.stdout!.on('data', (chunk: Buffer) => {
        buffered += chunk
        if (buffered.includes('\n')) resolve(buffered.split('\n')[0]!)
      })
      child.once('exit', () => reject(new Error(`exited before answering: ${child.stderr}`)))
    })
    child.stdin!.write(`${line}\n`)
    const answer = await first
    // stdin is still open here: the answer came before the input ended.
    expect(child.stdin!.writableEnded).toBe(false)
    child.stdin!.end()
    const result = await child
    expect(result.exitCode, String(result.stderr)).toBe(0)
    return JSON.parse(answer)
  } finally {
    child.kill()
  }
}

describe('JSONL stages stream', () => {
  const db = join(tempDir(), 's.db')

  it('start sandbox answers a record before stdin closes', async () => {
    const answer = await firstAnswerWhileOpen(
      ['sandbox', '-', '--db', db],
      '{"id": 1, "code": "print(6 * 7)"}',
    )
    expect(answer).toMatchObject({ id: 1, result: { stdout: '42\n', exitCode: 0 } })
  })

  it('start grade answers a record before stdin closes', async () => {
    const answer = await firstAnswerWhileOpen(
      ['grade', '-', '--workers', '1'],
      '{"completion": "\\\\boxed{\\\\frac12}", "answer": "0.5"}',
    )
    expect(answer).toMatchObject({ predicted: '\\frac12', correct: true })
  })

  it('start filter keeps a trajectory before stdin closes', async () => {
    const answer = await firstAnswerWhileOpen(
      ['filter', '-', '--rule', 'correct', '--min-tool-calls', '0', '--workers', '1', '--db', db],
      HINTED[0]!,
    )
    expect(answer).toHaveProperty('messages')
    expect(answer).toHaveProperty('outputSpans')
  })
})
