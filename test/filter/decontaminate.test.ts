import { describe, expect, it } from 'vitest'
import { ContaminationIndex } from '../../src/filter/decontaminate.js'

describe('ContaminationIndex', () => {
  const evaluation =
    'Convert the point $(0,3)$ in rectangular coordinates to polar coordinates. Enter your answer in the form $(r,\\theta)$.'
  const index = new ContaminationIndex(13)
  index.add(evaluation)
  index.add('What is 2+2?')

  it('flags a training problem that shares a 13-word run, whatever the case and punctuation', () => {
    expect(index.contains(`Warm-up. ${evaluation.toUpperCase()} Then add one.`)).toBe(true)
    expect(
      index.contains(
        'convert the point (0, 3) in rectangular coordinates to polar coordinates enter your answer',
      ),
    ).toBe(true)
  })

  it('flags a short evaluation problem contained whole, and a short training problem inside an evaluation one', () => {
    expect(index.contains('Quick: what is 2 + 2? Explain.')).toBe(true)
    expect(index.contains('in rectangular coordinates to polar coordinates')).toBe(true)
  })

  it('lets unrelated problems through', () => {
    expect(
      index.contains(
        'Convert the point (1,1) from polar to rectangular form and give the distance to the origin.',
      ),
    ).toBe(false)
    expect(index.contains('What is 3+3?')).toBe(false)
  })
})
