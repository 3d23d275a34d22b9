import { BaseCommand } from '../cli/base-command.js'
import { describeRun } from '../cli/runs-table.js'
import { RunStore } from '../store/runs.js'
import { openDatabase } from '../store/store.js'

export default class Runs extends BaseCommand {
  static override summary = 'List the runs in the store: when, how long, where they are, what they counted'

  static override description =
    `One line per run, newest first: id, command, status, start time, duration, the step a multi-step run
is at (rft, pipeline), units done, and the counts of its summary (filter: kept and rejected per reason).`

  static override examples = ['start runs', 'start runs --db work/start.db --json']

  async run() {
    const { flags } = await this.parse(Runs)
    const db = openDatabase(flags.db)
    const runs = new RunStore(db).list()
    db.close()
    if (!this.jsonEnabled()) {
      for (const run of runs) this.log(describeRun(run))
      if (runs.length === 0) this.logToStderr('no runs yet')
    }
    return { runs }
  }
}
