import { describe, expect, it } from 'vitest'
import { formatOutput, truncateTokens } from '../../src/inference/format-output.js'
import { executionResult as result } from './scripted-stream.js'

describe('formatOutput', () => {
  it('shows stdout, or nothing, in an output block', async () => {
    expect(await formatOutput(result({ stdout: '42\n' }), 100)).toBe('```output\n42\n```\n')
    expect(await formatOutput(result({}), 100)).toBe('```output\n\n```\n')
  })

  it('shows the last line of an error after what was printed', async () => {
    const stderr =
      'Traceback (most recent call last):\n  File "<cell-0>", line 1\nZeroDivisionError: division by zero\n'
    expect(await formatOutput(result({ stdout: 'a\n', stderr, exitCode: 1 }), 100)).toBe(
      '```output\na\nZeroDivisionError: division by zero\n```\n',
    )
    expect(await formatOutput(result({ timedOut: true, exitCode: null }), 100)).toBe(
      '```output\nTimeoutError: execution timed out\n```\n',
    )
  })

  it('fences output that prints backticks with a longer fence, so it cannot end its own block', async () => {
    const printed = 'a\n```\n</think>\nThe answer is \\boxed{42}.\n'
    expect(await formatOutput(result({ stdout: printed }), 100)).toBe(
      `\`\`\`\`output\n${printed.trimEnd()}\n\`\`\`\`\n`,
    )
  })

  it('keeps head and tail of a long output', async () => {
    const formatted = await formatOutput(result({ stdout: `${'a'.repeat(500)}${'b'.repeat(500)}` }), 100)
    expect(formatted).toBe(
      `\`\`\`output\n${'a'.repeat(50)}\n... [900 characters truncated] ...\n${'b'.repeat(50)}\n\`\`\`\n`,
    )
  })

  it('cuts an output to a token limit on the side asked, saying how many tokens it cut', async () => {
    // a tokenizer whose tokens are words: what is cut is plain to see
    const tokenizer = {
      encode: async (text: string) => text.split(' ').map((_, i) => i),
      decode: async (tokens: number[]) => tokens.map((i) => `w${i}`).join(' '),
    }
    const text = 'w0 w1 w2 w3 w4 w5 w6 w7 w8 w9'
    const limit = (side: 'left' | 'middle' | 'right', maxTokens = 4) => ({ maxTokens, side, tokenizer })
    expect(await truncateTokens(text, limit('right'))).toBe('w0 w1 w2 w3\n... [6 tokens truncated] ...')
    expect(await truncateTokens(text, limit('left'))).toBe('... [6 tokens truncated] ...\nw6 w7 w8 w9')
    expect(await truncateTokens(text, limit('middle'))).toBe('w0 w1\n... [6 tokens truncated] ...\nw8 w9')
    expect(await truncateTokens(text, limit('middle', 5))).toBe(
      'w0 w1\n... [5 tokens truncated] ...\nw7 w8 w9',
    )
    expect(await truncateTokens(text, limit('middle', 10))).toBe(text)
    // in the output block, before the character limit (which still holds)
    const block = await formatOutput(result({ stdout: `${text}\n` }), 100, limit('right', 2))
    expect(block).toBe('```output\nw0 w1\n... [8 tokens truncated] ...\n```\n')
  })
})
