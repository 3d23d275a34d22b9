import { promptOpensThinking } from '../grading/extract-answer.js'
import type { Grader } from '../grading/grader.js'
import { parseReference } from '../grading/reference.js'
import { sampleSeed } from '../hints/policy.js'
import { type InferenceEngine, PromptTooLongError } from '../inference/engine.js'
import { runLoopInSession } from '../inference/run-hint-infer.js'
import type { SandboxPool } from '../sandbox/pool.js'
import {
  type Ablation,
  ablatedContinuation,
  outputShape,
  replayedCode,
  stepCredit,
} from './counterfactual.js'
import type { StepJudgement } from './judge-rules.js'
import type { JudgedStep } from './read-steps.js'

/** How the counterfactual judge samples and decides. */
export interface CounterfactualSettings {
  ablate: Ablation
  k: number
  maxStepsPerTrajectory: number
  alpha: number
  temperature: number
  topP: number
  seed: number
  maxTokens: number
}

/** One continuation's outcome, a stored unit. */
interface ContinuationOutcome {
  graded: boolean
  correct: boolean
  generatedTokens: number
}

/** Units already stored (a rerun takes them) and where new ones go. */
export interface UnitStore {
  get(key: string): unknown
  put(key: string, result: unknown): void
}

/** Other problems' tool outputs by shape: where `--ablate shuffled` takes a step's replacement from. */
export class ShuffledOutputs {
  private readonly byShape = new Map<string, { problemId: string; output: string }[]>()

  add(step: JudgedStep): void {
    if (step.toolOutput === null) return
    const shape = outputShape(step.toolOutput)
    this.byShape.set(shape, [
      ...(this.byShape.get(shape) ?? []),
      { problemId: step.problemId, output: step.toolOutput },
    ])
  }

  /** Another problem's output of the step's shape, the same one on every run; undefined when none. */
  for(step: JudgedStep, seed: number): string | undefined {
    if (step.toolOutput === null) return undefined
    const others = (this.byShape.get(outputShape(step.toolOutput)) ?? []).filter(
      (o) => o.problemId !== step.problemId,
    )
    if (others.length === 0) return undefined
    return others[sampleSeed(seed, step.trajectory, step.step) % others.length]!.output
  }
}

/**
 * The counterfactual judge: for each step of a trajectory (up to `maxStepsPerTrajectory`), k continuations
 * after the step as it was (the trajectory's own ending and k-1 samples) and k after the step with its
 * tool output ablated, each graded against the reference; the step's credit is the difference of the two
 * shares right, `yes` when Fisher's one-sided test says the real output made a right ending more likely at
 * `alpha`. The policy model continues, in this process or served; the prefix is evaluated once per arm and
 * its KV kept for the continuations after it.
 */
export class CounterfactualJudge {
  /** Continuations run now and the tokens they generated (the judge's cost). */
  continuations = 0
  generatedTokens = 0

  constructor(
    private readonly engine: InferenceEngine,
    private readonly pool: SandboxPool,
    private readonly grader: Grader,
    private readonly settings: CounterfactualSettings,
    private readonly shuffled: ShuffledOutputs,
    private readonly units: UnitStore,
  ) {}

  /** A judgement for each step of the trajectory, in order. */
  async judgeTrajectory(steps: JudgedStep[]): Promise<StepJudgement[]> {
    const last = steps.at(-1)!
    const parsed = parseReference(last as unknown as Record<string, unknown>)
    if ('error' in parsed) return steps.map(() => unjudged(`no reference to grade against (${parsed.error})`))
    const reference = parsed.reference
    // a whole trajectory's own ending is the real arm's first continuation (a lone step has none)
    const original = last.final
      ? await this.grader.grade(last.state.text + last.action, reference, {
          finishReason: last.finishReason,
          prompt: last.state.prompt,
          problem: last.problem,
        })
      : undefined
    const judgements: StepJudgement[] = []
    let judged = 0
    for (const step of steps) {
      const ablated = ablatedContinuation(
        step,
        this.settings.ablate,
        this.shuffled.for(step, this.settings.seed),
      )
      if (ablated === undefined) {
        const why =
          step.toolOutput === null ? 'no tool output to ablate' : 'no other output of its shape to shuffle in'
        judgements.push(unjudged(why))
        continue
      }
      if (this.settings.maxStepsPerTrajectory > 0 && judged >= this.settings.maxStepsPerTrajectory) {
        judgements.push(unjudged('beyond --max-steps-per-trajectory'))
        continue
      }
      judged++
      const real = step.action + (step.toolOutput ?? '')
      const realOutcomes: ContinuationOutcome[] = original
        ? [{ graded: true, correct: original.correct, generatedTokens: 0 }]
        : []
      const ablatedOutcomes: ContinuationOutcome[] = []
      const keep = this.settings.ablate !== 'error' && this.settings.ablate !== 'drop-step'
      for (let j = 0; j < this.settings.k; j++) {
        if (j > 0 || !original) {
          const replay = replayedCode(step, true)
          realOutcomes.push(await this.continuation(step, 'real', j, real, replay, reference))
        }
        const replay = replayedCode(step, keep)
        ablatedOutcomes.push(
          await this.continuation(step, this.settings.ablate, j, ablated, replay, reference),
        )
      }
      judgements.push(this.verdict(realOutcomes, ablatedOutcomes))
    }
    return judgements
  }

  private verdict(real: ContinuationOutcome[], ablated: ContinuationOutcome[]): StepJudgement {
    const count = (outcomes: ContinuationOutcome[]) => {
      const graded = outcomes.filter((outcome) => outcome.graded)
      return { right: graded.filter((outcome) => outcome.correct).length, of: graded.length }
    }
    const [withReal, withAblated] = [count(real), count(ablated)]
    if (withAblated.of === 0 || withReal.of === 0)
      return unjudged('no continuation of an arm could be graded (context too short)')
    const credit = stepCredit(withReal, withAblated)
    const yes = credit.pValue <= this.settings.alpha
    const figures = `credit ${credit.credit.toFixed(2)} [${credit.interval.map((v) => v.toFixed(2)).join(', ')}]: right ${withReal.right}/${withReal.of} with the real output, ${withAblated.right}/${withAblated.of} ${this.settings.ablate}; p = ${credit.pValue.toPrecision(2)}`
    return {
      judge: 'counterfactual',
      verdict: yes ? 'yes' : 'no',
      reasons: [yes ? `it mattered: ${figures}` : `not shown to matter: ${figures}`],
      counterfactual: { ...credit, k: this.settings.k, ablate: this.settings.ablate },
    }
  }

  /** One continuation from the state plus `after`, run through the loop (code runs, no hints) and graded. */
  private async continuation(
    step: JudgedStep,
    arm: string,
    j: number,
    after: string,
    replay: string[],
    reference: Parameters<Grader['grade']>[1],
  ): Promise<ContinuationOutcome> {
    const key = `counterfactual:${arm}:${step.trajectory}#${step.step}:${j}`
    const done = this.units.get(key) as ContinuationOutcome | undefined
    if (done) return done
    const text = step.state.text + after
    const sampling = {
      temperature: this.settings.temperature,
      topP: this.settings.topP,
      seed: sampleSeed(this.settings.seed, `${step.trajectory}#${step.step}`, j),
    }
    let outcome: ContinuationOutcome
    let stream: Awaited<ReturnType<InferenceEngine['startGeneration']>> | undefined
    try {
      stream = await this.engine.startGeneration(step.state.prompt, sampling, {
        reusePrefix: true,
        continuation: text,
      })
      const result = await runLoopInSession(
        stream,
        this.pool,
        {
          hints: null,
          domain: step.answer === undefined ? 'code' : 'math',
          startsThinking: thinkingAfter(step.state.prompt, text),
          maxTokens: this.settings.maxTokens,
          maxToolCalls: 6,
          maxOutputChars: 2048,
        },
        replay,
      )
      const grade = await this.grader.grade(text + result.text, reference, {
        finishReason: result.finishReason,
        prompt: step.state.prompt,
        problem: step.problem,
      })
      outcome = { graded: true, correct: grade.correct, generatedTokens: result.stats.generatedTokens }
    } catch (error) {
      if (!(error instanceof PromptTooLongError)) throw error
      outcome = { graded: false, correct: false, generatedTokens: 0 }
    } finally {
      await stream?.close()
    }
    this.continuations++
    this.generatedTokens += outcome.generatedTokens
    this.units.put(key, outcome)
    return outcome
  }
}

function unjudged(reason: string): StepJudgement {
  return { judge: 'counterfactual', verdict: 'unjudged', reasons: [reason] }
}

/** Whether the model is inside its thinking after `text`: opened (by the prompt or the text) and not closed. */
export function thinkingAfter(prompt: string, text: string): boolean {
  const opened = Math.max(promptOpensThinking(prompt) ? 0 : -1, text.lastIndexOf('<think>'))
  const closed = text.lastIndexOf('</think>')
  return opened >= 0 && closed < opened
}
