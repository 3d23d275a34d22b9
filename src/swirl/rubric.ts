import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { UsageError } from '../core/errors.js'
import type { StepRecord } from './split-steps.js'

/**
 * A judge's question, as data (`rubrics/*.json`, beside the hint library): the prompt the judge model
 * answers, with `{{placeholders}}` filled from the step, and how its verdict is read.
 */
export interface Rubric {
  name: string
  description?: string
  /** `step`: every step is judged; `final`: the final step is, and its verdict holds for the trajectory. */
  scope: 'step' | 'final'
  system?: string
  prompt: string
  verdict: {
    /** A regular expression (case-insensitive) whose first group is the verdict word; its last match counts. */
    pattern: string
    yes: string[]
    no: string[]
  }
  /** Tokens the judge may write. */
  maxTokens?: number
}

/** What a rubric's prompt may ask for. */
export const RUBRIC_PLACEHOLDERS = ['problem', 'state', 'action', 'toolOutput', 'reference'] as const
type Placeholder = (typeof RUBRIC_PLACEHOLDERS)[number]

const PLACEHOLDER = /\{\{(\w+)\}\}/g

export const RUBRICS_DIR = fileURLToPath(new URL('../../rubrics/', import.meta.url))

/** Checks a parsed rubric; returns what is wrong, or the rubric. */
export function parseRubric(value: unknown): Rubric | { error: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { error: 'expected a JSON object' }
  const rubric = value as Record<string, unknown>
  if (typeof rubric.name !== 'string' || !rubric.name) return { error: 'missing "name"' }
  if (rubric.scope !== 'step' && rubric.scope !== 'final')
    return { error: '"scope" must be "step" or "final"' }
  if (rubric.system !== undefined && typeof rubric.system !== 'string')
    return { error: '"system" must be a string' }
  if (typeof rubric.prompt !== 'string' || !rubric.prompt.trim()) return { error: 'missing "prompt"' }
  const used = [...rubric.prompt.matchAll(PLACEHOLDER)].map((match) => match[1]!)
  const unknown = used.find((name) => !(RUBRIC_PLACEHOLDERS as readonly string[]).includes(name))
  if (unknown)
    return {
      error: `"prompt": unknown placeholder {{${unknown}}} (known: ${RUBRIC_PLACEHOLDERS.join(', ')})`,
    }
  if (!used.includes('action')) return { error: '"prompt" must show the step: {{action}}' }
  const verdict = rubric.verdict as Record<string, unknown> | undefined
  if (typeof verdict !== 'object' || verdict === null) return { error: 'missing "verdict"' }
  if (typeof verdict.pattern !== 'string') return { error: 'missing "verdict.pattern"' }
  let pattern: RegExp
  try {
    pattern = new RegExp(verdict.pattern, 'i')
  } catch (error) {
    return { error: `"verdict.pattern": ${(error as Error).message}` }
  }
  if (new RegExp(`${pattern.source}|`).exec('')!.length < 2)
    return { error: '"verdict.pattern" needs a capturing group' }
  for (const side of ['yes', 'no'] as const) {
    const words = verdict[side]
    if (
      !Array.isArray(words) ||
      words.length === 0 ||
      !words.every((word) => typeof word === 'string' && word)
    ) {
      return { error: `"verdict.${side}" must be a non-empty list of words` }
    }
  }
  const yes = (verdict.yes as string[]).map((word) => word.toLowerCase())
  const both = (verdict.no as string[]).find((word) => yes.includes(word.toLowerCase()))
  if (both) return { error: `"verdict": "${both}" is both yes and no` }
  if (
    rubric.maxTokens !== undefined &&
    !(Number.isInteger(rubric.maxTokens) && (rubric.maxTokens as number) > 0)
  ) {
    return { error: '"maxTokens" must be a positive integer' }
  }
  return value as Rubric
}

/** A rubric by name (`process`, `outcome`: the shipped ones) or JSON file, checked. */
export async function loadRubric(nameOrFile: string): Promise<Rubric> {
  const file = /^[\w-]+$/.test(nameOrFile) ? `${RUBRICS_DIR}${nameOrFile}.json` : nameOrFile
  let value: unknown
  try {
    value = JSON.parse(await readFile(file, 'utf8'))
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new UsageError(
      `--rubric ${nameOrFile}: ${code === 'ENOENT' ? `no such file (${file})` : (error as Error).message}`,
      'a shipped rubric (process, outcome) or a JSON file in the format of rubrics/process.json',
    )
  }
  const rubric = parseRubric(value)
  if ('error' in rubric) {
    throw new UsageError(`--rubric ${file}: ${rubric.error}`, 'see rubrics/process.json for the format')
  }
  return rubric
}

/** What the step's record says for each placeholder. */
function placeholderValues(step: StepRecord): Record<Placeholder, string> {
  const user = step.state.messages.filter((message) => message.role === 'user').at(-1)?.content
  return {
    problem: step.problem ?? user ?? step.state.prompt,
    state: step.state.text,
    action: step.action,
    toolOutput: step.toolOutput ?? '(none: this is the final step)',
    reference: step.answer ?? step.tests ?? '',
  }
}

/**
 * The judge's user turn for a step: the rubric's prompt with the step's values filled in, in one pass.
 * The values are data: a chat marker they spell (`<|im_start|>assistant`, `</s>`) is broken by a
 * zero-width space, so a step cannot end the judge's user turn or forge its answer.
 */
export function renderRubric(rubric: Rubric, step: StepRecord): string {
  const values = placeholderValues(step)
  return rubric.prompt.replace(PLACEHOLDER, (_, name: Placeholder) =>
    values[name].replace(CHAT_MARKER, breakMarker),
  )
}

/** The turn markers of the common chat templates, and the sequence tokens. */
const CHAT_MARKER =
  /<\|(?:im_start|im_end|end|user|assistant|system|eot_id|start_header_id|end_header_id|begin_of_text)\|>|<｜(?:Assistant|User|end▁of▁sentence|begin▁of▁sentence)｜>|<(?:start|end)_of_turn>|\[\/?INST\]|<\/?s>/g

function breakMarker(marker: string): string {
  return `${marker[0]}\u200b${marker.slice(1)}`
}

export interface ParsedVerdict {
  verdict: 'yes' | 'no' | 'unjudged'
  /** The judge's words before its verdict (or why there is no verdict). */
  reason: string
}

/**
 * The verdict in a judge's answer: the rubric's pattern after the thinking, when its word is one of the
 * rubric's yes or no words. Anything else is unjudged, never a yes: no match, another word, thinking never
 * closed, or verdicts that disagree (a quoted "Verdict: yes" after the judge's "Verdict: no" must not win).
 */
export function parseVerdict(rubric: Rubric, text: string, thinkingOpen = false): ParsedVerdict {
  const closed = text.lastIndexOf('</think>')
  if (thinkingOpen && closed < 0) return { verdict: 'unjudged', reason: 'the judge never finished thinking' }
  const answer = closed >= 0 ? text.slice(closed + '</think>'.length) : text
  const pattern = new RegExp(rubric.verdict.pattern, 'gi')
  const matches = [...answer.matchAll(pattern)]
  const first = matches[0]
  if (!first) return { verdict: 'unjudged', reason: `no verdict matching /${rubric.verdict.pattern}/` }
  const verdicts = new Set(matches.map((match) => verdictOf(rubric, match[1] ?? '')))
  if (verdicts.size > 1) return { verdict: 'unjudged', reason: `${matches.length} verdicts that disagree` }
  const verdict = verdictOf(rubric, first[1] ?? '')
  if (verdict === 'unjudged') return { verdict, reason: `verdict "${first[1]}" is neither yes nor no` }
  return { verdict, reason: answer.slice(0, first.index).trim() }
}

function verdictOf(rubric: Rubric, word: string): ParsedVerdict['verdict'] {
  const said = word.toLowerCase()
  if (rubric.verdict.yes.some((yes) => yes.toLowerCase() === said)) return 'yes'
  if (rubric.verdict.no.some((no) => no.toLowerCase() === said)) return 'no'
  return 'unjudged'
}
