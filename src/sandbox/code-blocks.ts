/** A fenced Python block found in model text. */
export interface CodeBlock {
  code: string
  /** Character offsets of the whole fence in the text. */
  start: number
  end: number
}

// A fence opens with ```python or ```py at the start of a line and closes with ``` on its own line.
const PYTHON_FENCE = /^```(?:python|py)[ \t]*\r?\n([\s\S]*?)^```[ \t]*$/gm

/** Every closed ```python block, in order; an unclosed block at the end is not code yet. */
export function extractPythonBlocks(text: string): CodeBlock[] {
  const blocks: CodeBlock[] = []
  for (const match of text.matchAll(PYTHON_FENCE)) {
    blocks.push({
      code: match[1]!.replace(/\r?\n$/, ''),
      start: match.index!,
      end: match.index! + match[0].length,
    })
  }
  return blocks
}
