import type { HintLibrary, Rate } from '../hints/library.js'
import { clusteredPairedTest } from './clusters.js'
import { pairedSignTest } from './metrics.js'
import type { EvalRow, HintStat } from './types.js'

/**
 * The report of `start eval` rows: one self-contained HTML page (data and drawing code inline, no
 * network) and a markdown summary for CI logs. Pure: rows in, text out.
 */

const percent = (value: number) => `${(value * 100).toFixed(1)}%`

export function markdownSummary(rows: EvalRow[]): string {
  const lines = [
    '| model | benchmark | mode | pass@1 [95% CI] | maj@k | pass@k | tool use | tool calls | unrun code | tokens |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ]
  for (const row of rows) {
    // with --cluster-key the interval is the cluster bootstrap's, problems of one template not independent
    const [low, high] = row.pass1ClusterInterval ?? row.pass1Interval
    const interval = `[${percent(low)}, ${percent(high)}]${row.pass1ClusterInterval ? ' clustered' : ''}`
    lines.push(
      `| ${row.model} | ${row.benchmark} | ${row.mode} | ${percent(row.pass1)} ${interval} | ` +
        `${row.majK === null ? '-' : percent(row.majK)} | ${percent(row.passK)} (k=${row.k}) | ${percent(row.toolUseRate)} | ` +
        `${row.meanToolCalls.toFixed(2)} | ${percent(row.unrunCodeRate ?? 0)} | ${row.meanTokens.toFixed(0)} |`,
    )
  }
  return `${lines.join('\n')}\n`
}

/**
 * Every pair of models on each benchmark and mode, on the same problems: pass@1 of each, where each did
 * better, and the exact sign test's p-value. Rows without per-problem results (older eval files) are left out.
 */
export function pairedComparisons(rows: EvalRow[]): string {
  const lines = [
    '| benchmark | mode | A | B | pass@1 A | pass@1 B | A better / B better / same | p (sign test) | p (clusters) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ]
  const p = (value: number) => (value < 0.001 ? '<0.001' : value.toFixed(3))
  const comparable = rows.filter((row) => row.perProblem)
  for (const [index, a] of comparable.entries()) {
    for (const b of comparable.slice(index + 1)) {
      if (a.benchmark !== b.benchmark || a.mode !== b.mode || a.model === b.model) continue
      const test = pairedSignTest(a.perProblem!, b.perProblem!)
      // with clusters: a sign-flip test over clusters, each cluster's problems one unit
      const clusters =
        a.clusters && b.clusters ? clusteredPairedTest(a.perProblem!, b.perProblem!, a.clusters) : null
      const clustered = clusters ? `${p(clusters.pValue)} (${clusters.clusters} clusters)` : '-'
      lines.push(
        `| ${a.benchmark} | ${a.mode} | ${a.model} | ${b.model} | ${percent(a.pass1)} | ${percent(b.pass1)} | ` +
          `${test.wins} / ${test.losses} / ${test.ties} | ${p(test.pValue)} | ${clustered} |`,
      )
    }
  }
  return lines.length > 2 ? `${lines.join('\n')}\n` : ''
}

/** Hint statistics summed over rows: which hint, placed where, led to code and to right answers. */
export function hintEfficacy(rows: EvalRow[]): HintStat[] {
  const totals = new Map<string, HintStat>()
  for (const stat of rows.flatMap((row) => row.hints)) {
    const key = `${stat.hint}|${stat.trigger}|${stat.position}`
    const total = totals.get(key) ?? { ...stat, count: 0, followedByTool: 0, correct: 0 }
    total.count += stat.count
    total.followedByTool += stat.followedByTool
    total.correct += stat.correct
    totals.set(key, total)
  }
  return [...totals.values()].sort((a, b) => b.count - a.count)
}

/** One logged step of `start rl` (its metrics.jsonl): the curves of the training section. */
export interface TrainingRow {
  run: string
  step: number
  [metric: string]: number | string
}

/** The RL metrics drawn and summarized, with their labels. */
export const TRAINING_METRICS: [key: string, label: string][] = [
  ['reward', 'reward (mean over rollouts)'],
  ['accuracy', 'accuracy of the rollouts'],
  ['val.accuracy', 'held-out greedy pass@1 (--eval-every)'],
  ['val.toolCallsPerRollout', 'held-out tool calls per rollout (--eval-every)'],
  ['reward_std', 'reward spread within groups'],
  ['toolCallsPerRollout', 'tool calls per rollout'],
  ['responseTokens', 'response length (tokens)'],
  ['maskedFraction', 'share of the response masked (tool output, hints)'],
  ['frac_reward_zero_std', 'share of groups with one reward (no gradient with the group baseline)'],
  ['absAdvantage', 'mean |advantage| (what the update can learn from)'],
  ['kl', 'KL to the starting policy'],
  ['groupsSampled', 'groups sampled per step (--dynamic-sampling)'],
  ['hintedShare', 'share of rollouts with hints (the curriculum)'],
  ['loss', 'loss'],
]

/** The training runs in markdown: first and last value of the main metrics per run. */
export function trainingSummary(training: TrainingRow[]): string {
  const runs = [...new Set(training.map((row) => row.run))]
  const lines = [
    '| run | steps | reward first -> last | accuracy first -> last | tool calls/rollout (last) | zero-variance groups (mean) |',
    '| --- | --- | --- | --- | --- | --- |',
  ]
  const value = (row: TrainingRow | undefined, key: string, digits: number) =>
    typeof row?.[key] === 'number' ? (row[key] as number).toFixed(digits) : '-'
  for (const run of runs) {
    const steps = training.filter((row) => row.run === run).sort((a, b) => a.step - b.step)
    const [first, last] = [steps[0], steps.at(-1)]
    const zero = steps
      .map((row) => row.frac_reward_zero_std)
      .filter((v): v is number => typeof v === 'number')
    lines.push(
      `| ${run} | ${steps.length} | ${value(first, 'reward', 3)} -> ${value(last, 'reward', 3)} | ` +
        `${value(first, 'accuracy', 2)} -> ${value(last, 'accuracy', 2)} | ${value(last, 'toolCallsPerRollout', 2)} | ` +
        `${zero.length ? (zero.reduce((a, b) => a + b, 0) / zero.length).toFixed(2) : '-'} |`,
    )
  }
  return `${lines.join('\n')}\n`
}

/** A hint library version the report sets beside the others (`start hints evolve` writes them). */
export interface LibraryVersion {
  file: string
  library: HintLibrary
}

/**
 * The hints some version measured, in the order they first appear: the rows of the side-by-side table
 * (a version's hints that no run tested have no figures to show).
 */
function versionHints(versions: LibraryVersion[]) {
  const hints = new Map<string, { id: string; category: string; text: string }>()
  for (const { library } of versions)
    for (const hint of library.hints) if (!hints.has(hint.id)) hints.set(hint.id, hint)
  const measured = (id: string) =>
    versions.some(({ library }) => library.hints.some((hint) => hint.id === id && hint.efficacy))
  return [...hints.values()].filter((hint) => measured(hint.id))
}

const rateCell = (rate: Rate | undefined) =>
  rate ? `${percent(rate.rate)} [${percent(rate.low)}, ${percent(rate.high)}]` : '-'

/**
 * The versions side by side in markdown: per hint, its efficacy in each version (correct, and code after
 * it, with 95% intervals), then each version's lineage: its parent and the hints admitted with the test.
 */
export function libraryVersionsSummary(versions: LibraryVersion[]): string {
  const names = versions.map(({ library }) => library.name)
  const lines = [
    `| hint | category | ${names.map((name) => `${name}: correct | ${name}: code`).join(' | ')} |`,
    `| --- | --- | ${names.map(() => '--- | ---').join(' | ')} |`,
  ]
  for (const hint of versionHints(versions)) {
    const cells = versions.map(({ library }) => {
      const mine = library.hints.find((h) => h.id === hint.id)
      if (!mine) return 'absent | absent'
      return `${rateCell(mine.efficacy?.correct)} | ${rateCell(mine.efficacy?.code)}`
    })
    lines.push(`| ${hint.id} | ${hint.category} | ${cells.join(' | ')} |`)
  }
  const lineage = versions.map(({ library, file }) => {
    const admitted = library.hints.filter((hint) => hint.admitted)
    const from = library.parent
      ? `generation ${library.generation ?? 0}, from ${library.parent}`
      : 'no parent'
    const joined = admitted.map((hint) => `  - ${hint.id} ("${hint.text}"): ${hint.admitted!.reason}`)
    return [`- ${library.name} (${file}; ${from}): ${admitted.length} admitted`, ...joined].join('\n')
  })
  return `${lines.join('\n')}\n\n${lineage.join('\n')}\n`
}

export function htmlReport(
  rows: EvalRow[],
  title = 'START evaluation',
  training: TrainingRow[] = [],
  versions: LibraryVersion[] = [],
): string {
  const libraries = versions.map(({ library }) => ({
    name: library.name,
    hints: library.hints.map(({ id, efficacy }) => ({ id, efficacy })),
  }))
  const data = JSON.stringify({
    rows,
    hints: hintEfficacy(rows),
    training,
    metrics: TRAINING_METRICS,
    libraries,
    libraryHints: versionHints(versions).map((hint) => hint.id),
  }).replace(/</g, '\\u003c')
  const escapeHtml = (text: string) => text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`)
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:22px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
td:first-child,th:first-child,td:nth-child(2),td:nth-child(3){text-align:left}
.chart svg{background:#fafafa;border:1px solid #eee;max-width:100%;height:auto}.legend span{margin-right:14px}
.legend i{display:inline-block;width:10px;height:10px;margin-right:4px}
</style></head><body>
<h1>${escapeHtml(title)}</h1>
${rows.length > 0 ? EVAL_SECTIONS(rows.length) : ''}
${training.length > 0 ? '<h2>Training (start rl): per optimizer step</h2><div id="training"></div>' : ''}
${versions.length > 0 ? LIBRARY_SECTION(versions, escapeHtml) : ''}
<script id="data" type="application/json">${data}</script>
<script>
${DRAWING_CODE}
</script>
</body></html>
`
}

const EVAL_SECTIONS = (
  results: number,
) => `<p>${results} results. Accuracy is pass@1 averaged over the samples, with a 95% Wilson interval.</p>
<h2>Accuracy by model and mode</h2><div class="chart" id="accuracy"></div>
<h2>Test-time scaling: accuracy against end-of-thinking hints</h2><div class="chart" id="scaling"></div>
<h2>Tool-use rate</h2><div class="chart" id="tool-use"></div>
<h2>Tool calls per trajectory</h2><div class="chart" id="tool-calls"></div>
<h2>Response length (generated tokens)</h2><div class="chart" id="length"></div>
<h2>Hint efficacy: share followed by code, share correct</h2><div class="chart" id="hints"></div>
<h2>Results</h2><div id="table"></div>`

/** The hint library versions: efficacy per hint and version (charts drawn in the page), then the lineage. */
const LIBRARY_SECTION = (versions: LibraryVersion[], escapeHtml: (text: string) => string) => {
  const lineage = versions
    .map(({ library, file }) => {
      const admitted = library.hints.filter((hint) => hint.admitted)
      const from = library.parent
        ? `generation ${library.generation ?? 0}, from ${library.parent}`
        : 'no parent'
      const items = admitted
        .map(
          (hint) =>
            `<li>${escapeHtml(hint.id)}: “${escapeHtml(hint.text)}” — ${escapeHtml(hint.admitted!.reason)}</li>`,
        )
        .join('')
      return `<li><b>${escapeHtml(library.name)}</b> (${escapeHtml(file)}; ${escapeHtml(from)}): ${admitted.length} admitted<ul>${items}</ul></li>`
    })
    .join('')
  return `<h2>Hint library versions: share of continuations correct after each hint (95% interval over prefixes)</h2>
<div class="chart" id="library-correct"></div>
<h2>Hint library versions: share of continuations that ran code after each hint</h2>
<div class="chart" id="library-code"></div>
<h2>Lineage</h2><ul id="lineage">${lineage}</ul>`
}

/** Runs in the page: draws SVG charts from the data block. Kept dependency-free so the file works offline. */
const DRAWING_CODE = `
const { rows, hints, training, metrics, libraries, libraryHints } = JSON.parse(document.getElementById('data').textContent)
const NS = 'http://www.w3.org/2000/svg'
const COLORS = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7']
const el = (name, attrs, parent) => {
  const node = document.createElementNS(NS, name)
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v)
  if (parent) parent.appendChild(node)
  return node
}
const text = (parent, x, y, value, attrs = {}) => {
  const node = el('text', { x, y, 'font-size': 11, ...attrs }, parent)
  node.textContent = value
  return node
}
function legend(container, names) {
  const box = document.createElement('div')
  box.className = 'legend'
  names.forEach((name, i) => {
    const item = document.createElement('span')
    item.innerHTML = '<i style="background:' + COLORS[i % COLORS.length] + '"></i>'
    item.appendChild(document.createTextNode(name))
    box.appendChild(item)
  })
  container.appendChild(box)
}
function axes(svg, width, height, pad, yMax, format) {
  el('line', { x1: pad.left, y1: height - pad.bottom, x2: width - pad.right, y2: height - pad.bottom, stroke: '#999' }, svg)
  for (let i = 0; i <= 4; i++) {
    const y = height - pad.bottom - (i / 4) * (height - pad.top - pad.bottom)
    el('line', { x1: pad.left, y1: y, x2: width - pad.right, y2: y, stroke: '#e5e5e5' }, svg)
    text(svg, pad.left - 6, y + 4, format((yMax * i) / 4), { 'text-anchor': 'end', class: 'tick' })
  }
}
/** A rate axis ends at 100% at most: the top rounded up to a fifth, so the ticks stay whole percents. */
const rateTop = (max) => Math.min(1, Math.max(0.2, Math.ceil((max * 1.1) / 0.2 - 1e-9) * 0.2))
/**
 * Grows the chart to hold everything drawn in it (rotated labels reach left of and below the plot) and
 * records the box drawn, so a test can check nothing is cut off.
 */
function fit(svg) {
  const box = svg.getBBox()
  const [x, y, width, height] = svg.getAttribute('viewBox').split(' ').map(Number)
  const left = Math.min(x, Math.floor(box.x) - 2)
  const top = Math.min(y, Math.floor(box.y) - 2)
  const right = Math.max(x + width, Math.ceil(box.x + box.width) + 2)
  const bottom = Math.max(y + height, Math.ceil(box.y + box.height) + 2)
  svg.setAttribute('viewBox', [left, top, right - left, bottom - top].join(' '))
  svg.setAttribute('width', right - left)
  svg.setAttribute('height', bottom - top)
  svg.setAttribute('data-content-box', [box.x, box.y, box.width, box.height].map((v) => v.toFixed(1)).join(' '))
}
/** Grouped bars: one group per category, one bar per series, optional [low, high] whiskers; rates end at 100%. */
function bars(id, categories, series, value, interval, format, rate = false) {
  const container = document.getElementById(id)
  const width = Math.max(420, 110 + categories.length * (series.length * 18 + 40))
  const height = 260
  const pad = { left: 110, right: 10, top: 10, bottom: 90 }
  const svg = el('svg', { width, height, viewBox: '0 0 ' + width + ' ' + height }, container)
  let yMax = 0
  for (const c of categories) for (const s of series) {
    const v = value(c, s)
    const iv = interval ? interval(c, s) : null
    if (v !== null) yMax = Math.max(yMax, iv ? iv[1] : v)
  }
  yMax = rate ? rateTop(yMax) : yMax > 0 ? yMax * 1.1 : 1
  axes(svg, width, height, pad, yMax, format)
  const plotHeight = height - pad.top - pad.bottom
  const groupWidth = (width - pad.left - pad.right) / Math.max(categories.length, 1)
  const barWidth = Math.min(18, (groupWidth - 12) / Math.max(series.length, 1))
  const y = (v) => height - pad.bottom - (v / yMax) * plotHeight
  categories.forEach((c, ci) => {
    const x0 = pad.left + ci * groupWidth + (groupWidth - barWidth * series.length) / 2
    series.forEach((s, si) => {
      const v = value(c, s)
      if (v === null) return
      const x = x0 + si * barWidth
      const bar = el('rect', { class: 'bar', x, y: y(v), width: barWidth - 2, height: Math.max(0, y(0) - y(v)), fill: COLORS[si % COLORS.length] }, svg)
      el('title', {}, bar).textContent = s + ' / ' + c + ': ' + format(v)
      const iv = interval ? interval(c, s) : null
      if (iv) {
        const cx = x + (barWidth - 2) / 2
        el('line', { class: 'whisker', x1: cx, x2: cx, y1: y(iv[0]), y2: y(iv[1]), stroke: '#333' }, svg)
      }
    })
    text(svg, pad.left + ci * groupWidth + groupWidth / 2, height - pad.bottom + 14, c, { 'text-anchor': 'end', transform: 'rotate(-30 ' + (pad.left + ci * groupWidth + groupWidth / 2) + ' ' + (height - pad.bottom + 14) + ')' })
  })
  fit(svg)
  svg.setAttribute('data-drawn', 'true')
  legend(container, series)
}
/** Lines: x = end-of-thinking hints, y = pass@1, one line per model and benchmark. */
function lines(id, series) {
  const container = document.getElementById(id)
  const width = 520
  const height = 260
  const pad = { left: 50, right: 10, top: 10, bottom: 40 }
  const svg = el('svg', { width, height, viewBox: '0 0 ' + width + ' ' + height }, container)
  const xs = series.flatMap((s) => s.points.map((p) => p[0]))
  const xMax = Math.max(1, ...xs)
  const yMax = rateTop(Math.max(0, ...series.flatMap((s) => s.points.map((p) => p[1]))))
  axes(svg, width, height, pad, yMax, (v) => (v * 100).toFixed(0) + '%')
  const x = (v) => pad.left + (v / xMax) * (width - pad.left - pad.right - 10)
  const y = (v) => height - pad.bottom - (v / yMax) * (height - pad.top - pad.bottom)
  for (let i = 0; i <= xMax; i++) text(svg, x(i), height - pad.bottom + 16, String(i), { 'text-anchor': 'middle' })
  text(svg, width / 2, height - 6, 'end-of-thinking hints (0 = tools, no hints)', { 'text-anchor': 'middle' })
  series.forEach((s, si) => {
    const points = s.points.map((p) => x(p[0]) + ',' + y(p[1])).join(' ')
    el('polyline', { class: 'line', points, fill: 'none', stroke: COLORS[si % COLORS.length], 'stroke-width': 2 }, svg)
    for (const p of s.points) el('circle', { cx: x(p[0]), cy: y(p[1]), r: 3, fill: COLORS[si % COLORS.length] }, svg)
  })
  fit(svg)
  svg.setAttribute('data-drawn', 'true')
  legend(container, series.map((s) => s.name))
}
/** Curves: x = optimizer step, one line per run; y spans the values (rewards go below zero). */
function curves(container, series, format) {
  const width = 520
  const height = 220
  const pad = { left: 60, right: 10, top: 10, bottom: 34 }
  const svg = el('svg', { width, height, viewBox: '0 0 ' + width + ' ' + height }, container)
  const xs = series.flatMap((s) => s.points.map((p) => p[0]))
  const ys = series.flatMap((s) => s.points.map((p) => p[1]))
  const xMin = Math.min(...xs)
  const xMax = Math.max(xMin + 1, ...xs)
  let yMin = Math.min(...ys)
  let yMax = Math.max(...ys)
  if (yMax - yMin < 1e-9) { yMin -= 1; yMax += 1 }
  const x = (v) => pad.left + ((v - xMin) / (xMax - xMin)) * (width - pad.left - pad.right)
  const y = (v) => height - pad.bottom - ((v - yMin) / (yMax - yMin)) * (height - pad.top - pad.bottom)
  for (let i = 0; i <= 4; i++) {
    const v = yMin + ((yMax - yMin) * i) / 4
    el('line', { x1: pad.left, y1: y(v), x2: width - pad.right, y2: y(v), stroke: '#e5e5e5' }, svg)
    text(svg, pad.left - 6, y(v) + 4, format(v), { 'text-anchor': 'end' })
  }
  text(svg, x(xMin), height - pad.bottom + 14, String(xMin), { 'text-anchor': 'middle' })
  text(svg, x(xMax), height - pad.bottom + 14, String(xMax), { 'text-anchor': 'middle' })
  text(svg, width / 2, height - 4, 'step', { 'text-anchor': 'middle' })
  series.forEach((s, si) => {
    const points = s.points.map((p) => x(p[0]) + ',' + y(p[1])).join(' ')
    el('polyline', { class: 'curve', points, fill: 'none', stroke: COLORS[si % COLORS.length], 'stroke-width': 2 }, svg)
  })
  fit(svg)
  svg.setAttribute('data-drawn', 'true')
  legend(container, series.map((s) => s.name))
}
const unique = (values) => [...new Set(values)]
if (training.length > 0) {
  const section = document.getElementById('training')
  for (const [key, label] of metrics) {
    const series = unique(training.map((r) => r.run))
      .map((run) => ({ name: run, points: training.filter((r) => r.run === run && typeof r[key] === 'number').map((r) => [r.step, r[key]]).sort((p, q) => p[0] - q[0]) }))
      .filter((s) => s.points.length > 0)
    if (series.length === 0) continue
    const heading = document.createElement('h3')
    heading.textContent = label
    const chart = document.createElement('div')
    chart.className = 'chart'
    chart.id = 'training-' + key
    section.append(heading, chart)
    curves(chart, series, (v) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2)))
  }
}
if (rows.length > 0) {
const models = unique(rows.map((r) => r.model))
const categories = unique(rows.map((r) => r.benchmark + ' · ' + r.mode))
const find = (c, m) => rows.find((r) => r.model === m && r.benchmark + ' · ' + r.mode === c)
const pct = (v) => (v * 100).toFixed(0) + '%'
bars('accuracy', categories, models, (c, m) => (find(c, m) ? find(c, m).pass1 : null), (c, m) => (find(c, m) ? find(c, m).pass1Interval : null), pct, true)
bars('tool-use', categories, models, (c, m) => (find(c, m) ? find(c, m).toolUseRate : null), null, pct, true)
bars('tool-calls', categories, models, (c, m) => (find(c, m) ? find(c, m).meanToolCalls : null), null, (v) => v.toFixed(1))
bars('length', categories, models, (c, m) => (find(c, m) ? find(c, m).meanTokens : null), null, (v) => v.toFixed(0))
const scaling = []
for (const m of models) for (const b of unique(rows.map((r) => r.benchmark))) {
  const points = rows.filter((r) => r.model === m && r.benchmark === b && r.tools).map((r) => [r.thinkHints, r.pass1]).sort((p, q) => p[0] - q[0])
  if (points.length > 0) scaling.push({ name: m + ' · ' + b, points })
}
lines('scaling', scaling)
const hintNames = hints.map((h) => h.hint + ' (' + h.trigger + ', ' + h.position + ', n=' + h.count + ')')
bars('hints', hintNames, ['followed by code', 'correct'], (c, s) => {
  const h = hints[hintNames.indexOf(c)]
  return s === 'correct' ? h.correct / h.count : h.followedByTool / h.count
}, null, pct, true)
const table = document.createElement('table')
table.innerHTML = '<tr><th>model</th><th>benchmark</th><th>mode</th><th>pass@1</th><th>95% CI</th><th>maj@k</th><th>pass@k</th><th>tool use</th><th>tool calls</th><th>unrun code</th><th>tokens</th></tr>' +
  rows.map((r) => '<tr><td>' + [r.model, r.benchmark, r.mode].map((v) => String(v).replace(/</g, '&lt;')).join('</td><td>') + '</td><td>' + pct(r.pass1) + '</td><td>' + pct(r.pass1Interval[0]) + ' – ' + pct(r.pass1Interval[1]) + '</td><td>' + (r.majK === null ? '-' : pct(r.majK)) + '</td><td>' + pct(r.passK) + '</td><td>' + pct(r.toolUseRate) + '</td><td>' + r.meanToolCalls.toFixed(2) + '</td><td>' + pct(r.unrunCodeRate || 0) + '</td><td>' + r.meanTokens.toFixed(0) + '</td></tr>').join('')
document.getElementById('table').appendChild(table)
}
if (libraries.length > 0) {
  const pct = (v) => (v * 100).toFixed(0) + '%'
  const efficacy = (id, name) => {
    const version = libraries.find((l) => l.name === name)
    const hint = version && version.hints.find((h) => h.id === id)
    return hint && hint.efficacy ? hint.efficacy : null
  }
  const names = libraries.map((l) => l.name)
  for (const key of ['correct', 'code']) {
    bars('library-' + key, libraryHints, names, (id, name) => (efficacy(id, name) ? efficacy(id, name)[key].rate : null), (id, name) => (efficacy(id, name) ? [efficacy(id, name)[key].low, efficacy(id, name)[key].high] : null), pct, true)
  }
}
document.body.setAttribute('data-report-drawn', String(document.querySelectorAll('svg[data-drawn]').length))
`
