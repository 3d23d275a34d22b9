import { describe, expect, it } from 'vitest'
import type { Segment } from '../../src/inference/types.js'
import { judgeByRules, ruleReasons } from '../../src/swirl/judge-rules.js'
import { type SplittableTrajectory, splitSteps } from '../../src/swirl/split-steps.js'

/** A trajectory of model text and code outputs: strings are the model's, { output } the interpreter's. */
function trajectory(...parts: (string | { output: string })[]): SplittableTrajectory {
  const segments = parts.map((part) =>
    typeof part === 'string'
      ? { kind: 'model' as const, text: part }
      : { kind: 'output' as const, text: `\`\`\`output\n${part.output}\n\`\`\`\n` },
  )
  return {
    run: 'r',
    problemId: 'p',
    sample: 0,
    messages: [{ role: 'user', content: 'Q' }],
    prompt: 'Q',
    text: segments.map((segment) => segment.text).join(''),
    segments,
  }
}
const code = (body: string) => `\`\`\`python\n${body}\n\`\`\`\n`
const verdicts = (...parts: (string | { output: string })[]) =>
  judgeByRules(splitSteps(trajectory(...parts))).map((j) => [j.verdict, j.reasons])

describe('judgeByRules (the offline process judge)', () => {
  it('a step whose code ran, whose output is used, and an answer that follows from it: all reasonable', () => {
    expect(
      verdicts(`Let me compute.\n${code('print(6 * 7)')}`, { output: '42' }, 'So it is 42.\n\\boxed{42}'),
    ).toEqual([
      ['yes', []],
      ['yes', []],
    ])
  })

  it('labels failed code, unused output, a repeated block and an answer the output does not support', () => {
    expect(
      verdicts(
        code('print(1/0)'),
        { output: 'ZeroDivisionError: division by zero' },
        code('print(6 * 7)'),
        { output: '42' },
        code('print(6 * 7)'),
        { output: '42' },
        'It is 41.\n\\boxed{41}',
      ),
    ).toEqual([
      ['no', ['the code failed or printed nothing']],
      ['no', ['its output is never used']],
      ['no', ['its output is never used', 'it repeats an earlier code block']],
      ['no', ['the answer is not what the last output printed']],
    ])
  })

  it("reads how a cell ended from the sandbox's record, not from what it printed", () => {
    const ran = (output: string, exitCode: number, stderr = '') => {
      const record = trajectory(code('run()'), { output }, `So ${output}.\n\\boxed{1}`)
      const execution = { code: 'run()', stdout: output, stderr, exitCode, signal: null, timedOut: false }
      record.segments[1] = { ...record.segments[1]!, execution: execution as Segment['execution'] }
      return ruleReasons(splitSteps(record)[0]!)
    }
    // SystemExit("giving up") prints its message and exits 1: it failed, whatever its text says
    expect(ran('giving up', 1, 'giving up')).toEqual(['the code failed or printed nothing'])
    expect(ran('KeyboardInterrupt', 1, 'Traceback...\nKeyboardInterrupt')).toEqual([
      'the code failed or printed nothing',
    ])
    // a cell that prints an error's name and exits 0 ran
    expect(ran('ValueError is what we expect', 0)).toEqual([])
    // without a record, any exception's name on the last line is a failure, not only *Error
    for (const output of [
      'KeyboardInterrupt',
      'StopIteration',
      'SystemExit: giving up',
      'mymod.CustomException: no',
    ])
      expect(verdicts(code('run()'), { output }, 'So.\n\\boxed{1}')[0]).toEqual([
        'no',
        ['the code failed or printed nothing'],
      ])
  })

  it('a block repeated with only a comment changed is a repeat; an output is used only as a whole token', () => {
    expect(
      verdicts(
        code('print(6 * 7)'),
        { output: '42' },
        code('# again\nprint(6 * 7)  # check'),
        { output: '42' },
        '\\boxed{42}',
      )[1],
    ).toEqual(['no', ['it repeats an earlier code block']])
    // "5" is not used by "15 apples", nor by "x5"; it is by "\boxed{5}"
    expect(verdicts(code('print(5)'), { output: '5' }, 'So 15 apples, x5.\n\\boxed{15}')[0]).toEqual([
      'no',
      ['its output is never used'],
    ])
    expect(verdicts(code('print(5)'), { output: '5' }, 'So \\boxed{5}')[0]).toEqual(['yes', []])
  })

  it('a final step without a boxed answer is not reasonable; without tools, any boxed answer is', () => {
    expect(verdicts('I think it is 3.')).toEqual([['no', ['no final answer']]])
    expect(verdicts('It is \\boxed{3}.')).toEqual([['yes', []]])
  })

  it('ruleReasons judges one step from its state alone (the stepwise reward): no later steps needed', () => {
    const steps = splitSteps(
      trajectory(
        code('print(6 * 7)'),
        { output: '42' },
        code('print(6 * 7)'),
        { output: '42' },
        '\\boxed{41}',
      ),
    )
    expect(steps.map(ruleReasons)).toEqual([
      [],
      ['it repeats an earlier code block'],
      ['the answer is not what the last output printed'],
    ])
  })
})
