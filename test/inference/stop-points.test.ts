import { describe, expect, it } from 'vitest'
import {
  CONNECTIVE_BOUNDARIES,
  decisionStops,
  detectStopPoint,
  openCodeBody,
  splitAtDecisionPoints,
} from '../../src/inference/stop-points.js'

const options = { connectives: ['Wait', 'Alternatively', 'Hmm'], thinking: true }
const stopOptions = { connectives: options.connectives, thinkEnd: true, code: true }

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

describe('decisionStops', () => {
  it('stops a served model where the loop decides: a fence, the end of thinking, connectives with a boundary', () => {
    const stops = decisionStops('So 5.\n', stopOptions)
    expect(stops).toContain('```\n') // a closing fence: an opening one goes on with its language
    expect(stops).toContain('</think>')
    for (const boundary of [' ', ',', '.', '\n']) {
      expect(stops).toContain(`Wait${boundary}`)
      expect(stops).toContain(`Hmm${boundary}`)
    }
    expect(stops).toHaveLength(2 + 3 * CONNECTIVE_BOUNDARIES.length)
  })

  it('inside an open code block only its closing fence matters', () => {
    expect(decisionStops('x\n```python\nprint("Wait, ', stopOptions)).toEqual(['```'])
    expect(decisionStops('x\n```python\nprint(1)\n```\n', stopOptions)).toContain('Wait,')
  })

  it('with no hint due at the end of thinking, nor connective hints left, stops only at fences', () => {
    expect(decisionStops('done', { connectives: [], thinkEnd: false, code: true })).toEqual(['```\n'])
    expect(decisionStops('done', { connectives: [], thinkEnd: true, code: true })).toEqual([
      '```\n',
      '</think>',
    ])
  })

  it('with no tool calls left, a fence stops a request only where a decision may follow the block', () => {
    const noCode = { ...stopOptions, code: false }
    expect(decisionStops('So 5.\n', noCode)).not.toContain('```\n')
    expect(decisionStops('So 5.\n', noCode)).toContain('</think>')
    // Inside a block: its fence, so that the connectives after it are stop strings again.
    expect(decisionStops('x\n```python\nprint(', noCode)).toEqual(['```'])
    const nothingLeft = { connectives: [], thinkEnd: false, code: false }
    expect(decisionStops('x\n```python\nprint(', nothingLeft)).toEqual([])
    expect(decisionStops('done', nothingLeft)).toEqual([])
  })

  it('every stop string is a stop point of detectStopPoint when it ends a piece', () => {
    for (const stop of decisionStops('So 5.\n', stopOptions)) {
      if (stop === '```\n') continue
      const point = detectStopPoint('So 5.\n', stop, options)
      expect(point?.kind).toBe(stop === '</think>' ? 'think-end' : 'connective')
    }
  })
})

describe('splitAtDecisionPoints', () => {
  const stops = decisionStops('', stopOptions)
  it('ends a piece after every line, fence and stop string, and loses nothing', () => {
    const text = 'So 5.\nWait, check.\n```python\nprint(5)\n```'
    const pieces = splitAtDecisionPoints(text, stops)
    expect(pieces.join('')).toBe(text)
    expect(pieces).toEqual(['So 5.\n', 'Wait,', ' check.\n', '```', 'python\n', 'print(5)\n', '```'])
    expect(splitAtDecisionPoints('', stops)).toEqual([])
    expect(splitAtDecisionPoints('no stop here', stops)).toEqual(['no stop here'])
  })

  it('a code block that opens and closes in one answer is seen closing, as token by token', () => {
    const before = 'Let me compute.\n'
    let text = before
    const seen = []
    for (const piece of splitAtDecisionPoints('```python\nprint(5)\n```', stops)) {
      const point = detectStopPoint(text, piece, options)
      if (point) seen.push(point)
      text += piece
    }
    expect(seen).toEqual([{ kind: 'code', code: 'print(5)' }])
  })

  it('the end of thinking is a piece of its own at the start of its line', () => {
    const pieces = splitAtDecisionPoints('So 5.\n</think>\nThe answer', stops)
    expect(pieces).toEqual(['So 5.\n', '</think>', '\n', 'The answer'])
    expect(detectStopPoint('So 5.\n', '</think>', options)).toEqual({ kind: 'think-end', tagStart: 6 })
  })
})
