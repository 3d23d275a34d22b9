import { join } from 'node:path'
import type { PlanStep } from '../runner/plan.js'
import { baseHfSteps, isGguf } from '../training/model-steps.js'

export type RftPlanStepId =
  | 'base-hf'
  | 'train-start-0'
  | 'export-start-0'
  | 'sample'
  | 'select'
  | 'train-start'
  | 'export-start'

/** One step of an RFT stage: what it makes, from what (the runner adds how). */
export interface RftPlanStep extends Omit<PlanStep, 'run'> {
  id: RftPlanStepId
}

export interface RftLayout {
  /** The base model as a Hugging Face checkpoint (the base itself when it is one). */
  baseHf: string
  start0: string
  start0Gguf: string
  samples: string
  dStart: string
  start: string
  startGguf: string
  logs: string
}

/** Where each artifact of `start rft --out DIR` lives. */
export function rftLayout(out: string, base: string, baseHf?: string): RftLayout {
  return {
    baseHf: isGguf(base) ? (baseHf ?? join(out, 'base-hf')) : base,
    start0: join(out, 'start-0'),
    start0Gguf: join(out, 'start-0.gguf'),
    samples: join(out, 'stage-2', 'samples.jsonl'),
    dStart: join(out, 'd_start.jsonl'),
    start: join(out, 'start'),
    startGguf: join(out, 'start.gguf'),
    logs: join(out, 'logs'),
  }
}

/**
 * The steps of a stage, in order. Stage 1: D_seed -> START-0. Stage 2: START-0 samples the pool,
 * the correct and diverse samples become D_START, and the base (or START-0) is fine-tuned into START.
 */
export function planRft(options: {
  stage: 1 | 2
  base: string
  out: string
  data?: string
  problems?: string[]
  from?: 'base' | 'start-0'
  baseHf?: string
}): RftPlanStep[] {
  const layout = rftLayout(options.out, options.base, options.baseHf)
  const steps: RftPlanStep[] = [...baseHfSteps(options.base, layout.baseHf)]
  if (options.stage === 1) {
    steps.push(
      {
        id: 'train-start-0',
        description: 'fine-tune the base model on D_seed into START-0',
        inputs: [layout.baseHf, options.data ?? ''],
        outputs: [layout.start0],
      },
      {
        id: 'export-start-0',
        description: 'export START-0 to GGUF',
        inputs: [layout.start0],
        outputs: [layout.start0Gguf],
      },
    )
    return steps
  }
  const from = options.from === 'start-0' ? layout.start0 : layout.baseHf
  steps.push(
    {
      id: 'sample',
      description: 'START-0 samples solutions to the problem pool (hint-infer)',
      inputs: [layout.start0Gguf, ...(options.problems ?? [])],
      outputs: [layout.samples],
    },
    {
      id: 'select',
      description: 'rejection sampling: correct, deduplicated, capped samples become D_START (filter)',
      inputs: [layout.samples],
      outputs: [layout.dStart],
    },
    {
      id: 'train-start',
      description: `fine-tune ${options.from === 'start-0' ? 'START-0' : 'the base model'} on D_START into START`,
      inputs: [from, layout.dStart],
      outputs: [layout.start],
    },
    {
      id: 'export-start',
      description: 'export START to GGUF',
      inputs: [layout.start],
      outputs: [layout.startGguf],
    },
  )
  return steps
}
