import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { execa } from 'execa'
import { describe, expect, it } from 'vitest'
import { countExecutions, insertExecution } from '../../src/store/executions.js'
import { MIGRATIONS } from '../../src/store/migrations.js'
import { RunStore } from '../../src/store/runs.js'
import { openDatabase } from '../../src/store/store.js'

const tempDb = () => join(mkdtempSync(join(tmpdir(), 'start-store-')), 'start.db')
const result = {
  stdout: '2\n',
  stderr: '',
  exitCode: 0,
  signal: null,
  timedOut: false,
  truncated: false,
  stdoutBytes: 2,
  stderrBytes: 0,
  durationMs: 1,
  sessionEnded: false,
}

describe('run store', () => {
  it('creates the schema in WAL mode at the latest version', () => {
    const db = openDatabase(tempDb())
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal')
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length)
    db.close()
  })

  it('refuses a store written by a newer version', () => {
    const file = tempDb()
    const raw = new Database(file)
    raw.pragma(`user_version = ${MIGRATIONS.length + 1}`)
    raw.close()
    expect(() => openDatabase(file)).toThrow(/newer than this start/)
  })

  it('resumes a run: finished units survive a reopen, and only they', () => {
    const file = tempDb()
    let db = openDatabase(file)
    let runs = new RunStore(db)
    expect(runs.begin({ id: 'r', command: 'sandbox', flags: { a: 1 }, toolVersion: '0.1.0' })).toEqual({
      resumed: false,
    })
    runs.completeUnit('r', 'u1', { out: 1 }, (tx) =>
      insertExecution(tx, { runId: 'r', unitKey: 'u1', block: 0, code: 'print(2)', result }),
    )
    db.close()

    db = openDatabase(file)
    runs = new RunStore(db)
    expect(runs.begin({ id: 'r', command: 'sandbox', flags: {}, toolVersion: '0.1.0' })).toEqual({
      resumed: true,
    })
    expect(runs.finishedUnits('r')).toEqual(new Map([['u1', { out: 1 }]]))
    expect(runs.get('r')).toMatchObject({ status: 'running', done: 1, flags: { a: 1 } })
    db.close()
  })

  it('writes a unit and its rows in one transaction: a failure stores neither', () => {
    const db = openDatabase(tempDb())
    const runs = new RunStore(db)
    runs.begin({ id: 'r', command: 'sandbox', flags: {}, toolVersion: '0.1.0' })
    expect(() =>
      runs.completeUnit('r', 'u1', { out: 1 }, (tx) => {
        insertExecution(tx, { runId: 'r', unitKey: 'u1', block: 0, code: 'x', result })
        throw new Error('crash mid-unit')
      }),
    ).toThrow('crash mid-unit')
    expect(runs.finishedUnits('r').size).toBe(0)
    expect(countExecutions(db, 'r')).toBe(0)
    db.close()
  })

  it('shows a run whose process was killed as interrupted; a live one stays running', async () => {
    const file = tempDb()
    // A run begun by a process that is then killed with SIGKILL: it never gets to mark its end.
    const code = `import { openDatabase } from './src/store/store.ts'
import { RunStore } from './src/store/runs.ts'
new RunStore(openDatabase(${JSON.stringify(file)})).begin({ id: 'killed', command: 'steps', flags: {}, toolVersion: '0' })
process.kill(process.pid, 'SIGKILL')`
    const child = await execa('node', ['--import', 'tsx', '--input-type=module', '-e', code], {
      reject: false,
    })
    expect(child.signal).toBe('SIGKILL')
    const db = openDatabase(file)
    const runs = new RunStore(db)
    runs.begin({ id: 'alive', command: 'steps', flags: {}, toolVersion: '0' })
    expect(Object.fromEntries(runs.list().map((run) => [run.id, run.status]))).toEqual({
      killed: 'interrupted',
      alive: 'running',
    })
    db.close()
  })

  it('will not resume a run id that belongs to another command', () => {
    const db = openDatabase(tempDb())
    const runs = new RunStore(db)
    runs.begin({ id: 'r', command: 'sandbox', flags: {}, toolVersion: '0.1.0' })
    expect(() => runs.begin({ id: 'r', command: 'filter', flags: {}, toolVersion: '0.1.0' })).toThrow(
      '--run r: that run belongs to "start sandbox", not "start filter"',
    )
    db.close()
  })
})
