import { Flags } from '@oclif/core'
import { BaseCommand } from '../cli/base-command.js'
import { planLines } from '../cli/progress.js'
import { runPipeline } from '../pipeline/run-pipeline.js'
import { PIPELINE_STAGES, type PipelineStage } from '../pipeline/stages.js'

export default class Pipeline extends BaseCommand {
  static override summary =
    'The whole START loop from one config: hint-infer, filter, rft 1 and 2, rl, eval, report'

  static override description =
    `Reads start.config.yaml (or .json; validated, paths relative to it) and runs: hint-infer with
hints and without, filter (D_seed), rft stage 1 (START-0), rft stage 2 (START), with an rl: section start
rl from START-0 (ReTool), eval of base, START-0, START (and the RL policy), and the report. The config's run id ties the stages together; each stage is resumable, and a
rerun skips the stages whose outputs are current. Each stage command also takes --config, so any stage
can be rerun on its own with the pipeline's settings.`

  static override examples = [
    'start pipeline --config start.config.yaml',
    'start pipeline --config start.config.yaml --until filter --json',
    'start pipeline --config start.config.yaml --dry-run',
  ]

  static override flags = {
    config: Flags.string({
      char: 'c',
      description: 'pipeline config (YAML or JSON)',
      default: 'start.config.yaml',
    }),
    until: Flags.string({
      description: 'stop after this stage',
      options: PIPELINE_STAGES.map((stage) => stage.id),
    }),
    'dry-run': Flags.boolean({
      description: 'print the stages and which are done, and stop',
      default: false,
    }),
  }

  async run() {
    const { flags } = await this.parse(Pipeline)
    const progress = this.progress('pipeline', flags)
    const summary = await runPipeline({
      config: flags.config,
      db: flags.db,
      toolVersion: this.config.version,
      until: flags.until as PipelineStage | undefined,
      dryRun: flags['dry-run'],
      onEvent: this.stageEvents(progress),
    })
    progress.end()
    if (summary.dryRun && !this.jsonEnabled()) {
      for (const line of planLines(summary.stages)) this.log(line)
      return summary
    }
    this.say(`pipeline ${summary.run}: ${summary.stages.map((s) => `${s.id} ${s.status}`).join(', ')}`)
    if (summary.summary && !this.jsonEnabled()) {
      this.log(summary.summary)
      this.log(`report: ${summary.report}`)
    }
    return summary
  }
}
