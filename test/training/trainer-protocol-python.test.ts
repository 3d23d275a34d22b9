import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { eventViolation, opViolation, type TrainerCommand } from '../../src/training/trainer-protocol.js'

/** Runs `body` in python3 with start's trainer_protocol module imported (no torch needed). */
function python(body: string, input: unknown = null): string {
  const script = [
    'import json, sys',
    'import trainer_protocol as tp',
    'data = json.load(sys.stdin)',
    body,
  ].join('\n')
  return String(
    execFileSync('python3', ['-c', script], {
      input: JSON.stringify(input),
      env: { ...process.env, PYTHONPATH: 'src/training', PYTHONDONTWRITEBYTECODE: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    }),
  )
}

const EVENTS: [TrainerCommand, Record<string, unknown>][] = [
  ['train', { event: 'log', step: 1, maxSteps: 4, loss: 0.5, grad_norm: 2 }],
  ['train', { event: 'log', maxSteps: 4 }],
  ['train', { event: 'log', step: true, maxSteps: 4 }],
  ['train', { event: 'log', step: 1, maxSteps: 4, note: 'x' }],
  ['train', { event: 'done', steps: 4, trainLoss: 0.4, seconds: 3.5, tokensPerSecond: null }],
  ['train', { event: 'done', steps: 4, trainLoss: 0.4, seconds: 3.5 }],
  ['labels', { event: 'labels', text: 'a', tokens: [{ id: 1, text: 'a', label: -100 }] }],
  ['labels', { event: 'labels', text: 'a', tokens: [{ id: 1, text: 'a' }] }],
  ['gguf-to-hf', { event: 'done', out: '/x', removedKeys: [], specialTokens: { eos: 2 } }],
  ['gguf-to-hf', { event: 'done', out: '/x', removedKeys: [], specialTokens: { eos: 'two' } }],
  ['rl', { event: 'rollouts', step: 1, batch: 0, items: [{ rid: 'r0', problem: 'p1' }] }],
  [
    'rl',
    {
      event: 'generated',
      rid: 'r',
      text: '',
      stop: 'eos',
      sampled: 1,
      completionTokens: 1,
      insertedTokens: 0,
    },
  ],
  [
    'rl',
    {
      event: 'generated',
      rid: 'r',
      text: '',
      stop: 'end',
      sampled: 1,
      completionTokens: 1,
      insertedTokens: 0,
    },
  ],
  ['rl', { event: 'start', problems: 2, parameters: 10, trainable: 10, device: 'cpu', resumedFrom: null }],
  ['rl', { event: 'loaded', contextSize: 512 }],
  ['rl', { event: 'loaded', contextSize: 512, device: 'cpu' }],
  ['rl', { event: 'checkpoint', step: 2, path: '/x' }],
  ['parquet', { event: 'error', message: 'bad', usage: false }],
  ['parquet', { event: 'log', step: 1 }],
]
const OPS: Record<string, unknown>[] = [
  { op: 'next', rid: 'r', stops: ['</think>'], maxTokens: 10 },
  { op: 'next', rid: 'r', stops: '</think>', maxTokens: 10 },
  {
    op: 'finish',
    rid: 'r',
    textLength: 3,
    reward: 1,
    correct: true,
    answered: true,
    toolCalls: 0,
    failedCalls: 0,
  },
  { op: 'finish', rid: 'r', textLength: 3, reward: 1, correct: true, answered: true, toolCalls: 0 },
  { op: 'pause', rid: 'r' },
]

describe('the trainer protocol on the Python side (trainer_protocol.py)', () => {
  it('judges every event and operation as the TypeScript does, from the same declaration', () => {
    const verdicts = JSON.parse(
      python(
        [
          'events = [tp.Speaker(c).events for c, _ in data["events"]]',
          'out = {',
          '  "events": [tp.message_violation(s, "event", e) for s, (_, e) in zip(events, data["events"])],',
          '  "ops": [tp.message_violation(tp.Speaker("rl").ops, "op", o) for o in data["ops"]],',
          '}',
          'print(json.dumps(out))',
        ].join('\n'),
        { events: EVENTS, ops: OPS },
      ),
    ) as { events: (string | null)[]; ops: (string | null)[] }
    const expected = {
      events: EVENTS.map(([command, event]) => eventViolation(command, event) ?? null),
      ops: OPS.map((op) => opViolation(op) ?? null),
    }
    expect(verdicts).toEqual(expected)
    // both kinds of verdict are exercised
    expect(expected.events.filter((v) => v === null).length).toBeGreaterThan(5)
    expect(expected.events.filter((v) => v !== null).length).toBeGreaterThan(5)
  })

  it('emit writes a checked line and refuses an event its command does not declare, before writing', () => {
    const written = python(
      [
        'tp.speak("parquet")',
        'tp.emit("done", rows=3)',
        'try:',
        '    tp.emit("done", rows="3")',
        'except tp.ProtocolError as error:',
        '    print(json.dumps({"refused": str(error)}))',
      ].join('\n'),
    )
    const [line, refused] = written.trim().split('\n')
    expect(JSON.parse(line!)).toEqual({ event: 'done', rows: 3 })
    expect(JSON.parse(refused!)).toEqual({
      refused: 'the trainer would break its protocol: event done.rows is "3", not integer',
    })
  })

  it("reads the CLI's operations checked: one the protocol lacks stops the trainer with the reason", () => {
    const read = python(
      [
        'tp.speak("rl")',
        'print(json.dumps(tp.receive(\'{"op": "append", "rid": "r", "text": "x"}\')))',
        'try:',
        '    tp.receive(\'{"op": "append", "rid": "r"}\')',
        'except tp.ProtocolError as error:',
        '    print(json.dumps(str(error)))',
      ].join('\n'),
    )
    const [op, refused] = read.trim().split('\n')
    expect(JSON.parse(op!)).toEqual({ op: 'append', rid: 'r', text: 'x' })
    expect(JSON.parse(refused!)).toBe('the CLI broke the trainer protocol: op append.text is missing')
  })
})
