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
  return error instanceof UsageError || pathProblem(error) ? EXIT_USAGE : EXIT_FAILURE
}

/** The one line the user sees; a stack only with DEBUG=start. */
export function describeError(error: unknown): string {
  if (error instanceof UsageError) return error.hint ? `${error.message}\n  ${error.hint}` : error.message
  const problem = pathProblem(error)
  if (problem && !process.env.DEBUG?.includes('start')) return problem
  if (error instanceof Error)
    return process.env.DEBUG?.includes('start') ? String(error.stack) : error.message
  return String(error)
}

/** What a file system refusal means, for the path the user gave. */
const PATH_PROBLEMS: Record<string, string> = {
  EEXIST: 'exists already (and is not what is needed here)',
  ENOTDIR: 'a part of the path is a file, not a directory',
  EISDIR: 'is a directory, where a file is needed',
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'is on a read-only file system',
}

/** A file system refusal on a path (a raw EEXIST, ENOTDIR, EROFS...) as one line naming the path. */
function pathProblem(error: unknown): string | undefined {
  const { code, path } = (error ?? {}) as { code?: unknown; path?: unknown }
  if (typeof code !== 'string' || typeof path !== 'string' || !PATH_PROBLEMS[code]) return undefined
  return `${path}: ${PATH_PROBLEMS[code]} (${code})`
}
