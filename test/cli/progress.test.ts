import { Writable } from 'node:stream'
import { describe, expect, it, vi } from 'vitest'
import { progressRenderer } from '../../src/cli/progress.js'

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
