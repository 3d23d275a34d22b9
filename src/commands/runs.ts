import { BaseCommand } from '../cli/base-command.js'
import { RunStore } from '../store/runs.js'
import { openDatabase } from '../store/store.js'

export default class Runs extends BaseCommand {
  static override summary = 'List the runs in the store with their progress'

  static override examples = ['start runs', 'start runs --db work/start.db --json']

  async run() {
    const { flags } = await this.parse(Runs)
    const db = openDatabase(flags.db)
    const runs = new RunStore(db).list()
    db.close()
    if (!this.jsonEnabled()) {
      for (const run of runs) {
        const progress = run.total === null ? `${run.done}` : `${run.done}/${run.total}`
        this.log(`${run.id}\t${run.command}\t${run.status}\t${progress} done\t${run.updatedAt}`)
      }
      if (runs.length === 0) this.logToStderr('no runs yet')
    }
    return { runs }
  }
}
