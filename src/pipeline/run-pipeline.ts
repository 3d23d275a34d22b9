import { existsSync, readFileSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { dirname, isAbsolute, join, resolve } from 'node:path'
import { UsageError } from '../cli/errors.js'
import { writeFirstRecords } from '../cli/jsonl.js'
import { runStage } from '../cli/stage-run.js'
import { evalModes, runEval } from '../eval/run-eval.js'
import { runReport } from '../eval/run-report.js'
import { runFilter } from '../filter/run-filter.js'
import { DEFAULT_FILTER_POLICY } from '../filter/types.js'
import { DEFAULT_HINT_POLICY } from '../inference/hint-policy.js'
import {
  DEFAULT_CODE_PROMPT,
  DEFAULT_MATH_PROMPT,
  DEFAULT_MAX_OUTPUT_CHARS,
  DEFAULT_MAX_TOOL_CALLS,
  runHintInfer,
} from '../inference/run-hint-infer.js'
import { rftLayout } from '../rft/plan.js'
import { runRft } from '../rft/run-rft.js'
import { fingerprint } from '../util/fingerprint.js'
import { type PipelineConfig, parseConfig, type Training } from './config.js'

export const PIPELINE_STAGES = ['hinted', 'plain', 'filter', 'rft-1', 'rft-2', 'eval', 'report'] as const
export type PipelineStage = (typeof PIPELINE_STAGES)[number]

export interface PipelineOptions {
  config: string
  db: string
  toolVersion: string
  /** Stop after this stage. */
  until?: PipelineStage
  onStage?: (stage: PipelineStage, status: 'start' | 'skip' | 'done') => void
}

export interface PipelineSummary {
  run: string
  out: string
  stages: { stage: PipelineStage; status: 'done' | 'skipped' }[]
  report?: string
  summary?: string
}

/**
 * `start pipeline`: hint-infer with and without hints -> filter -> rft stage 1 -> rft stage 2 -> eval ->
 * report. One run id ties them: the pipeline's own run records finished stages, and each stage's run is
 * `<run>-<stage>`, resumable on its own.
 */
export async function runPipeline(options: PipelineOptions): Promise<PipelineSummary> {
  if (!existsSync(options.config)) throw new UsageError(`--config ${options.config}: no such file`)
  const config = resolvePaths(
    parseConfig(readFileSync(options.config, 'utf8'), options.config),
    dirname(options.config),
  )
  const paths = {
    problems: join(config.out, 'problems.jsonl'),
    hinted: join(config.out, 'hinted.jsonl'),
    plain: join(config.out, 'plain.jsonl'),
    dSeed: join(config.out, 'd_seed.jsonl'),
    rft: join(config.out, 'rft'),
    eval: join(config.out, 'eval.jsonl'),
    report: join(config.out, 'report.html'),
    summary: join(config.out, 'summary.md'),
  }
  const common = { db: options.db, toolVersion: options.toolVersion, flags: { config: options.config } }
  const sandbox = {}
  const layout = rftLayout(paths.rft, config.model)
  return runStage(
    { ...common, runId: config.run, command: 'pipeline', out: undefined },
    async ({ store, finished }) => {
      await mkdir(config.out, { recursive: true })
      const summary: PipelineSummary = { run: config.run, out: config.out, stages: [] }
      const stages: Record<
        PipelineStage,
        { inputs: string[]; outputs: string[]; run: () => Promise<unknown> }
      > = {
        hinted: {
          inputs: [config.problems, config.model],
          outputs: [paths.hinted],
          run: () => sample(paths.hinted, true),
        },
        plain: {
          inputs: [config.problems, config.model],
          outputs: [paths.plain],
          run: () => sample(paths.plain, false),
        },
        filter: {
          inputs: [paths.hinted, paths.plain],
          outputs: [paths.dSeed],
          run: () =>
            runFilter({
              ...common,
              inputs: [paths.hinted],
              plain: config.filter.rule === 'hint-gain' ? [paths.plain] : [],
              policy: {
                ...DEFAULT_FILTER_POLICY,
                rule: config.filter.rule,
                perProblem: config.filter.perProblem,
              },
              decontaminate: config.filter.decontaminate,
              dropHints: false,
              sandbox,
              out: paths.dSeed,
              runId: `${config.run}-filter`,
            }),
        },
        'rft-1': {
          inputs: [paths.dSeed],
          outputs: [layout.start0Gguf],
          run: () => rft(1, config.rft.stage1),
        },
        'rft-2': {
          inputs: [layout.start0Gguf],
          outputs: [layout.startGguf],
          run: () => rft(2, config.rft.stage2),
        },
        eval: {
          inputs: [config.model, layout.start0Gguf, layout.startGguf],
          outputs: [paths.eval],
          run: () =>
            runEval({
              ...common,
              models: [config.model, layout.start0Gguf, layout.startGguf],
              benchmarks: config.eval.benchmarks,
              dataDir: config.eval.data,
              samples: config.eval.samples,
              modes: evalModes(config.eval.modes, config.eval.thinkHints),
              limit: config.eval.limit,
              tracesDir: join(config.out, 'eval-traces'),
              inference: {
                ...inference(config.eval.temperature, config.eval.maxTokens),
                mathPrompt: config.promptTemplate ?? DEFAULT_MATH_PROMPT,
                codePrompt: DEFAULT_CODE_PROMPT,
              },
              sandbox,
              out: paths.eval,
              runId: `${config.run}-eval`,
            }),
        },
        report: {
          inputs: [paths.eval],
          outputs: [paths.report, paths.summary],
          run: async () => {
            const report = await runReport({
              inputs: [paths.eval],
              out: paths.report,
              markdown: paths.summary,
            })
            summary.report = paths.report
            summary.summary = report.markdown
            return { rows: report.rows }
          },
        },
      }

      async function sample(out: string, hinted: boolean) {
        return runHintInfer({
          ...common,
          problems: [await problemSubset(config.problems, config.limit, paths.problems)],
          model: config.model,
          parallel: 1,
          samples: config.hintInfer.samples,
          sampling: { temperature: config.hintInfer.temperature, topP: 0.95, seed: 0 },
          hints: hinted
            ? {
                policy: {
                  ...DEFAULT_HINT_POLICY,
                  thinkHints: config.hintInfer.thinkHints,
                  maxConnectiveHints: config.hintInfer.connectiveHints,
                },
              }
            : null,
          maxTokens: config.hintInfer.maxTokens,
          maxToolCalls: DEFAULT_MAX_TOOL_CALLS,
          maxOutputChars: DEFAULT_MAX_OUTPUT_CHARS,
          mathPrompt: config.promptTemplate ?? DEFAULT_MATH_PROMPT,
          codePrompt: DEFAULT_CODE_PROMPT,
          threads: config.threads,
          skipInvalid: false,
          sandbox,
          out,
          runId: `${config.run}-${hinted ? 'hinted' : 'plain'}`,
        })
      }

      function inference(temperature: number, maxTokens: number) {
        return { temperature, topP: 0.95, seed: 0, maxTokens, parallel: 1, threads: config.threads }
      }

      async function rft(stage: 1 | 2, training: Training) {
        const stage2 = config.rft.stage2
        const pool =
          stage === 2
            ? await problemSubset(
                stage2.problems ?? config.problems,
                stage2.limit,
                join(config.out, 'pool.jsonl'),
              )
            : undefined
        return runRft({
          ...common,
          stage,
          base: config.model,
          out: paths.rft,
          data: paths.dSeed,
          problems: pool ? [pool] : undefined,
          from: 'base',
          hyper: {
            epochs: training.epochs,
            maxSteps: training.maxSteps,
            lr: training.lr,
            schedule: 'cosine',
            warmupSteps: 0,
            batchSize: training.batchSize,
            gradAccum: training.gradAccum,
            maxLength: 4096,
            packing: false,
            lora: null,
            seed: 0,
          },
          outtype: training.outtype,
          sampling: {
            samples: stage2.samples,
            parallel: 1,
            maxTokens: stage2.maxTokens,
            mathPrompt: config.promptTemplate ?? DEFAULT_MATH_PROMPT,
            threads: config.threads,
            temperature: stage2.temperature,
            topP: 0.95,
            seed: 0,
            hints: stage2.hints ? { ...DEFAULT_HINT_POLICY, thinkHints: stage2.thinkHints } : null,
          },
          selection: { perProblem: stage2.perProblem, maxToolCalls: 6 },
          sandbox,
          dryRun: false,
          runId: `${config.run}-rft-${stage}`,
        })
      }

      for (const stage of PIPELINE_STAGES) {
        const { inputs, outputs, run } = stages[stage]
        // Done when its outputs are there and were made from the inputs as they are now.
        const fingerprinted = fingerprint(inputs)
        const record = finished.get(stage) as { inputs?: string } | undefined
        if (record?.inputs === fingerprinted && outputs.every((output) => existsSync(output))) {
          options.onStage?.(stage, 'skip')
          summary.stages.push({ stage, status: 'skipped' })
        } else {
          options.onStage?.(stage, 'start')
          const result = await run()
          store.completeUnit(config.run, stage, { ...(result as object), inputs: fingerprint(inputs) })
          options.onStage?.(stage, 'done')
          summary.stages.push({ stage, status: 'done' })
        }
        if (stage === options.until) break
      }
      return summary
    },
  )
}

/** The first `limit` problems in a file of their own (written once), or the file itself. */
async function problemSubset(file: string, limit: number | undefined, target: string): Promise<string> {
  if (!limit) return file
  return existsSync(target) ? target : writeFirstRecords(file, limit, target)
}

function resolvePaths(config: PipelineConfig, base: string): PipelineConfig {
  const at = (path: string) => (isAbsolute(path) || /^[a-z]+:/.test(path) ? path : resolve(base, path))
  const benchmark = (name: string) => (name.includes('/') || name.endsWith('.jsonl') ? at(name) : name)
  return {
    ...config,
    out: at(config.out),
    model: at(config.model),
    problems: at(config.problems),
    filter: { ...config.filter, decontaminate: config.filter.decontaminate.map(at) },
    rft: {
      ...config.rft,
      stage2: {
        ...config.rft.stage2,
        problems: config.rft.stage2.problems && at(config.rft.stage2.problems),
      },
    },
    eval: {
      ...config.eval,
      benchmarks: config.eval.benchmarks.map(benchmark),
      data: config.eval.data && at(config.eval.data),
    },
  }
}
