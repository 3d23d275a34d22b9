import { outputBlock } from '../core/fences.js'
import type { ExecutionResult } from '../sandbox/types.js'

/**
 * The ```output block appended after a code block, in the form the tool-integrated reasoning
 * peers use (ToRA, Qwen2.5-Math): stdout, then the error's last line; an empty output stays empty. Its
 * fence is longer than any backtick run the output holds, so nothing a cell prints can end the block.
 */
export function formatOutput(result: ExecutionResult, maxChars: number): string {
  let text = result.stdout
  if (result.timedOut) text += `${text && !text.endsWith('\n') ? '\n' : ''}TimeoutError: execution timed out`
  else if (result.exitCode !== 0) {
    const lines = result.stderr.trim().split('\n')
    const error = lines[lines.length - 1] ?? ''
    if (error) text += `${text && !text.endsWith('\n') ? '\n' : ''}${error}`
  }
  text = text.replace(/\s+$/, '')
  if (text.length > maxChars) {
    const half = Math.floor(maxChars / 2)
    text = `${text.slice(0, half)}\n... [${text.length - 2 * half} characters truncated] ...\n${text.slice(-half)}`
  }
  return outputBlock(text)
}
