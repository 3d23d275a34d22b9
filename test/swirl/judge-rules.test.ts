import { describe, expect, it } from 'vitest'
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
