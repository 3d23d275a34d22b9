import type { OptionSpecs, OptionValues } from '../core/options.js'
import type { HyperParameters } from './trainer.js'

/** Peak learning rate of SFT. */
export const DEFAULT_LR = 1e-5
/** GGUF tensor types an export may use. */
export const OUTTYPES = ['f32', 'f16', 'bf16', 'q8_0'] as const

/** How the trainer fine-tunes: `start rft`'s training flags, the config's `rft.stage1:` / `rft.stage2:` keys. */
export const TRAINING_OPTIONS = {
  epochs: { kind: 'number', min: 0, default: 3, description: 'training epochs' },
  maxSteps: {
    kind: 'integer',
    min: 0,
    default: 0,
    description: 'stop after N optimizer steps (0: the epochs decide)',
  },
  lr: { kind: 'number', min: 0, default: DEFAULT_LR, description: 'peak learning rate' },
  schedule: { kind: 'string', default: 'cosine', description: 'learning-rate schedule (transformers names)' },
  warmupSteps: { kind: 'integer', min: 0, default: 0, description: 'warm-up steps' },
  batchSize: { kind: 'integer', min: 1, default: 1, description: 'sequences per device per step' },
  gradAccum: { kind: 'integer', min: 1, default: 8, description: 'gradient accumulation steps' },
  maxLength: { kind: 'integer', min: 16, default: 4096, description: 'longest training sequence in tokens' },
  packing: { kind: 'boolean', default: false, description: 'pack sequences into --max-length rows' },
  lora: {
    kind: 'boolean',
    default: false,
    description: 'train a LoRA adapter (merged for export) instead of all weights',
  },
  loraR: { kind: 'integer', min: 1, default: 16, description: 'LoRA rank' },
  loraAlpha: { kind: 'integer', min: 1, default: 32, description: 'LoRA alpha' },
  trainSeed: { kind: 'integer', min: 0, default: 0, description: 'training seed' },
  outtype: {
    kind: 'string',
    options: OUTTYPES,
    default: 'f16',
    description: 'GGUF tensor type of the exports',
  },
  numProcesses: {
    kind: 'integer',
    min: 1,
    default: 1,
    description: 'processes for accelerate launch (GPUs)',
  },
  accelerateConfig: {
    kind: 'string',
    path: true,
    description: 'accelerate config file (FSDP, several machines)',
  },
  venv: { kind: 'string', path: true, description: "the trainer's virtualenv (default: start setup's)" },
} as const satisfies OptionSpecs

export type TrainingSettings = OptionValues<typeof TRAINING_OPTIONS>

export function toHyperParameters(settings: TrainingSettings): HyperParameters {
  return {
    epochs: settings.epochs,
    maxSteps: settings.maxSteps,
    lr: settings.lr,
    schedule: settings.schedule,
    warmupSteps: settings.warmupSteps,
    batchSize: settings.batchSize,
    gradAccum: settings.gradAccum,
    maxLength: settings.maxLength,
    packing: settings.packing,
    lora: settings.lora ? { r: settings.loraR, alpha: settings.loraAlpha } : null,
    seed: settings.trainSeed,
  }
}
