import { describe, expect, it } from 'vitest'
import {
  CONNECTIVE_BOUNDARIES,
  decisionStops,
  detectStopPoint,
  openCodeBody,
} from '../../src/inference/stop-points.js'

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

describe('decisionStops', () => {
  it('stops a served model where the loop decides: a fence, the end of thinking, connectives with a boundary', () => {
    const stops = decisionStops('So 5.\n', options)
    expect(stops).toContain('```')
    expect(stops).toContain('</think>')
    for (const boundary of [' ', ',', '.', '\n']) {
      expect(stops).toContain(`Wait${boundary}`)
      expect(stops).toContain(`Hmm${boundary}`)
    }
    expect(stops).toHaveLength(2 + 3 * CONNECTIVE_BOUNDARIES.length)
  })

  it('inside an open code block only its closing fence matters', () => {
    expect(decisionStops('x\n```python\nprint("Wait, ', options)).toEqual(['```'])
    expect(decisionStops('x\n```python\nprint(1)\n```\n', options)).toContain('Wait,')
  })

  it('after the thinking, or with no connective hints left, stops only at fences', () => {
    expect(decisionStops('done', { connectives: [], thinking: false })).toEqual(['```'])
    expect(decisionStops('done', { connectives: [], thinking: true })).toEqual(['```', '</think>'])
  })

  it('every stop string is a stop point of detectStopPoint when it ends a piece', () => {
    for (const stop of decisionStops('So 5.\n', options)) {
      if (stop === '```') continue
      const point = detectStopPoint('So 5.\n', stop, options)
      expect(point?.kind).toBe(stop === '</think>' ? 'think-end' : 'connective')
    }
  })
})
