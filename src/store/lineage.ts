import { type Db, now } from './store.js'

export type LineageKind = 'run' | 'trajectory' | 'file' | 'dataset' | 'model'

export interface LineageNode {
  kind: LineageKind
  id: string
}

/** Records what `child` was made from; a rerun replaces the child's parents. */
export function setParents(db: Db, child: LineageNode, parents: LineageNode[]): void {
  db.transaction(() => {
    db.prepare('DELETE FROM lineage WHERE child_kind = ? AND child_id = ?').run(child.kind, child.id)
    const insert = db.prepare(
      'INSERT OR IGNORE INTO lineage (child_kind, child_id, parent_kind, parent_id) VALUES (?, ?, ?, ?)',
    )
    for (const parent of parents) insert.run(child.kind, child.id, parent.kind, parent.id)
  })()
}

export function parentsOf(db: Db, child: LineageNode): LineageNode[] {
  return db
    .prepare(
      `SELECT parent_kind AS kind, parent_id AS id FROM lineage WHERE child_kind = ? AND child_id = ?
       ORDER BY parent_kind, parent_id`,
    )
    .all(child.kind, child.id) as LineageNode[]
}

/** One line of a trainer's log. */
export function appendTrainingLog(
  db: Db,
  row: { runId: string; unitKey: string; step: number; loss?: number; learningRate?: number; epoch?: number },
): void {
  db.prepare(
    `INSERT OR REPLACE INTO training_log (run_id, unit_key, step, loss, learning_rate, epoch, at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    row.runId,
    row.unitKey,
    row.step,
    row.loss ?? null,
    row.learningRate ?? null,
    row.epoch ?? null,
    now(),
  )
}

export function trainingLog(db: Db, runId: string, unitKey: string): { step: number; loss: number | null }[] {
  return db
    .prepare('SELECT step, loss FROM training_log WHERE run_id = ? AND unit_key = ? ORDER BY step')
    .all(runId, unitKey) as { step: number; loss: number | null }[]
}
