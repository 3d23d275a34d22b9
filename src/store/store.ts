import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { UsageError } from '../core/errors.js'
import { MIGRATIONS } from './migrations.js'

export type Db = Database.Database

/** Opens (creating if needed) a run store and brings its schema up to date. */
export function openDatabase(file: string): Db {
  let db: Db
  try {
    mkdirSync(dirname(file), { recursive: true })
    db = new Database(file)
    db.pragma('journal_mode = WAL')
  } catch (error) {
    throw new UsageError(`--db ${file}: cannot open the run store (${(error as Error).message})`)
  }
  db.pragma('synchronous = NORMAL')
  db.pragma('foreign_keys = ON')
  db.pragma('busy_timeout = 5000')
  migrate(db, file)
  return db
}

function migrate(db: Db, file: string): void {
  const version = db.pragma('user_version', { simple: true }) as number
  if (version > MIGRATIONS.length) {
    throw new UsageError(
      `--db ${file}: the store has schema version ${version}, newer than this start (${MIGRATIONS.length})`,
      'upgrade start, or use another --db',
    )
  }
  for (let next = version; next < MIGRATIONS.length; next++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[next]!)
      db.pragma(`user_version = ${next + 1}`)
    })()
  }
}

export function now(): string {
  return new Date().toISOString()
}
