import { Writable } from 'node:stream'
import { describe, expect, it, vi } from 'vitest'
import { progressRenderer, stageEventRenderer } from '../../src/cli/progress.js'
import type { StageEvent } from '../../src/runner/events.js'
import { optimiserStep } from '../../src/training/trainer.js'

function capture(isTTY: boolean) {
  const chunks: string[] = []
  const stream = Object.assign(
    new Writable({
      write(chunk, _encoding, done) {
        chunks.push(String(chunk))
        done()
      },
    }),
    { isTTY },
  )
  return { stream, text: () => chunks.join('') }
}

describe('progress off a terminal', () => {
  it('writes a plain line at the start, at most every interval, and at the end', () => {
    vi.useFakeTimers()
    try {
      const log = capture(false)
      const progress = progressRenderer('hint-infer r1', {
        quiet: false,
        stream: log.stream,
        intervalMs: 30_000,
      })
      progress({ done: 1, total: 10 })
      for (let done = 2; done <= 5; done++) {
        vi.advanceTimersByTime(5_000)
        progress({ done, total: 10 })
      }
      vi.advanceTimersByTime(15_000)
      progress({ done: 6, total: 10, detail: '3 tool calls' })
      vi.advanceTimersByTime(1_000)
      progress({ done: 7, total: 10 })
      progress.end()
      const lines = log.text().trim().split('\n')
      expect(lines).toHaveLength(3)
      expect(lines[0]).toMatch(/^hint-infer r1 1\/10 /)
      expect(lines[1]).toMatch(/^hint-infer r1 6\/10 0\.2\/s eta 24s 3 tool calls$/)
      expect(lines[2]).toMatch(/^hint-infer r1 7\/10 .* done$/)
      expect(log.text()).not.toContain('\r')
    } finally {
      vi.useRealTimers()
    }
  })

  it('says nothing with --quiet, and redraws in place on a terminal', () => {
    const quiet = capture(false)
    const silent = progressRenderer('x', { quiet: true, stream: quiet.stream })
    silent({ done: 1 })
    silent.line('step: done')
    silent.end()
    expect(quiet.text()).toBe('')
    const terminal = capture(true)
    const bar = progressRenderer('x', { quiet: false, stream: terminal.stream })
    bar({ done: 1, total: 1 })
    bar.end()
    expect(terminal.text()).toMatch(/^\r\x1b\[2Kx 1\/1 .*\n$/)
  })

  it('does not repeat the last line at the end when nothing came after it', () => {
    const log = capture(false)
    const progress = progressRenderer('x', { quiet: false, stream: log.stream })
    progress({ done: 1, total: 1 })
    progress.end()
    expect(log.text().trim().split('\n')).toHaveLength(1)
  })
})

describe('the stage events of the multi-step commands', () => {
  const said: string[] = []
  const lines = {
    notice: (text: string) => said.push(`notice: ${text}`),
    warn: (text: string) => said.push(`warn: ${text}`),
  }
  const render = (events: StageEvent[]) => {
    const log = capture(false)
    const progress = progressRenderer('rft r1', { quiet: false, stream: log.stream, intervalMs: 0 })
    for (const event of events) stageEventRenderer(progress, lines)(event)
    progress.end()
    return log.text().trim().split('\n')
  }
  const step = { id: 'train-start-0', description: 'fine-tune', inputs: [], outputs: [], run: async () => 0 }

  it('draws plan steps as lines, a fine-tuning step by its loss, an RL step by its reward', () => {
    const sft = optimiserStep({ event: 'log', step: 2, maxSteps: 4, loss: 1.23456, learning_rate: 1e-4 })!
    const rl = optimiserStep({
      event: 'log',
      step: 1,
      maxSteps: 3,
      metrics: { reward: 0.5, accuracy: 0.75, toolCallsPerRollout: 1, loss: 0.01 },
    })!
    const lines = render([
      { kind: 'step-start', step },
      sft,
      { kind: 'step-done', step, seconds: 1.5 },
      { kind: 'step-skip', step },
      rl,
    ])
    expect(lines[0]).toBe('train-start-0: fine-tune...')
    expect(lines[1]).toMatch(/^rft r1 2\/4 .* loss 1\.2346$/)
    expect(lines.at(-3)).toBe('train-start-0: done in 1.5 s')
    expect(lines.at(-2)).toBe('train-start-0: done before, skipped')
    expect(lines.at(-1)).toMatch(/^rft r1 1\/3 .*reward 0\.500, accuracy 0\.75, tools 1\.00, loss 0\.0100/)
  })

  it("draws progress, and hands notices and invalid records to the command's stderr lines", () => {
    said.length = 0
    const drawn = render([
      { kind: 'progress', done: 3, total: 4, detail: '1 failed' },
      { kind: 'notice', text: 'retrying (HTTP 500)' },
      { kind: 'invalid', message: 'p.jsonl:2: no problem' },
    ])
    expect(drawn[0]).toMatch(/^rft r1 3\/4 .* 1 failed$/)
    expect(said).toEqual(['notice: retrying (HTTP 500)', 'warn: p.jsonl:2: no problem'])
  })

  it("translates the trainer's wire lines at the boundary: snake_case names stop there, other lines are not steps", () => {
    expect(
      optimiserStep({ event: 'log', step: 2, maxSteps: 4, loss: 1, learning_rate: 1e-4, epoch: 0.5 }),
    ).toEqual({
      kind: 'optimiser-step',
      step: 2,
      maxSteps: 4,
      loss: 1,
      metrics: { learningRate: 1e-4, epoch: 0.5 },
    })
    expect(optimiserStep({ event: 'log', step: 1, maxSteps: 1, metrics: { loss: 2, reward: 1 } })).toEqual({
      kind: 'optimiser-step',
      step: 1,
      maxSteps: 1,
      loss: 2,
      metrics: { reward: 1 },
    })
    expect(optimiserStep({ event: 'checkpoint', step: 1 })).toBeUndefined()
    expect(optimiserStep({ event: 'done', steps: 1, seconds: 1 })).toBeUndefined()
  })
})
