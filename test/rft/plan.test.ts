import { describe, expect, it } from 'vitest'
import { planRft } from '../../src/rft/plan.js'

describe('the rft plan', () => {
  const stage1 = { stage: 1 as const, base: '/m/base.GGUF', out: '/o', data: '/d.jsonl' }

  it('converts a GGUF base (the extension in any case) into the run directory, and trains from the conversion', () => {
    const [convert, train] = planRft(stage1)
    expect(convert).toMatchObject({ id: 'base-hf', inputs: ['/m/base.GGUF'], outputs: ['/o/base-hf'] })
    expect(train).toMatchObject({ id: 'train-start-0', inputs: ['/o/base-hf', '/d.jsonl'] })
  })

  it("uses a conversion made before (the pipeline's, for SWiRL's models) instead of making its own", () => {
    const [convert, train] = planRft({ ...stage1, baseHf: '/p/rft/base-hf' })
    // the step stays (it makes the conversion if it is not there yet), and is current when it is
    expect(convert).toMatchObject({
      id: 'base-hf',
      outputs: ['/p/rft/base-hf'],
      currentWhenOutputsExist: true,
    })
    expect(train).toMatchObject({ id: 'train-start-0', inputs: ['/p/rft/base-hf', '/d.jsonl'] })
  })

  it('needs no conversion of a Hugging Face base, whatever is offered', () => {
    const steps = planRft({ ...stage1, base: '/m/hf', baseHf: '/p/rft/base-hf' })
    expect(steps.map((step) => step.id)).toEqual(['train-start-0', 'export-start-0'])
    expect(steps[0]!.inputs[0]).toBe('/m/hf')
  })
})
