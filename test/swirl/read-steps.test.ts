import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { UsageError } from '../../src/core/errors.js'
import { readStepGroups, readSteps } from '../../src/swirl/read-steps.js'
import { tempDir } from '../integration/cli.js'

const step = (trajectory: string, index: number, steps: number) => ({
  trajectory,
  step: index,
  steps,
  action: `action ${index}`,
  state: { text: '', messages: [], prompt: '' },
  insertedSpans: [],
  toolOutput: index === steps - 1 ? null : '```output\n1\n```\n',
})

/** The records as a JSONL file. */
function stepsFile(records: object[]): string {
  const file = join(tempDir(), 'steps.jsonl')
  writeFileSync(file, records.map((record) => `${JSON.stringify(record)}\n`).join(''))
  return file
}

async function read(records: object[]): Promise<string[]> {
  const groups: string[] = []
  for await (const group of readStepGroups([stepsFile(records)]))
    groups.push(group.map(({ step }) => `${step.trajectory}:${step.step}`).join(' '))
  return groups
}

const A = [step('a', 0, 3), step('a', 1, 3), step('a', 2, 3)]
const B = [step('b', 0, 2), step('b', 1, 2)]

describe("step records: each trajectory's steps together and in order, or a file:line error", () => {
  it('reads trajectories in the order start steps writes them', async () => {
    expect(await read([...A, ...B, step('c', 0, 1)])).toEqual(['a:0 a:1 a:2', 'b:0 b:1', 'c:0'])
  })

  it.each([
    ['reversed', [...A].reverse(), 1, 'a starts at step 2, not 0'],
    ['interleaved', [A[0]!, B[0]!, A[1]!, B[1]!, A[2]!], 2, 'a ends at step 0 of its 3: a step is missing'],
    ['split', [A[0]!, A[1]!, A[2]!, ...B, A[0]!], 6, 'a appears again'],
    ['a step missing', [A[0]!, A[2]!], 2, 'step 2 of a follows its step 0'],
    ['a step twice', [A[0]!, A[0]!], 2, 'step 0 of a follows its step 0'],
    ['a bad count', [{ ...A[0]!, steps: 0 }], 1, '"step" and "steps" must be whole numbers'],
    ['a number as toolOutput', [A[0]!, { ...A[1]!, toolOutput: 42 }], 2, '"toolOutput" must be'],
    ['judgements as a word', [{ ...A[0]!, judgements: 'yes' }], 1, '"judgements" must be an object'],
    ['insertedSpans mistyped', [{ ...A[0]!, insertedSpans: 'none' }], 1, '"insertedSpans" must be a list'],
    ['insertedSpans missing', [{ ...A[0]!, insertedSpans: undefined }], 1, '"insertedSpans" must be a list'],
    ['state.messages missing', [{ ...A[0]!, state: { text: '' } }], 1, '"state.messages" must be a list'],
  ])('%s: refused at the line that breaks the order', async (_, records, line, message) => {
    const file = stepsFile(records)
    const reading = (async () => {
      for await (const _step of readSteps([file]));
    })()
    await expect(reading).rejects.toThrow(UsageError)
    await expect(reading).rejects.toThrow(`${file}:${line}: ${message}`)
  })

  it("reads steps that stand alone (start rl's stepwise states) in any order, fields still checked", async () => {
    const file = stepsFile([A[2]!, B[0]!, A[0]!])
    const read: string[] = []
    for await (const { step } of readSteps([file], { anyOrder: true }))
      read.push(`${step.trajectory}:${step.step}`)
    expect(read).toEqual(['a:2', 'b:0', 'a:0'])
    const bad = stepsFile([{ ...A[0]!, toolOutput: 1 }])
    const reading = (async () => {
      for await (const _step of readSteps([bad], { anyOrder: true }));
    })()
    await expect(reading).rejects.toThrow(`${bad}:1: "toolOutput" must be`)
  })

  it('refuses input cut short: the last trajectory stops before its last step', async () => {
    const file = stepsFile([A[0]!, A[1]!])
    const reading = (async () => {
      for await (const _step of readSteps([file]));
    })()
    await expect(reading).rejects.toThrow(`${file}: a ends at step 1 of its 3: a step is missing`)
  })
})
