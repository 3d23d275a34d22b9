/**
 * The errors the CLI knows how to report. A `UsageError` is the user's to fix (bad flag, bad
 * input line, missing file) and exits with code 2; anything else is ours and exits with 1.
 */
export class UsageError extends Error {
  /** How to fix it, printed under the message. */
  readonly hint?: string

  constructor(message: string, hint?: string) {
    super(message)
    this.name = 'UsageError'
    this.hint = hint
  }
}

export const EXIT_USAGE = 2
export const EXIT_FAILURE = 1

export function exitCodeFor(error: unknown): number {
  return error instanceof UsageError ? EXIT_USAGE : EXIT_FAILURE
}

/** The one line the user sees; a stack only with DEBUG=start. */
export function describeError(error: unknown): string {
  if (error instanceof UsageError) return error.hint ? `${error.message}\n  ${error.hint}` : error.message
  if (error instanceof Error)
    return process.env.DEBUG?.includes('start') ? String(error.stack) : error.message
  return String(error)
}
