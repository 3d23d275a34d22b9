import { Command, Errors, Flags } from '@oclif/core'
import { describeError, exitCodeFor } from '../core/errors.js'
import { newRunId } from '../core/run-id.js'
import { type Progress, progressRenderer, stageEventRenderer } from './progress.js'

/**
 * What every command shares: `--db`, `--json` (the value `run()` returns is the JSON summary),
 * `--quiet`, and one place that turns an error into a one-line message and an exit code.
 */
export abstract class BaseCommand extends Command {
  static override enableJsonFlag = true

  static override baseFlags = {
    db: Flags.string({ description: 'run store (SQLite) file', default: './start.db' }),
    quiet: Flags.boolean({ description: 'no progress on stderr', default: false }),
  }

  /** Progress on stderr for this command: silenced by --quiet and --json. */
  protected progress(label: string, flags: { quiet?: boolean }) {
    return progressRenderer(label, { quiet: flags.quiet === true || this.jsonEnabled() })
  }

  /**
   * What a command that streams JSONL files (or stdin) through one resumable stage passes it: the inputs,
   * the run id (`--run`, else a new one named after the command), the store, and a progress display.
   */
  protected streamingStage(
    command: string,
    inputs: string[],
    flags: { run?: string; out?: string; db: string; quiet?: boolean },
  ) {
    const runId = flags.run ?? newRunId(command)
    const progress = this.progress(`${command} ${runId}`, flags)
    const options = {
      inputs,
      out: flags.out,
      db: flags.db,
      runId,
      flags: { ...flags, inputs },
      toolVersion: this.config.version,
      onEvent: this.stageEvents(progress),
    }
    return { options, progress }
  }

  /** A stage's events as this command shows them: the progress display, notices and warnings on stderr. */
  protected stageEvents(progress: Progress) {
    return stageEventRenderer(progress, {
      notice: (text) => this.notice(text),
      warn: (text) => this.warn(text),
    })
  }

  /** A human summary line on stderr (not with --json, whose summary is stdout). */
  protected say(line: string): void {
    if (!this.jsonEnabled()) this.logToStderr(line)
  }

  /** A warning on stderr that --json does not silence (stdout holds the summary): retries, server notices. */
  protected notice(line: string): void {
    process.stderr.write(`start: ${line}\n`)
  }

  protected override async catch(error: Error & { exitCode?: number; oclif?: { exit?: number } }) {
    if (error instanceof Errors.ExitError) throw error
    // oclif's own parse errors (unknown flag, missing argument) are usage errors too.
    if (error.oclif?.exit !== undefined && error.name !== 'UsageError') {
      process.stderr.write(`start: ${oneLine(error.message)}\n`)
      this.exit(2)
    }
    process.stderr.write(`start: ${describeError(error)}\n`)
    this.exit(exitCodeFor(error))
  }
}

/**
 * oclif's parse error on one line, whole: "Parsing --port Expected an integer less than or equal to
 * 65535 but received: 70000" (its first line alone said only "Parsing --port"), without the help pointer.
 */
function oneLine(message: string): string {
  return message
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !/^See more help with --help/.test(line))
    .join(' ')
}

/** The settings a summary line shows: `key=value`, long texts cut, texts with spaces quoted. */
export function describeSettings(settings: Record<string, unknown>): string {
  return Object.entries(settings)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => {
      const full = Array.isArray(value) ? value.join(',') : String(value)
      const text = full.length > 40 ? `${full.slice(0, 37)}...` : full
      return `${key}=${/\s/.test(text) ? JSON.stringify(text) : text}`
    })
    .join(' ')
}

/** The backend settings worth showing: none in process; the server's otherwise. */
export function servedSettings(
  backend: Record<string, unknown> & { backend: string },
): Record<string, unknown> {
  return backend.backend === 'llama-cpp' ? {} : backend
}
