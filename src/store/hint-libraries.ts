import { type Db, now } from './store.js'

/** A library version as `start hints evolve` records it. */
export interface HintLibraryVersion {
  path: string
  name: string
  generation: number
  parentPath: string
  runId: string
  library: unknown
  verdicts: unknown[]
}

/** Records a library version (a rerun that writes it again replaces the row). */
export function recordHintLibrary(db: Db, version: HintLibraryVersion): void {
  db.prepare(
    `INSERT OR REPLACE INTO hint_libraries (path, name, generation, parent_path, run_id, library, verdicts, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    version.path,
    version.name,
    version.generation,
    version.parentPath,
    version.runId,
    JSON.stringify(version.library),
    JSON.stringify(version.verdicts),
    now(),
  )
}

/** The versions recorded, oldest first (`start report` sets them side by side). */
export function hintLibraryVersions(db: Db): HintLibraryVersion[] {
  const rows = db.prepare('SELECT * FROM hint_libraries ORDER BY created_at, path').all() as {
    path: string
    name: string
    generation: number
    parent_path: string
    run_id: string
    library: string
    verdicts: string
  }[]
  return rows.map((row) => ({
    path: row.path,
    name: row.name,
    generation: row.generation,
    parentPath: row.parent_path,
    runId: row.run_id,
    library: JSON.parse(row.library),
    verdicts: JSON.parse(row.verdicts),
  }))
}
