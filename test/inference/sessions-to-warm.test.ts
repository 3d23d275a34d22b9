import { describe, expect, it } from 'vitest'
import { sessionsToWarm } from '../../src/inference/run-hint-infer.js'

describe('sessionsToWarm', () => {
  it('starts one session per trajectory in flight when there are more trajectories', () => {
    expect(sessionsToWarm(8, 100, 0)).toBe(8)
  })

  it('starts no more sessions than there are trajectories left to sample', () => {
    expect(sessionsToWarm(8, 1, 0)).toBe(1)
    expect(sessionsToWarm(8, 100, 97)).toBe(3)
  })

  it('starts none when a resumed run has nothing left', () => {
    expect(sessionsToWarm(8, 10, 10)).toBe(0)
  })

  it('starts one per trajectory in flight when the count is unknown (stdin)', () => {
    expect(sessionsToWarm(4, undefined, 2)).toBe(4)
  })
})
