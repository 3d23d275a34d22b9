import { promptOpensThinking } from '../grading/extract-answer.js'
import type { InferenceEngine } from '../inference/engine.js'
import { sampleTrajectory, type TrajectorySettings } from '../inference/run-hint-infer.js'
import type { SandboxPool } from '../sandbox/pool.js'
import type { StepJudgement } from './judge-rules.js'
import type { JudgeSettings } from './options.js'
import { parseVerdict, type Rubric, renderRubric } from './rubric.js'
import type { StepRecord } from './split-steps.js'

/** Tokens a verdict may take when neither the rubric nor --max-tokens says. */
const DEFAULT_VERDICT_TOKENS = 1024

/** A model's verdict on a step, with what it cost. */
export interface ModelVerdict {
  judgement: StepJudgement
  generatedTokens: number
}

/**
 * A judge model answering a rubric about one step, on any engine (in process or served). It runs
 * through the same loop as hint-infer with no hints and no code execution, so a judge that writes code
 * gets none of it run; the verdict is read by the rubric's pattern, and a missing one is `unjudged`.
 */
export class ModelJudge {
  private readonly settings: TrajectorySettings

  constructor(
    private readonly engine: InferenceEngine,
    private readonly pool: SandboxPool,
    private readonly rubric: Rubric,
    settings: Pick<JudgeSettings, 'temperature' | 'topP' | 'seed' | 'maxTokens'>,
    private readonly label: string,
  ) {
    this.settings = {
      system: rubric.system,
      promptTemplate: '{problem}',
      codePromptTemplate: '{problem}',
      seed: settings.seed,
      temperature: settings.temperature,
      topP: settings.topP,
      maxTokens: settings.maxTokens ?? rubric.maxTokens ?? DEFAULT_VERDICT_TOKENS,
      maxToolCalls: 0,
      maxOutputChars: 16,
      maxToolOutputTokens: 0,
      truncateSide: 'middle',
    }
  }

  async judge(step: StepRecord): Promise<ModelVerdict> {
    const question = {
      kind: 'math' as const,
      id: `${step.trajectory}#${step.step}`,
      source: 'judge',
      problem: renderRubric(this.rubric, step),
      answer: '',
    }
    const answer = await sampleTrajectory(
      this.engine,
      this.pool,
      question,
      0,
      { runId: 'judge', settings: this.settings },
      null,
    )
    const parsed = answer.error
      ? { verdict: 'unjudged' as const, reason: answer.error }
      : answer.finishReason === 'stop'
        ? parseVerdict(this.rubric, answer.text, promptOpensThinking(answer.prompt))
        : {
            verdict: 'unjudged' as const,
            reason: `the judge stopped on ${answer.finishReason} before a verdict`,
          }
    return {
      judgement: {
        judge: this.label,
        verdict: parsed.verdict,
        reasons: parsed.reason ? [parsed.reason] : [],
        text: answer.text,
      },
      generatedTokens: answer.tokens.generatedTokens,
    }
  }
}
