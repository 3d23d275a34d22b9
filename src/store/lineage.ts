import { type Db, now } from './store.js'

export type LineageKind = 'run' | 'trajectory' | 'file' | 'dataset' | 'model'

export interface LineageNode {
  kind: LineageKind
  id: string
}

/** Forgets what `child` was made from (a rerun records it afresh). */
export function clearParents(db: Db, child: LineageNode): void {
  db.prepare('DELETE FROM lineage WHERE child_kind = ? AND child_id = ?').run(child.kind, child.id)
}

/** A prepared writer of lineage rows, for callers that add many (the filter: one per kept trajectory). */
export function parentWriter(db: Db): (child: LineageNode, parent: LineageNode) => void {
  const insert = db.prepare(
    'INSERT OR IGNORE INTO lineage (child_kind, child_id, parent_kind, parent_id) VALUES (?, ?, ?, ?)',
  )
  return (child, parent) => insert.run(child.kind, child.id, parent.kind, parent.id)
}

/** Records what `child` was made from; a rerun replaces the child's parents. */
export function setParents(db: Db, child: LineageNode, parents: LineageNode[]): void {
  db.transaction(() => {
    clearParents(db, child)
    const addParent = parentWriter(db)
    for (const parent of parents) addParent(child, parent)
  })()
}

/** One line of a trainer's log; a step logged again (after a resume) replaces the earlier line. */
export function appendTrainingLog(
  db: Db,
  row: {
    runId: string
    unitKey: string
    step: number
    loss?: number
    learningRate?: number
    epoch?: number
    metrics?: Record<string, number>
  },
): void {
  db.prepare(
    `INSERT OR REPLACE INTO training_log (run_id, unit_key, step, loss, learning_rate, epoch, metrics, at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    row.runId,
    row.unitKey,
    row.step,
    row.loss ?? null,
    row.learningRate ?? null,
    row.epoch ?? null,
    row.metrics ? JSON.stringify(row.metrics) : null,
    now(),
  )
}

/** The steps a trainer logged for one training of a run, in order, with their metrics. */
export function trainingLog(
  db: Db,
  runId: string,
  unitKey: string,
): { step: number; metrics: Record<string, number> }[] {
  const rows = db
    .prepare(
      'SELECT step, loss, learning_rate, metrics FROM training_log WHERE run_id = ? AND unit_key = ? ORDER BY step',
    )
    .all(runId, unitKey) as {
    step: number
    loss: number | null
    learning_rate: number | null
    metrics: string | null
  }[]
  return rows.map((row) => ({
    step: row.step,
    metrics: {
      ...(row.metrics ? (JSON.parse(row.metrics) as Record<string, number>) : {}),
      ...(row.loss === null ? {} : { loss: row.loss }),
      ...(row.learning_rate === null ? {} : { learning_rate: row.learning_rate }),
    },
  }))
}
