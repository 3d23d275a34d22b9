import type { Problem } from './types.js'

/**
 * A code problem's sample tests: the examples its prompt shows (docstring `>>> call` lines with the
 * expected result on the next line), as the model may read them, for a hint's `{tests}`. Never the hidden
 * tests the grader runs. Undefined when the prompt shows none, and for math problems.
 */
export function sampleTests(problem: Problem): string | undefined {
  if (problem.kind !== 'code') return undefined
  const lines = problem.problem.split('\n').map((line) => line.trim())
  const examples: string[] = []
  for (const [i, line] of lines.entries()) {
    if (!line.startsWith('>>> ')) continue
    const expected = lines[i + 1]
    examples.push(
      expected && !expected.startsWith('>>>') && expected !== '"""' ? `${line}\n${expected}` : line,
    )
  }
  return examples.length > 0 ? examples.join('\n') : undefined
}
