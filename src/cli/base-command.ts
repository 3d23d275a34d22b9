import { Command, Errors, Flags } from '@oclif/core'
import { describeError, exitCodeFor } from './errors.js'

/**
 * What every command shares: `--db`, `--json` (the value `run()` returns is the JSON summary),
 * and one place that turns an error into a one-line message and an exit code.
 */
export abstract class BaseCommand extends Command {
  static override enableJsonFlag = true

  static override baseFlags = {
    db: Flags.string({ description: 'run store (SQLite) file', default: './start.db' }),
  }

  /** True when progress may be drawn: not with --json, and the renderer checks for a TTY. */
  protected get showProgress(): boolean {
    return !this.jsonEnabled()
  }

  protected override async catch(error: Error & { exitCode?: number; oclif?: { exit?: number } }) {
    if (error instanceof Errors.ExitError) throw error
    // oclif's own parse errors (unknown flag, missing argument) are usage errors too.
    if (error.oclif?.exit !== undefined && error.name !== 'UsageError') {
      process.stderr.write(`start: ${error.message.split('\n')[0]}\n`)
      this.exit(2)
    }
    process.stderr.write(`start: ${describeError(error)}\n`)
    this.exit(exitCodeFor(error))
  }
}
