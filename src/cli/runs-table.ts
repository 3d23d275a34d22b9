import type { RunInfo } from '../store/runs.js'

/** One line of `start runs`: id, command, status, start, duration, step, units, counts. */
export function describeRun(run: RunInfo, now = Date.now()): string {
  const end = run.status === 'running' ? now : Date.parse(run.updatedAt)
  // A stage that keeps no units (steps, filter, the rules judge: one pass, its counts tell the work) shows
  // none, not "0 units" as if nothing were done.
  const keepsNone = run.done === 0 && run.total === null && run.status !== 'running'
  const units = keepsNone ? '-' : run.total === null ? `${run.done} units` : `${run.done}/${run.total} units`
  return [
    run.id,
    run.command,
    run.status,
    run.createdAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
    formatDuration((end - Date.parse(run.createdAt)) / 1000),
    run.stage ?? '-',
    units,
    describeCounts(run.counts),
  ].join('\t')
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds))
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
}

/** The summary's counts in a few words: `kept 12, rejected 88 (incorrect 80, duplicate 8)`. */
export function describeCounts(counts: Record<string, unknown> | null): string {
  if (!counts) return '-'
  const parts: string[] = []
  for (const [key, value] of Object.entries(counts)) {
    if (typeof value === 'number') {
      if (key.endsWith('PerSecond') || key === 'reevaluatedTokens') continue
      parts.push(`${key} ${Number.isInteger(value) ? value : value.toFixed(3)}`)
    } else if (value && typeof value === 'object') {
      const nonZero = Object.entries(value as Record<string, number>).filter(([, count]) => count > 0)
      const total = nonZero.reduce((sum, [, count]) => sum + count, 0)
      if (total > 0)
        parts.push(`${key} ${total} (${nonZero.map(([name, count]) => `${name} ${count}`).join(', ')})`)
    }
  }
  return parts.join(', ') || '-'
}
