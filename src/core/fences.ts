/**
 * Fenced blocks as CommonMark pairs them: a fence of N backticks is closed only by a run of at least N.
 * An interpreter's output is fenced with more backticks than any run it holds, so nothing a cell prints
 * (a line of ``` built as chr(96)*3) can close its block and have what follows read as the model's text.
 */

/** The longest run of backticks in `text`. Linear. */
function longestBacktickRun(text: string): number {
  let longest = 0
  let run = 0
  for (let i = 0; i < text.length; i++) {
    run = text.charCodeAt(i) === 96 ? run + 1 : 0
    if (run > longest) longest = run
  }
  return longest
}

/** The ```output block for `text`: its fence is longer than any backtick run inside (three at least). */
export function outputBlock(text: string): string {
  const fence = '`'.repeat(Math.max(3, longestBacktickRun(text) + 1))
  return `${fence}output\n${text}\n${fence}\n`
}

/** Every ```output block of a text (fenced with three backticks or more), its whole span and its body. */
export const OUTPUT_BLOCK = /(`{3,})output\n([\s\S]*?)\n?\1(?!`)\n?/g

/** An ```output block's body: its text between the fences. */
export function outputBody(block: string): string {
  return block.replace(/^\n?(`{3,})output\n([\s\S]*?)\n?\1\n?$/, '$2')
}

/**
 * The text outside fenced blocks; each block becomes a line break. Outside a block any run of three
 * backticks or more opens one. Inside a block of N backticks, a shorter run is its content; a longer or
 * equal bare run closes it, and one with a language (```output) closes it and opens the next, as no block
 * holds a fence with a language. So a malformed opener the model wrote (``python) cannot shift the pairing
 * of the fences after it; an unclosed block runs to the end. Linear.
 */
export function outsideFences(text: string): string {
  let kept = ''
  let from = 0
  let open = 0
  for (const fence of text.matchAll(/(`{3,})(\w*)/g)) {
    const length = fence[1]!.length
    if (open === 0) {
      kept += text.slice(from, fence.index)
      open = length
    } else if (length >= open) {
      if (fence[2]) open = length
      else {
        open = 0
        kept += '\n'
        from = fence.index + fence[0].length
      }
    }
  }
  return open > 0 ? kept : kept + text.slice(from)
}
