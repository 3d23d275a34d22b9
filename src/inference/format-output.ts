import { outputBlock } from '../core/fences.js'
import type { ExecutionResult } from '../sandbox/types.js'
import type { TextTokenizer } from './engine.js'
import type { TruncateSide } from './options.js'

/** A tool output's limit in the model's tokens (`--max-tool-output-tokens`, `--truncate-side`). */
export interface OutputTokenLimit {
  maxTokens: number
  side: TruncateSide
  tokenizer: TextTokenizer
}

/**
 * The ```output block appended after a code block, in the form the tool-integrated reasoning
 * peers use (ToRA, Qwen2.5-Math): stdout, then the error's last line; an empty output stays empty. Its
 * fence is longer than any backtick run the output holds, so nothing a cell prints can end the block.
 */
export async function formatOutput(
  result: ExecutionResult,
  maxChars: number,
  tokenLimit?: OutputTokenLimit,
): Promise<string> {
  let text = outputText(result)
  if (tokenLimit && tokenLimit.maxTokens > 0) text = await truncateTokens(text, tokenLimit)
  if (text.length > maxChars) {
    const half = Math.floor(maxChars / 2)
    text = `${text.slice(0, half)}\n... [${text.length - 2 * half} characters truncated] ...\n${text.slice(-half)}`
  }
  return outputBlock(text)
}

/** What an execution shows the model: stdout, then the error's last line, trailing space trimmed. */
function outputText(result: ExecutionResult): string {
  let text = result.stdout
  if (result.timedOut) text += `${text && !text.endsWith('\n') ? '\n' : ''}TimeoutError: execution timed out`
  else if (result.exitCode !== 0) {
    const lines = result.stderr.trim().split('\n')
    const error = lines[lines.length - 1] ?? ''
    if (error) text += `${text && !text.endsWith('\n') ? '\n' : ''}${error}`
  }
  return text.replace(/\s+$/, '')
}

/**
 * `text` cut to `maxTokens` of the model's tokens, the rest replaced by a line that says how many were
 * cut: `left` keeps the end, `right` the start, `middle` both ends (the start's half rounded down).
 */
export async function truncateTokens(text: string, limit: OutputTokenLimit): Promise<string> {
  const tokens = await limit.tokenizer.encode(text)
  const cut = tokens.length - limit.maxTokens
  if (cut <= 0) return text
  const marker = `... [${cut} tokens truncated] ...`
  const { tokenizer, maxTokens } = limit
  if (limit.side === 'left') return `${marker}\n${await tokenizer.decode(tokens.slice(cut))}`
  if (limit.side === 'right') return `${await tokenizer.decode(tokens.slice(0, maxTokens))}\n${marker}`
  const head = Math.floor(maxTokens / 2)
  const [start, end] = await Promise.all([
    tokenizer.decode(tokens.slice(0, head)),
    tokenizer.decode(tokens.slice(tokens.length - (maxTokens - head))),
  ])
  return `${start}\n${marker}\n${end}`
}
