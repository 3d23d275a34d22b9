import { Flags } from '@oclif/core'
import { BaseCommand } from '../cli/base-command.js'
import { PIPELINE_STAGES, type PipelineStage, runPipeline } from '../pipeline/run-pipeline.js'

export default class Pipeline extends BaseCommand {
  static override summary =
    'The whole START loop from one config: hint-infer, filter, rft 1 and 2, eval, report'

  static override description =
    `Reads start.config.yaml (or .json; validated, paths relative to it) and runs: hint-infer with
hints and without, filter (D_seed), rft stage 1 (START-0), rft stage 2 (START), eval of base, START-0 and
START, and the report. The config's run id ties the stages together; each stage is resumable, and a
rerun skips the stages already done. The stages are also commands of their own that chain through pipes.`

  static override examples = [
    'start pipeline --config start.config.yaml',
    'start pipeline --config start.config.yaml --until filter --json',
  ]

  static override flags = {
    config: Flags.string({
      char: 'c',
      description: 'pipeline config (YAML or JSON)',
      default: 'start.config.yaml',
    }),
    until: Flags.string({ description: 'stop after this stage', options: [...PIPELINE_STAGES] }),
  }

  async run() {
    const { flags } = await this.parse(Pipeline)
    const summary = await runPipeline({
      config: flags.config,
      db: flags.db,
      toolVersion: this.config.version,
      until: flags.until as PipelineStage | undefined,
      onStage: (stage, status) => {
        if (this.showProgress && process.stderr.isTTY) this.logToStderr(`${stage}: ${status}`)
      },
    })
    if (!this.jsonEnabled()) {
      this.logToStderr(
        `pipeline ${summary.run}: ${summary.stages.map((s) => `${s.stage} ${s.status}`).join(', ')}`,
      )
      if (summary.summary) this.log(summary.summary)
    }
    return summary
  }
}
