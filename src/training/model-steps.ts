import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { UsageError } from '../core/errors.js'
import { checkGgufFile } from '../inference/gguf-file.js'
import type { PlanStep } from '../runner/plan.js'
import { setParents } from '../store/lineage.js'
import type { Db } from '../store/store.js'
import { checkpointExists, type TrlTrainer } from './trainer.js'

/**
 * The plan steps every training command shares (`start rft`, `start rl`, and through rft the pipeline's
 * SWiRL models): the base checked, a GGUF base converted for the trainer, the trained checkpoint exported
 * back to GGUF with its lineage, and a run id that a rerun into the same directory finds again.
 */

export function isGguf(path: string): boolean {
  return path.toLowerCase().endsWith('.gguf')
}

/** `--base`: a GGUF file with a sound header, or a Hugging Face checkpoint. */
export function checkBaseModel(base: string): void {
  if (!existsSync(base)) throw new UsageError(`--base ${base}: no such file or directory`)
  if (isGguf(base)) checkGgufFile(base, '--base')
  else if (!checkpointExists(base)) {
    throw new UsageError(`--base ${base}: not a GGUF file nor a Hugging Face checkpoint (no config.json)`)
  }
}

/** A GGUF base is first converted to a Hugging Face checkpoint for the trainer; a checkpoint needs nothing. */
export function baseHfSteps(base: string, baseHf: string): (Omit<PlanStep, 'run'> & { id: 'base-hf' })[] {
  if (!isGguf(base)) return []
  return [
    {
      id: 'base-hf',
      description: 'convert the GGUF base model to a Hugging Face checkpoint',
      inputs: [base],
      outputs: [baseHf],
      // The conversion depends on the base file alone, so later stages reuse it.
      currentWhenOutputsExist: true,
    },
  ]
}

export async function convertBase(trainer: TrlTrainer, base: string, baseHf: string, log: string) {
  await trainer.ggufToHf(resolve(base), baseHf, log)
  return {}
}

/**
 * The trained checkpoint as a GGUF file, tokenized as the GGUF base was (its vocabulary travels with the
 * export), recorded as the checkpoint's child.
 */
export async function exportModel(
  trainer: TrlTrainer,
  db: Db,
  model: { checkpoint: string; gguf: string; base: string; outtype: string; log: string },
) {
  await trainer.exportGguf(model.checkpoint, model.gguf, {
    outtype: model.outtype,
    tokenizerFrom: isGguf(model.base) ? resolve(model.base) : undefined,
    log: model.log,
  })
  setParents(db, { kind: 'model', id: resolve(model.gguf) }, [
    { kind: 'model', id: resolve(model.checkpoint) },
  ])
  return { gguf: model.gguf }
}
