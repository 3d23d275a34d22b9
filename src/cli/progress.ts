/**
 * Progress is a stream of events from the stages; this renders them on stderr, and only
 * when stderr is a terminal (CI logs and pipes stay clean), never with --json.
 */
export interface ProgressEvent {
  done: number
  total?: number
  /** Short extra figures, e.g. "12 failed". */
  detail?: string
}

export type ProgressListener = (event: ProgressEvent) => void

export function progressRenderer(label: string, enabled: boolean): ProgressListener & { end(): void } {
  const stream = process.stderr
  const active = enabled && stream.isTTY === true
  const started = Date.now()
  let last = 0
  const render = (event: ProgressEvent) => {
    const now = Date.now()
    if (!active || (now - last < 100 && event.done !== event.total)) return
    last = now
    const seconds = (now - started) / 1000
    const rate = event.done / Math.max(seconds, 1e-3)
    const of = event.total === undefined ? '' : `/${event.total}`
    const eta =
      event.total === undefined || rate === 0 ? '' : ` eta ${Math.ceil((event.total - event.done) / rate)}s`
    stream.write(
      `\r\x1b[2K${label} ${event.done}${of} ${rate.toFixed(1)}/s${eta}${event.detail ? ` ${event.detail}` : ''}`,
    )
  }
  return Object.assign(render, {
    end() {
      if (active) stream.write('\n')
    },
  })
}
