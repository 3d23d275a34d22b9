import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type PlanStep, planSteps, runPlan } from '../../src/runner/plan.js'
import { RunStore } from '../../src/store/runs.js'
import { type Db, openDatabase } from '../../src/store/store.js'
import { tempDir } from '../integration/cli.js'

describe('the step runner', () => {
  let db: Db
  let store: RunStore
  let dir: string
  let ran: string[]
  const step = (id: string, input: string, output: string): PlanStep => ({
    id,
    description: id,
    inputs: [join(dir, input)],
    outputs: [join(dir, output)],
    run: async () => {
      ran.push(id)
      writeFileSync(join(dir, output), `${id}\n`)
      return { made: output }
    },
  })

  beforeEach(() => {
    dir = tempDir()
    db = openDatabase(join(dir, 's.db'))
    store = new RunStore(db)
    store.begin({ id: 'r', command: 'test', flags: {}, toolVersion: '0' })
    ran = []
    writeFileSync(join(dir, 'in.txt'), 'input\n')
  })
  afterEach(() => db.close())

  const table = () => [step('a', 'in.txt', 'a.txt'), step('b', 'a.txt', 'b.txt')]

  it('runs each step once, then skips the current ones', async () => {
    const first = await runPlan(table(), { store, runId: 'r', finished: store.finishedUnits('r') })
    expect(first.map((s) => s.status)).toEqual(['done', 'done'])
    expect(planSteps(table(), join(dir, 's.db'), 'r').map((s) => s.status)).toEqual(['done', 'done'])
    const second = await runPlan(table(), { store, runId: 'r', finished: store.finishedUnits('r') })
    expect(second.map((s) => s.status)).toEqual(['skipped', 'skipped'])
    expect(ran).toEqual(['a', 'b'])
    expect(store.get('r')?.stage).toBe('b')
  })

  it('redoes a step whose input changed, and the steps made from its output', async () => {
    await runPlan(table(), { store, runId: 'r', finished: store.finishedUnits('r') })
    writeFileSync(join(dir, 'in.txt'), 'a changed input, of another size\n')
    expect(planSteps(table(), join(dir, 's.db'), 'r').map((s) => s.status)).toEqual(['pending', 'done'])
    await runPlan(table(), { store, runId: 'r', finished: store.finishedUnits('r') })
    expect(ran).toEqual(['a', 'b', 'a', 'b'])
  })

  it('stops after --until', async () => {
    const reports = await runPlan(table(), { store, runId: 'r', finished: new Map(), until: 'a' })
    expect(reports.map((s) => s.id)).toEqual(['a'])
  })
})
