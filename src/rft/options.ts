import { type OptionSpecs, type OptionValues, withDefaults } from '../core/options.js'
import { HINT_OPTIONS } from '../hints/options.js'
import { SAMPLING_OPTIONS } from '../inference/options.js'
import { TRAINING_OPTIONS } from '../training/options.js'

/** START-0 samples this many solutions per problem in stage 2. */
export const DEFAULT_STAGE2_SAMPLES = 16

/** `start rft`: training, and stage 2's sampling and rejection sampling. */
export const RFT_OPTIONS = {
  ...TRAINING_OPTIONS,
  ...withDefaults(SAMPLING_OPTIONS, { samples: DEFAULT_STAGE2_SAMPLES }),
  from: {
    kind: 'string',
    options: ['base', 'start-0'],
    default: 'base',
    description: 'stage 2: fine-tune the base (as START) or continue from START-0',
  },
  hints: { kind: 'boolean', default: false, description: 'stage 2: sample with hints (off, as START)' },
  thinkHints: HINT_OPTIONS.thinkHints,
  perProblem: { kind: 'integer', min: 1, default: 1, description: 'stage 2: most samples kept per problem' },
} as const satisfies OptionSpecs

export type RftSettings = OptionValues<typeof RFT_OPTIONS>
