import type { Db } from './store.js'

/** The columns the store keeps of one execution (the sandbox's results have these fields and more). */
export interface StoredExecution {
  stdout: string
  stderr: string
  exitCode: number | null
  signal: string | null
  timedOut: boolean
  truncated: boolean
  durationMs: number
}

export interface ExecutionRow {
  runId: string
  unitKey: string
  trajectoryId?: number
  block: number
  code: string
  result: StoredExecution
}

export function insertExecution(db: Db, row: ExecutionRow): void {
  db.prepare(
    `INSERT INTO executions (run_id, unit_key, trajectory_id, block, code, stdout, stderr, exit_code, signal,
                             timed_out, truncated, duration_ms)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    row.runId,
    row.unitKey,
    row.trajectoryId ?? null,
    row.block,
    row.code,
    row.result.stdout,
    row.result.stderr,
    row.result.exitCode,
    row.result.signal,
    row.result.timedOut ? 1 : 0,
    row.result.truncated ? 1 : 0,
    row.result.durationMs,
  )
}

export function countExecutions(db: Db, runId: string): number {
  return (db.prepare('SELECT COUNT(*) AS n FROM executions WHERE run_id = ?').get(runId) as { n: number }).n
}
