import type { OptionSpecs, OptionValues } from '../core/options.js'
import { GRADING_OPTIONS } from '../grading/options.js'
import { SAMPLING_OPTIONS } from '../inference/options.js'

/** Every mode: without the interpreter, with it, and with end-of-thinking hints. */
/** Every eval mode, all run by default. */
export const EVAL_MODES = ['no-tools', 'tools', 'hints'] as const

/** `start eval`: which benchmarks, modes and samples, and how the model samples. */
export const EVAL_OPTIONS = {
  ...SAMPLING_OPTIONS,
  samples: { ...SAMPLING_OPTIONS.samples, description: 'samples per problem (k of pass@k and maj@k)' },
  benchmarks: {
    kind: 'list',
    path: true,
    split: true,
    description: 'benchmark names (with --data) or JSONL files, comma-separated',
  },
  data: {
    kind: 'string',
    path: true,
    description: 'folder of <name>.jsonl benchmark files (e.g. ../shared/datasets)',
  },
  modes: {
    kind: 'list',
    split: true,
    default: EVAL_MODES,
    description: `comma-separated: ${EVAL_MODES.join(', ')}`,
  },
  thinkHints: {
    kind: 'integer',
    min: 1,
    default: 1,
    description: 'largest number of end-of-thinking hints in the hints modes',
  },
  limit: { kind: 'integer', min: 1, description: 'only the first N problems of each benchmark' },
  lenient: GRADING_OPTIONS.lenient,
  clusterKey: {
    kind: 'string',
    description:
      'a problem field (dotted, e.g. meta.code) whose shape, numbers blanked, makes clusters: intervals and paired tests then count clusters, not problems',
  },
} as const satisfies OptionSpecs

export type EvalSettings = OptionValues<typeof EVAL_OPTIONS>
