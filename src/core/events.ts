/**
 * What a stage reports while it runs. The stage emits; the CLI decides how to show it (a bar on a
 * terminal, a plain line at most every 30 s in a log, nothing with --quiet or --json).
 */
export interface ProgressEvent {
  done: number
  total?: number
  /** Short extra figures, e.g. "12 failed". */
  detail?: string
}

export type ProgressListener = (event: ProgressEvent) => void
