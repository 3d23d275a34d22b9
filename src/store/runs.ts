import { hostname } from 'node:os'
import { UsageError } from '../core/errors.js'
import { isProcessAlive } from '../core/process-alive.js'
import { type Db, now } from './store.js'

export type RunStatus = 'running' | 'done' | 'failed' | 'interrupted'

export interface RunInfo {
  id: string
  command: string
  flags: Record<string, unknown>
  model: string | null
  toolVersion: string
  status: RunStatus
  total: number | null
  done: number
  error: string | null
  /** The step a multi-step run (rft, pipeline) is at, or last ran. */
  stage: string | null
  /** The numbers of the run's summary when it ended (filter: kept, and rejected per reason). */
  counts: Record<string, unknown> | null
  createdAt: string
  updatedAt: string
}

export interface RunStart {
  id: string
  command: string
  flags: Record<string, unknown>
  model?: string
  toolVersion: string
}

interface RunRow {
  id: string
  command: string
  flags: string
  model: string | null
  tool_version: string
  status: RunStatus
  total: number | null
  error: string | null
  stage: string | null
  counts: string | null
  created_at: string
  updated_at: string
  done: number
  pid: number | null
  host: string | null
}

/** Runs and their finished units of work: what makes every stage resumable. */
export class RunStore {
  constructor(private readonly db: Db) {}

  /** Starts a run, or resumes it when the id exists for the same command. */
  begin(run: RunStart): { resumed: boolean } {
    const existing = this.get(run.id)
    if (existing && existing.command !== run.command) {
      throw new UsageError(
        `--run ${run.id}: that run belongs to "start ${existing.command}", not "start ${run.command}"`,
        'pick another run id',
      )
    }
    const time = now()
    if (existing) {
      this.db
        .prepare(
          `UPDATE runs SET status = 'running', error = NULL, pid = ?, host = ?, updated_at = ? WHERE id = ?`,
        )
        .run(process.pid, hostname(), time, run.id)
      return { resumed: true }
    }
    this.db
      .prepare(
        `INSERT INTO runs (id, command, flags, model, tool_version, status, pid, host, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, 'running', ?, ?, ?, ?)`,
      )
      .run(
        run.id,
        run.command,
        JSON.stringify(run.flags),
        run.model ?? null,
        run.toolVersion,
        process.pid,
        hostname(),
        time,
        time,
      )
    return { resumed: false }
  }

  setTotal(id: string, total: number): void {
    this.db.prepare('UPDATE runs SET total = ?, updated_at = ? WHERE id = ?').run(total, now(), id)
  }

  /** Ends a run; `counts` are the numbers of its summary, for `start runs`. */
  finish(
    id: string,
    status: Exclude<RunStatus, 'running'>,
    details: { error?: string; counts?: object } = {},
  ): void {
    this.db
      .prepare(
        'UPDATE runs SET status = ?, error = ?, counts = COALESCE(?, counts), updated_at = ? WHERE id = ?',
      )
      .run(status, details.error ?? null, details.counts ? JSON.stringify(details.counts) : null, now(), id)
  }

  /** The plan step a multi-step run is at (the column is named `stage` since the first schema). */
  setCurrentStep(id: string, step: string): void {
    this.db.prepare('UPDATE runs SET stage = ?, updated_at = ? WHERE id = ?').run(step, now(), id)
  }

  get(id: string): RunInfo | undefined {
    const row = this.db.prepare(`${RUN_SELECT} WHERE r.id = ?`).get(id) as RunRow | undefined
    return row && toRunInfo(row)
  }

  list(): RunInfo[] {
    return (this.db.prepare(`${RUN_SELECT} ORDER BY r.created_at DESC`).all() as RunRow[]).map(toRunInfo)
  }

  /** The results of the units already finished in a run, by unit key. */
  finishedUnits(runId: string): Map<string, unknown> {
    const rows = this.db.prepare('SELECT unit_key, result FROM work_units WHERE run_id = ?').all(runId) as {
      unit_key: string
      result: string
    }[]
    return new Map(rows.map((row) => [row.unit_key, JSON.parse(row.result)]))
  }

  /**
   * Records a unit as done, together with whatever rows `writeRows` adds, in one transaction:
   * either both are stored or neither is. A unit done again (its output was deleted) replaces the record.
   */
  completeUnit(runId: string, unitKey: string, result: unknown, writeRows?: (db: Db) => void): void {
    this.db.transaction(() => {
      writeRows?.(this.db)
      this.db
        .prepare('INSERT OR REPLACE INTO work_units (run_id, unit_key, result, done_at) VALUES (?, ?, ?, ?)')
        .run(runId, unitKey, JSON.stringify(result), now())
      this.db.prepare('UPDATE runs SET updated_at = ? WHERE id = ?').run(now(), runId)
    })()
  }
}

/** A run's process was on this machine and is gone (killed, or the machine's power cut): it never finished. */
function processGone(row: RunRow): boolean {
  return row.pid !== null && row.host === hostname() && !isProcessAlive(row.pid)
}

const RUN_SELECT = `SELECT r.*, (SELECT COUNT(*) FROM work_units u WHERE u.run_id = r.id) AS done FROM runs r`

function toRunInfo(row: RunRow): RunInfo {
  return {
    id: row.id,
    command: row.command,
    flags: JSON.parse(row.flags),
    model: row.model,
    toolVersion: row.tool_version,
    status: row.status === 'running' && processGone(row) ? 'interrupted' : row.status,
    total: row.total,
    done: row.done,
    error: row.error,
    stage: row.stage,
    counts: row.counts === null ? null : JSON.parse(row.counts),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  }
}
