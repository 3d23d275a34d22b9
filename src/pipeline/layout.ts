import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { writeFirstRecords } from '../core/jsonl.js'
import { rftLayout } from '../rft/plan.js'
import type { PipelineConfig } from './config.js'

/** Where the pipeline writes each artifact under the config's `out`; stage commands with --config read them. */
export function pipelinePaths(config: PipelineConfig) {
  const rft = join(config.out, 'rft')
  return {
    problems: join(config.out, 'problems.jsonl'),
    pool: join(config.out, 'pool.jsonl'),
    hinted: join(config.out, 'hinted.jsonl'),
    plain: join(config.out, 'plain.jsonl'),
    dSeed: join(config.out, 'd_seed.jsonl'),
    rft,
    layout: rftLayout(rft, config.model),
    rl: join(config.out, 'rl'),
    rlGguf: join(config.out, 'rl', 'rl.gguf'),
    eval: join(config.out, 'eval.jsonl'),
    evalTraces: join(config.out, 'eval-traces'),
    report: join(config.out, 'report.html'),
    summary: join(config.out, 'summary.md'),
  }
}

/** The models the pipeline evaluates: the base, START-0, START, and with an `rl:` section the RL policy. */
export function pipelineModels(config: PipelineConfig): string[] {
  const { layout, rlGguf } = pipelinePaths(config)
  return [config.model, layout.start0Gguf, layout.startGguf, ...(config.rl ? [rlGguf] : [])]
}

/** The first `limit` records of `file` in a file of their own (written once), or the file itself. */
export async function problemSubset(
  file: string,
  limit: number | undefined,
  target: string,
): Promise<string> {
  if (!limit) return file
  if (existsSync(target)) return target
  await mkdir(dirname(target), { recursive: true })
  return writeFirstRecords(file, limit, target)
}

/** The problems hint-infer samples for D_seed (the config's `problems`, first `limit`). */
export function configProblems(config: PipelineConfig): Promise<string> {
  return problemSubset(config.problems, config.limit, pipelinePaths(config).problems)
}

/** Stage 2's problem pool (`rft.stage2.problems`, else `problems`; first `rft.stage2.limit`). */
export function configPool(config: PipelineConfig): Promise<string> {
  return problemSubset(config.pool.problems, config.pool.limit, pipelinePaths(config).pool)
}
