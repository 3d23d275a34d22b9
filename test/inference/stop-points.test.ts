import { describe, expect, it } from 'vitest'
import { detectStopPoint, openCodeBody } from '../../src/inference/stop-points.js'

const options = { connectives: ['Wait', 'Alternatively', 'Hmm'], thinking: true }

describe('detectStopPoint', () => {
  it('sees a connective once its word is complete, as the model wrote it', () => {
    expect(detectStopPoint('So 5.\nWait', ',', options)).toEqual({
      kind: 'connective',
      word: 'Wait',
      boundary: ',',
    })
    expect(detectStopPoint('So 5. ', 'Alternatively ', options)).toEqual({
      kind: 'connective',
      word: 'Alternatively',
      boundary: ' ',
    })
    expect(detectStopPoint('So 5.\nWait', 'ing', options)).toBeUndefined()
    expect(detectStopPoint('So 5.\nwait', ',', options)).toBeUndefined() // case as configured
    expect(detectStopPoint('Await', ',', options)).toBeUndefined()
    expect(detectStopPoint('Wait, yes', '.', options)).toBeUndefined() // an old connective does not fire again
  })

  it('sees the closing fence of a python block and returns its code', () => {
    expect(detectStopPoint('x\n```python\nprint(1)\n``', '`', options)).toEqual({
      kind: 'code',
      code: 'print(1)',
    })
    expect(detectStopPoint('x\n```python\nprint(1)\n', '```\n', options)).toEqual({
      kind: 'code',
      code: 'print(1)',
    })
    expect(detectStopPoint('x\n```python\nprint("Wait', ',', options)).toBeUndefined() // no hints inside code
  })

  it('sees the thinking about to close, wherever the tag starts', () => {
    expect(detectStopPoint('So 5.\n<', '/', options)).toEqual({ kind: 'think-end', tagStart: 6 })
    expect(detectStopPoint('So 5.', '\n</think>', options)).toEqual({ kind: 'think-end', tagStart: 6 })
    expect(detectStopPoint('So 5.\n<', '/', { ...options, thinking: false })).toBeUndefined()
    expect(detectStopPoint('So 5.\n<', 'b', options)).toBeUndefined()
  })
})

describe('openCodeBody', () => {
  it('finds only an unclosed block', () => {
    expect(openCodeBody('a\n```python\nx = 1\n')).toEqual({ body: 'x = 1\n', start: 12 })
    expect(openCodeBody('a\n```python\nx = 1\n```\n')).toBeUndefined()
    expect(openCodeBody('no code')).toBeUndefined()
  })
})
