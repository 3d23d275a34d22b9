import { Flags } from '@oclif/core'
import { BaseCommand, describeSettings } from '../cli/base-command.js'
import { flagsFor, settingsFrom } from '../cli/flags.js'
import { UsageError } from '../core/errors.js'
import { EXPORT_OPTIONS } from '../export/options.js'
import { runExport } from '../export/run-export.js'

export default class Export extends BaseCommand {
  static override summary =
    'Hand RL to another trainer: verl dataset, agent loop, reward function and command'

  static override description =
    `--format verl writes to --out: train.parquet (and val.parquet) in verl's RL fields (prompt
messages, reward_model.ground_truth, extra_info, agent_name), start_verl.py with an agent loop that runs
START's rollout loop on verl's vLLM/SGLang servers (code on a SandboxFusion API, output and hints masked
from the loss) and a reward function with start grade's rules (both served by start sandbox serve
--port), start_verl.json (the loop's settings), agent_loop.yaml, and run_verl.sh, the verl command line
(Ray; FSDP or Megatron; vLLM or SGLang rollouts).`

  static override examples = [
    'start export --format verl --problems train.jsonl --val dev.jsonl --out verl/',
    'start export --format verl --problems train.jsonl --out verl/ --hints --sandbox-url http://sandbox:8080',
  ]

  static override flags = {
    problems: Flags.string({ description: 'problems (JSONL files or globs)', multiple: true }),
    val: Flags.string({ description: 'validation problems (JSONL files or globs)', multiple: true }),
    out: Flags.string({ char: 'o', description: 'directory the export is written to' }),
    ...flagsFor(EXPORT_OPTIONS),
  }

  async run() {
    const { flags } = await this.parse(Export)
    if (!flags.problems?.length) throw new UsageError('--problems: required (the problems RL trains on)')
    if (!flags.out) throw new UsageError('--out: required (the directory the export goes to)')
    const settings = settingsFrom(EXPORT_OPTIONS, flags)
    const summary = await runExport({ problems: flags.problems, val: flags.val, out: flags.out, settings })
    this.say(
      `export ${summary.format}: ${summary.train} train, ${summary.val} val -> ${summary.out} (${summary.files.join(', ')})`,
    )
    this.say(`settings: ${describeSettings(settings)}`)
    return { ...summary, settings }
  }
}
