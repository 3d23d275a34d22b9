import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { execa } from 'execa'
import { describe, expect, it } from 'vitest'
import {
  htmlReport,
  type LibraryVersion,
  libraryVersionsSummary,
  markdownSummary,
  pairedComparisons,
  type TrainingRow,
  trainingSummary,
} from '../../src/eval/report.js'
import type { EvalRow } from '../../src/eval/types.js'
import type { HintLibrary } from '../../src/hints/library.js'
import { TWO_HINT_LIBRARY } from '../hints/two-hint-library.js'
import { tempDir } from '../integration/cli.js'

const row = (model: string, mode: string, thinkHints: number, pass1: number): EvalRow => ({
  model,
  modelPath: `${model}.gguf`,
  benchmark: 'dev',
  mode,
  tools: mode !== 'no-tools',
  thinkHints,
  problems: 10,
  samples: 20,
  pass1,
  pass1Interval: [Math.max(0, pass1 - 0.1), Math.min(1, pass1 + 0.1)],
  passK: pass1 + 0.1,
  unrunCodeRate: 0,
  inventedOutputRate: 0,
  majK: pass1,
  k: 2,
  toolUseRate: mode === 'no-tools' ? 0 : 0.5,
  meanToolCalls: mode === 'no-tools' ? 0 : 1.2,
  meanChars: 900,
  meanTokens: 300,
  hints:
    thinkHints > 0
      ? [
          {
            hint: 'general-1',
            trigger: 'think-end',
            position: 'late',
            count: 8,
            followedByTool: 6,
            correct: 4,
          },
        ]
      : [],
})

const ROWS = ['base', 'start-0', 'start'].flatMap((model, i) => [
  row(model, 'no-tools', 0, 0.1 + i * 0.05),
  row(model, 'tools', 0, 0.2 + i * 0.1),
  row(model, 'hints-1', 1, 0.3 + i * 0.1),
  row(model, 'hints-2', 2, 0.35 + i * 0.1),
])

const STEPS: TrainingRow[] = ['rl-a', 'rl-b'].flatMap((run, r) =>
  [1, 2, 3].map((step) => ({
    run,
    step,
    reward: -1 + step * 0.3 + r * 0.1,
    accuracy: step * 0.2,
    toolCallsPerRollout: 1,
    responseTokens: 250 - step,
    maskedFraction: 0.2,
    frac_reward_zero_std: 0.5,
    loss: 0.01,
  })),
)

const CHROMIUM = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/** The page as headless Chromium leaves it after its scripts ran; every chart checked as a person sees it. */
async function drawn(html: string): Promise<string> {
  const file = join(tempDir(), 'report.html')
  writeFileSync(file, html)
  const { stdout } = await execa('chromium', [
    ...CHROMIUM,
    `--user-data-dir=${tempDir()}`,
    '--dump-dom',
    `file://${file}`,
  ])
  expectChartsWhole(stdout)
  return stdout
}

/** Each chart holds all it draws (no label cut off at an edge); a rate axis ends at 100% at most. */
function expectChartsWhole(dom: string): void {
  const charts = [...dom.matchAll(/<svg [^>]*>/g)].map(([tag]) => tag)
  expect(charts.length).toBeGreaterThan(0)
  for (const tag of charts) {
    const numbers = (name: string) => new RegExp(`${name}="([^"]+)"`).exec(tag)![1]!.split(' ').map(Number)
    const [x, y, width, height] = numbers('viewBox')
    const [left, top, boxWidth, boxHeight] = numbers('data-content-box')
    expect(left, tag).toBeGreaterThanOrEqual(x!)
    expect(top, tag).toBeGreaterThanOrEqual(y!)
    expect(left! + boxWidth!, tag).toBeLessThanOrEqual(x! + width!)
    expect(top! + boxHeight!, tag).toBeLessThanOrEqual(y! + height!)
  }
  for (const [, ticks] of dom.matchAll(
    /<div class="chart" id="(?:accuracy|tool-use|hints|scaling|library-\w+)">(.*?)<\/svg>/gs,
  )) {
    const percents = [...ticks!.matchAll(/class="tick">(\d+)%</g)].map(([, value]) => Number(value))
    expect(percents.length).toBeGreaterThan(0)
    expect(Math.max(...percents)).toBeLessThanOrEqual(100)
  }
}

/** A screenshot of the page as a browser window shows it: a PNG of the window's size, not blank. */
async function screenshot(html: string, width: number, height: number): Promise<Buffer> {
  const dir = tempDir()
  const file = join(dir, 'report.html')
  const png = join(dir, 'report.png')
  writeFileSync(file, html)
  await execa('chromium', [
    ...CHROMIUM,
    `--user-data-dir=${tempDir()}`,
    '--hide-scrollbars',
    `--window-size=${width},${height}`,
    `--screenshot=${png}`,
    `file://${file}`,
  ])
  return readFileSync(png)
}

describe('the report', () => {
  it('summarizes in markdown, one row per result', () => {
    const markdown = markdownSummary(ROWS)
    const lines = markdown.trim().split('\n')
    expect(lines).toHaveLength(2 + ROWS.length)
    expect(lines[4]).toBe(
      '| base | dev | hints-1 | 30.0% [20.0%, 40.0%] | 30.0% | 40.0% (k=2) | 50.0% | 1.20 | 0.0% | 300 |',
    )
  })

  it('is one self-contained page whose plots Chromium draws (headless)', async () => {
    const html = htmlReport(ROWS, 'test <report>')
    expect(html).not.toMatch(/<script[^>]+src=|<link|<img|@import|https?:\/\/(?!www\.w3\.org\/2000\/svg)/)
    expect(html).toContain('<title>test &#60;report&#62;</title>')
    const stdout = await drawn(html)
    expect(stdout).toContain('data-report-drawn="6"')
    const count = (pattern: RegExp) => (stdout.match(pattern) ?? []).length
    // 4 categories x 3 models in the accuracy, tool-use, tool-call and length charts; 2 bars per hint row.
    expect(count(/<rect class="bar"/g)).toBe(4 * 12 + 2)
    expect(count(/<line class="whisker"/g)).toBe(12)
    expect(count(/<polyline class="line"/g)).toBe(3) // one scaling curve per model
    expect(stdout).toContain('<td>start</td><td>dev</td><td>hints-2</td><td>55%</td>')
  }, 60_000)

  it('pairs models on the same problems: who did better where, and the sign test', () => {
    const ids = Array.from({ length: 10 }, (_, i) => `q${i}`)
    const withProblems = (model: string, right: number) => ({
      ...row(model, 'tools', 0, right / 10),
      perProblem: Object.fromEntries(ids.map((id, i) => [id, i < right ? 1 : 0])),
    })
    const table = pairedComparisons([
      withProblems('start-0', 3),
      withProblems('rl', 9),
      row('old', 'tools', 0, 0.5),
    ])
    const lines = table.trim().split('\n')
    // Rows without per-problem results (older eval files) are left out.
    expect(lines).toHaveLength(3)
    expect(lines[2]).toBe('| dev | tools | start-0 | rl | 30.0% | 90.0% | 0 / 6 / 4 | 0.031 | - |')
  })

  it('with clusters, also tests over clusters: six wins from two templates are two units, not six', () => {
    const ids = Array.from({ length: 10 }, (_, i) => `q${i}`)
    // q0-q4 are one template, q5-q9 another
    const clusters = Object.fromEntries(ids.map((id, i) => [id, i < 5 ? 'a * #' : '# + #']))
    const withProblems = (model: string, right: number) => ({
      ...row(model, 'tools', 0, right / 10),
      perProblem: Object.fromEntries(ids.map((id, i) => [id, i < right ? 1 : 0])),
      clusters,
    })
    const [, , line] = pairedComparisons([withProblems('start-0', 3), withProblems('rl', 9)])
      .trim()
      .split('\n')
    // the sign test over problems says 0.031; over two clusters no split can say less than 0.5
    expect(line).toBe(
      '| dev | tools | start-0 | rl | 30.0% | 90.0% | 0 / 6 / 4 | 0.031 | 0.500 (2 clusters) |',
    )
  })

  it('draws start rl training curves per metric, one line per run, and summarizes them', async () => {
    const stdout = await drawn(htmlReport([], 'rl', STEPS))
    // 7 metrics logged (no KL: beta 0), each a chart with one curve per run; no eval sections.
    expect(stdout).toContain('data-report-drawn="7"')
    expect((stdout.match(/<polyline class="curve"/g) ?? []).length).toBe(7 * 2)
    expect(stdout).toContain('id="training-reward"')
    expect(stdout).not.toContain('id="accuracy"')
    const markdown = trainingSummary(STEPS).trim().split('\n')
    expect(markdown[2]).toBe('| rl-a | 3 | -0.700 -> -0.100 | 0.20 -> 0.60 | 1.00 | 0.50 |')
  }, 60_000)

  it('sets hint library versions side by side: efficacy per hint with intervals, and the lineage; screenshot', async () => {
    const rate = (value: number) => ({
      rate: value,
      low: Math.max(0, value - 0.2),
      high: Math.min(1, value + 0.2),
    })
    const efficacy = (correct: number, code: number) => ({
      correct: rate(correct),
      code: rate(code),
      prefixes: 8,
      continuations: 32,
    })
    const parent: HintLibrary = { ...TWO_HINT_LIBRARY, name: 'start' }
    const child: HintLibrary = {
      name: 'start-g1',
      generation: 1,
      parent: 'start.json',
      hints: [
        { ...parent.hints[0]!, efficacy: efficacy(0.4, 1) },
        { ...parent.hints[1]!, efficacy: efficacy(0.5, 0.9) },
        {
          id: 'complex-calculation-m1',
          category: 'complex-calculation',
          domain: 'math',
          text: 'Hmm, the numbers are getting large; let me compute it with Python.',
          efficacy: efficacy(0.75, 1),
          admitted: {
            parent: 'calc-1',
            reason:
              'admitted: +35.0 points of correct over calc-1 on 8 prefixes, p = 0.0039 (Holm 0.0078 <= 0.05)',
            pValue: 0.0039,
            adjustedP: 0.0078,
          },
        },
      ],
    }
    const versions: LibraryVersion[] = [
      { file: 'start.json', library: parent },
      { file: 'evolved/hint-library/start-g1.json', library: child },
    ]
    const markdown = libraryVersionsSummary(versions).split('\n')
    expect(markdown[0]).toBe(
      '| hint | category | start: correct | start: code | start-g1: correct | start-g1: code |',
    )
    expect(markdown[2]).toBe(
      '| calc-1 | complex-calculation | - | - | 40.0% [20.0%, 60.0%] | 100.0% [80.0%, 100.0%] |',
    )
    expect(markdown[4]).toBe(
      '| complex-calculation-m1 | complex-calculation | absent | absent | 75.0% [55.0%, 95.0%] | 100.0% [80.0%, 100.0%] |',
    )
    expect(markdown).toContain(
      '- start-g1 (evolved/hint-library/start-g1.json; generation 1, from start.json): 1 admitted',
    )
    expect(markdown).toContain(
      `  - complex-calculation-m1 ("${child.hints[2]!.text}"): ${child.hints[2]!.admitted!.reason}`,
    )

    // with eval rows whose hint labels are long (they were cut off at the chart's left edge)
    const longHints = ROWS.map((r) => ({
      ...r,
      hints: r.hints.map((h) => ({ ...h, hint: 'complex-calculation-with-a-long-name' })),
    }))
    const html = htmlReport(longHints, 'versions', [], versions)
    const dom = await drawn(html)
    expect(dom).toContain('data-report-drawn="8"') // 6 eval charts and 2 library charts
    const libraryChart = /<div class="chart" id="library-correct">(.*?)<\/svg>/s.exec(dom)![1]!
    // the parent has no measured efficacy: bars and whiskers for the 3 hints of the child only
    expect((libraryChart.match(/<rect class="bar"/g) ?? []).length).toBe(3)
    expect((libraryChart.match(/<line class="whisker"/g) ?? []).length).toBe(3)
    expect(dom).toContain(
      'start-g1</b> (evolved/hint-library/start-g1.json; generation 1, from start.json): 1 admitted',
    )

    const png = await screenshot(html, 1200, 3000)
    expect(png.subarray(1, 4).toString()).toBe('PNG')
    expect(png.readUInt32BE(16)).toBe(1200) // IHDR width and height
    expect(png.readUInt32BE(20)).toBe(3000)
    expect(png.length).toBeGreaterThan(30_000) // charts and text, not an empty page
  }, 60_000)
})
