import { clearParents, type LineageNode, parentWriter } from './lineage.js'
import { type Db, now } from './store.js'

export interface DatasetStart {
  id: string
  runId: string
  name: string
  path: string | null
}

/**
 * Datasets a stage wrote (D_seed, D_START), where they came from, and the per-trajectory scores the
 * filter measured. A rerun of the same run replaces what it wrote before.
 */
export class DatasetStore {
  private readonly insertParent
  private readonly findTrajectory
  private readonly insertScore

  constructor(private readonly db: Db) {
    this.insertParent = parentWriter(db)
    this.findTrajectory = db.prepare(
      'SELECT id FROM trajectories WHERE run_id = ? AND problem_id = ? AND sample = ?',
    )
    this.insertScore = db.prepare(
      'INSERT OR REPLACE INTO scores (trajectory_id, name, value, details) VALUES (?, ?, ?, ?)',
    )
  }

  /** Creates the dataset, or empties it (records and lineage) for a rerun. */
  begin(dataset: DatasetStart): void {
    this.db.transaction(() => {
      clearParents(this.db, { kind: 'dataset', id: dataset.id })
      this.db
        .prepare(
          `INSERT OR REPLACE INTO datasets (id, run_id, name, path, records, created_at) VALUES (?, ?, ?, ?, 0, ?)`,
        )
        .run(dataset.id, dataset.runId, dataset.name, dataset.path, now())
    })()
  }

  finish(id: string, records: number): void {
    this.db.prepare('UPDATE datasets SET records = ? WHERE id = ?').run(records, id)
  }

  /** Runs `write` in one transaction: the filter batches its many small writes. */
  batch(write: () => void): void {
    this.db.transaction(write)()
  }

  addParent(datasetId: string, parent: LineageNode): void {
    this.insertParent({ kind: 'dataset', id: datasetId }, parent)
  }

  /** Stores scores of a trajectory that is in this store; false when it is not (made elsewhere). */
  saveScores(
    trajectory: { run: string; problemId: string; sample: number },
    scores: Record<string, number | boolean | null>,
    details: Record<string, string | null> = {},
  ): boolean {
    const row = this.findTrajectory.get(trajectory.run, trajectory.problemId, trajectory.sample) as
      | { id: number }
      | undefined
    if (!row) return false
    for (const [name, value] of Object.entries(scores)) {
      const number = typeof value === 'boolean' ? Number(value) : value
      this.insertScore.run(row.id, name, number, details[name] ?? null)
    }
    return true
  }
}
