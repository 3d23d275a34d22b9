import type { ProgressEvent, ProgressListener } from '../core/events.js'
import type { StageEvent } from '../runner/events.js'
import type { PlanStepReport } from '../runner/plan.js'

/** A plain progress line at most this often when stderr is a log, not a terminal. */
export const LOG_INTERVAL_MS = 30_000

/**
 * Draws a stage's progress on stderr: a bar redrawn in place on a terminal; off a terminal (nohup, CI)
 * a plain line when the stage starts, at most every 30 s, and when it ends; nothing when `quiet`.
 */
export function progressRenderer(
  label: string,
  options: { quiet: boolean; stream?: NodeJS.WritableStream & { isTTY?: boolean }; intervalMs?: number },
): ProgressListener & { end(): void; line(text: string): void } {
  const stream = options.stream ?? process.stderr
  const terminal = stream.isTTY === true
  const interval = options.intervalMs ?? LOG_INTERVAL_MS
  let started = Date.now()
  let last = Number.NEGATIVE_INFINITY
  let latest: ProgressEvent | undefined
  let printed: ProgressEvent | undefined
  let drawn = false
  const describe = (event: ProgressEvent) => {
    const seconds = (Date.now() - started) / 1000
    const rate = event.done / Math.max(seconds, 1e-3)
    const of = event.total === undefined ? '' : `/${event.total}`
    const eta =
      event.total === undefined || rate === 0 ? '' : ` eta ${Math.ceil((event.total - event.done) / rate)}s`
    return `${label} ${event.done}${of} ${rate.toFixed(1)}/s${eta}${event.detail ? ` ${event.detail}` : ''}`
  }
  const render = (event: ProgressEvent) => {
    latest = event
    if (options.quiet) return
    const now = Date.now()
    if (terminal) {
      if (now - last < 100 && event.done !== event.total) return
      last = now
      drawn = true
      stream.write(`\r\x1b[2K${describe(event)}`)
    } else if (now - last >= interval) {
      last = now
      printed = event
      stream.write(`${describe(event)}\n`)
    }
  }
  return Object.assign(render, {
    end() {
      if (options.quiet) return
      if (terminal && drawn) stream.write('\n')
      // Off a terminal the last figures are written once more, unless they were the last line written.
      else if (!terminal && latest && latest !== printed) stream.write(`${describe(latest)} done\n`)
      drawn = false
      latest = undefined
      started = Date.now()
    },
    /** A line of its own (a step starting or ending), between progress updates. */
    line(text: string) {
      if (options.quiet) return
      if (terminal && drawn) stream.write('\n')
      drawn = false
      stream.write(`${text}\n`)
    },
  })
}

export type Progress = ReturnType<typeof progressRenderer>

/** Where the renderer writes a notice and an invalid record: the command's own stderr lines. */
export interface EventLines {
  notice(text: string): void
  warn(text: string): void
}

/**
 * Draws a stage's events: progress on the bar or log line, plan step lines (start, skipped, done), the
 * optimiser's steps, notices, and the records skipped as invalid.
 */
export function stageEventRenderer(progress: Progress, lines: EventLines): (event: StageEvent) => void {
  return (event) => {
    switch (event.kind) {
      case 'progress': {
        const { kind: _, ...figures } = event
        return progress(figures)
      }
      case 'notice':
        return lines.notice(event.text)
      case 'invalid':
        return lines.warn(event.message)
      case 'optimiser-step': {
        const { reward, accuracy, toolCallsPerRollout } = event.metrics
        // RL steps carry rewards; fine-tuning steps a loss (and none on a step that logged no loss).
        if (reward === undefined && event.loss === undefined) return
        const loss = `loss ${fixed(event.loss, 4)}`
        return progress({
          done: event.step,
          total: event.maxSteps,
          detail:
            reward === undefined
              ? loss
              : `reward ${fixed(reward, 3)}, accuracy ${fixed(accuracy, 2)}, tools ${fixed(toolCallsPerRollout, 2)}, ${loss}`,
        })
      }
      case 'step-start':
        return progress.line(`${event.step.id}: ${event.step.description}...`)
      case 'step-skip':
        return progress.line(`${event.step.id}: done before, skipped`)
      case 'step-done':
        progress.end()
        return progress.line(`${event.step.id}: done in ${event.seconds.toFixed(1)} s`)
    }
  }
}

function fixed(value: number | undefined, digits: number): string {
  return value === undefined ? '-' : value.toFixed(digits)
}

/** The lines of `--dry-run`: each step, whether it is done, and what it makes. */
export function planLines(steps: PlanStepReport[]): string[] {
  return steps.map((step) => `[${step.status}] ${step.id}: ${step.description} -> ${step.outputs.join(', ')}`)
}
