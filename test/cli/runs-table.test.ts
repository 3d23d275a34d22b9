import { describe, expect, it } from 'vitest'
import { describeCounts, describeRun, formatDuration } from '../../src/cli/runs-table.js'
import type { RunInfo } from '../../src/store/runs.js'

describe('start runs lines', () => {
  it('show start, duration, step and the summary counts', () => {
    const run: RunInfo = {
      id: 'f1',
      command: 'filter',
      flags: {},
      model: null,
      toolVersion: '0',
      status: 'done',
      total: null,
      done: 0,
      error: null,
      stage: null,
      counts: {
        trajectories: 100,
        kept: 12,
        rejected: { incorrect: 80, duplicate: 8, tool: 0 },
        trajectoriesPerSecond: 9,
      },
      createdAt: '2026-11-30T10:00:00.000Z',
      updatedAt: '2026-11-30T10:02:05.000Z',
    }
    expect(describeRun(run).split('\t')).toEqual([
      'f1',
      'filter',
      'done',
      '2026-11-30 10:00:00Z',
      '2m05s',
      '-',
      '-',
      'trajectories 100, kept 12, rejected 88 (incorrect 80, duplicate 8)',
    ])
    // units where a stage keeps them; a run still at none shows 0
    expect(describeRun({ ...run, done: 3, total: 10 }).split('\t')[6]).toBe('3/10 units')
    expect(describeRun({ ...run, done: 7 }).split('\t')[6]).toBe('7 units')
    expect(describeRun({ ...run, status: 'running' }).split('\t')[6]).toBe('0 units')
    expect(
      describeRun({ ...run, status: 'running', stage: 'rft-2' }, Date.parse('2026-11-30T12:30:00Z')),
    ).toContain('2h30m\trft-2')
    expect(formatDuration(42.4)).toBe('42s')
    expect(describeCounts(null)).toBe('-')
  })
})
