import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../cli/base-command.js'
import { runReport } from '../eval/run-report.js'

export default class Report extends BaseCommand {
  static override summary =
    'One self-contained HTML report (plots) and a markdown summary of start eval results and start rl training curves'

  static override description =
    `Reads the JSONL rows start eval writes and draws accuracy by model and mode with 95%
intervals, the test-time scaling curve (accuracy against end-of-thinking hints), tool-use rate, tool calls per
trajectory, response length and hint efficacy, and from start rl's metrics.jsonl the training curves per
step (reward, accuracy, tool calls, response length, masked share, zero-variance groups, KL, loss), and from
hint library versions (.json, as start hints evolve writes them) each hint's efficacy side by side with its
interval and the lineage, in one HTML file that needs no network to view. --markdown
writes the table for CI logs (- for stdout).`

  static override examples = [
    'start report eval.jsonl --out report.html --markdown -',
    'start report eval.jsonl rl/metrics.jsonl --out report.html',
    'start report hint-library/start.json evolved/hint-library/start-g1.json --out hints.html',
  ]

  static override strict = false

  static override args = {
    inputs: Args.string({
      description: 'eval JSONL, start rl metrics.jsonl or hint library .json files or globs (- for stdin)',
      default: '-',
      ignoreStdin: true,
    }),
  }

  static override flags = {
    out: Flags.string({ char: 'o', description: 'the HTML file', default: 'report.html' }),
    markdown: Flags.string({ description: 'also write the markdown summary here (- for stdout)' }),
    title: Flags.string({ description: 'page title', default: 'START evaluation' }),
  }

  async run() {
    const { args, argv, flags } = await this.parse(Report)
    const result = await runReport({
      inputs: argv.length > 0 ? (argv as string[]) : [args.inputs],
      out: flags.out,
      markdown: flags.markdown,
      title: flags.title,
    })
    if (flags.markdown === '-') process.stdout.write(result.markdown)
    if (!this.jsonEnabled())
      this.logToStderr(
        `report: ${result.rows} eval rows, ${result.steps} training steps, ${result.libraries} hint libraries -> ${result.out}`,
      )
    return { out: result.out, rows: result.rows, steps: result.steps, libraries: result.libraries }
  }
}
