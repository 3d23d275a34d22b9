import { describe, expect, it } from 'vitest'
import { workFor } from '../../src/sandbox/run-sandbox.js'

describe('workFor', () => {
  it('runs a code field alone, found by dotted path', () => {
    expect(workFor({ code: 'print(1)' }, 'code')).toEqual({ kind: 'code', code: 'print(1)' })
    expect(workFor({ meta: { code: 'print(2)' } }, 'meta.code')).toEqual({ kind: 'code', code: 'print(2)' })
  })

  it('runs the python blocks of a trajectory as one session', () => {
    expect(workFor({ text: 'a\n```python\nx = 1\n```\nb\n```python\nprint(x)\n```\n' }, 'code')).toEqual({
      kind: 'trajectory',
      blocks: ['x = 1', 'print(x)'],
    })
  })

  it('says what is missing', () => {
    expect(workFor({ text: 'no code' }, 'code')).toEqual({ error: '"text" has no ```python block' })
    expect(workFor({ code: 5 }, 'code')).toEqual({ error: '"code" must be a string' })
    expect(workFor({ other: 1 }, 'code')).toEqual({
      error: 'missing "code" (or a trajectory "text" with ```python blocks)',
    })
    expect(workFor('x', 'code')).toEqual({ error: 'expected a JSON object' })
  })
})
