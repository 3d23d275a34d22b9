import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  eventViolation,
  opViolation,
  PROTOCOL_JSON_FILE,
  protocolJson,
} from '../../src/training/trainer-protocol.js'

describe('the trainer protocol', () => {
  it('is the same object for the Python side: trainer-protocol.json is current (npm run docs writes it)', () => {
    expect(readFileSync(PROTOCOL_JSON_FILE, 'utf8')).toBe(protocolJson())
  })

  it("accepts a command's events as declared, with optional and unnamed numeric fields", () => {
    expect(
      eventViolation('train', { event: 'log', step: 1, maxSteps: 4, loss: 0.5, grad_norm: 2 }),
    ).toBeUndefined()
    expect(
      eventViolation('train', {
        event: 'done',
        steps: 4,
        trainLoss: 0.4,
        seconds: 3.5,
        tokensPerSecond: null,
      }),
    ).toBeUndefined()
    expect(
      eventViolation('rl', { event: 'log', step: 1, maxSteps: 4, metrics: { reward: 0.5 } }),
    ).toBeUndefined()
    expect(
      eventViolation('rl', { event: 'rollouts', step: 1, batch: 0, items: [{ rid: 'r0', problem: 'p1' }] }),
    ).toBeUndefined()
    expect(eventViolation('parquet', { event: 'error', message: 'bad', usage: false })).toBeUndefined()
  })

  it('names what is wrong: a missing field, a wrong type, a field not declared, an unknown event, a nested item', () => {
    expect(eventViolation('train', { event: 'log', maxSteps: 4 })).toBe('event log.step is missing')
    expect(eventViolation('train', { event: 'log', step: 1.5, maxSteps: 4 })).toBe(
      'event log.step is 1.5, not integer',
    )
    expect(eventViolation('train', { event: 'log', step: 1, maxSteps: 4, note: 'x' })).toBe(
      'event log.note is "x", not number',
    )
    expect(eventViolation('rl', { event: 'checkpoint', step: 2, path: '/x' })).toBe(
      'event checkpoint.path is not in the protocol',
    )
    expect(eventViolation('parquet', { event: 'log', step: 1 })).toBe('unknown event "log"')
    expect(
      eventViolation('rl', { event: 'rollouts', step: 1, batch: 0, items: [{ rid: 'r0', problem: 3 }] }),
    ).toBe('event rollouts.items[0].problem is 3, not string')
    expect(
      eventViolation('rl', {
        event: 'generated',
        rid: 'r',
        text: '',
        stop: 'length',
        sampled: 0,
        completionTokens: 0,
        insertedTokens: 0,
      }),
    ).toBe(`event generated.stop is "length", not 'stop'|'eos'|'limit'`)
  })

  it("checks start rl's operations; a field left undefined is not on the wire", () => {
    expect(opViolation({ op: 'next', rid: 'r', stops: ['</think>'], maxTokens: 10 })).toBeUndefined()
    const finish = { op: 'finish', rid: 'r', textLength: 3, reward: 1, correct: true, answered: true }
    expect(opViolation({ ...finish, toolCalls: 0, failedCalls: 0, refused: undefined })).toBeUndefined()
    expect(opViolation({ ...finish, toolCalls: 0, failedCalls: 0, refused: 'hedged' })).toBeUndefined()
    expect(opViolation({ ...finish, toolCalls: 0 })).toBe('op finish.failedCalls is missing')
    expect(opViolation({ op: 'pause', rid: 'r' })).toBe('unknown op "pause"')
  })
})
