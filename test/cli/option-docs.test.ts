import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { OPTION_GROUPS, optionDocFiles, renderOptionTables, stagesTable } from '../../src/cli/option-docs.js'
import Eval from '../../src/commands/eval.js'
import Filter from '../../src/commands/filter.js'
import Grade from '../../src/commands/grade.js'
import HintInfer from '../../src/commands/hint-infer.js'
import Rft from '../../src/commands/rft.js'
import Sandbox from '../../src/commands/sandbox/index.js'
import Server from '../../src/commands/server.js'
import { flagName, type OptionSpecs } from '../../src/core/options.js'
import { EVAL_OPTIONS } from '../../src/eval/options.js'
import { FILTER_OPTIONS } from '../../src/filter/options.js'
import { GRADING_OPTIONS } from '../../src/grading/options.js'
import { HINT_INFER_OPTIONS } from '../../src/inference/options.js'
import { SERVER_OPTIONS } from '../../src/llama-server/options.js'
import { PIPELINE_STAGES } from '../../src/pipeline/stages.js'
import { RFT_OPTIONS } from '../../src/rft/options.js'
import { SANDBOX_JOB_OPTIONS, SANDBOX_OPTIONS } from '../../src/sandbox/options.js'

describe('defaults are declared once', () => {
  it("the docs' option tables are the declarations, each group shown once (npm run docs writes them)", () => {
    const texts = optionDocFiles('.').map((file) => readFileSync(file, 'utf8'))
    for (const text of texts) expect(renderOptionTables(text)).toBe(text)
    const all = texts.join('\n')
    for (const group of Object.keys(OPTION_GROUPS)) {
      expect(all.split(`<!-- options: ${group} -->`).length - 1, group).toBe(1)
    }
    expect(all.split('<!-- stages -->').length - 1).toBe(1)
  })

  it("the docs' table of pipeline stages is the stage registry, in order, with each stage's section", () => {
    const rows = stagesTable()
      .split('\n')
      .filter((line) => line.startsWith('| `'))
    expect(rows.map((row) => row.split('`')[1])).toEqual(PIPELINE_STAGES.map((stage) => stage.id))
    expect(rows.find((row) => row.startsWith('| `rl`'))).toContain('with a `rl:` section')
    expect(rows.find((row) => row.startsWith('| `rft-1`'))).toContain('| `rft.stage1:` | always |')
    // the sections no stage owns are named once, below
    expect(stagesTable()).toContain('Read by every stage that runs them: `sandbox:`, `backend:`.')
  })

  it.each([
    ['hint-infer', HintInfer, { ...HINT_INFER_OPTIONS, ...SANDBOX_OPTIONS }],
    ['eval', Eval, { ...EVAL_OPTIONS, ...SANDBOX_OPTIONS }],
    ['rft', Rft, { ...RFT_OPTIONS, ...SANDBOX_OPTIONS }],
    ['filter', Filter, { ...FILTER_OPTIONS, ...GRADING_OPTIONS }],
    ['grade', Grade, GRADING_OPTIONS],
    ['sandbox', Sandbox, { ...SANDBOX_JOB_OPTIONS, ...SANDBOX_OPTIONS }],
    ['server', Server, SERVER_OPTIONS],
  ])('start %s has a flag for each of its options, showing the declared default', (_, command, specs) => {
    const flags = command.flags as Record<
      string,
      { description?: string; default?: unknown; multiple?: boolean }
    >
    for (const [key, spec] of Object.entries(specs as OptionSpecs)) {
      const flag = flags[flagName(key)]
      expect(flag, `--${flagName(key)}`).toBeDefined()
      // No oclif default: a flag not given leaves room for --config before the declared default.
      expect(flag!.default).toBeUndefined()
      // A list flag takes one value each time it is given, leaving the positional arguments after it alone.
      if (spec.kind === 'list') expect(flag).toMatchObject({ multiple: true, multipleNonGreedy: true })
      if (spec.default !== undefined && !(Array.isArray(spec.default) && spec.default.length === 0)) {
        const shown = Array.isArray(spec.default) ? spec.default.join(',') : String(spec.default)
        expect(flag!.description).toContain(`[default: ${shown}]`)
      }
    }
  })
})
