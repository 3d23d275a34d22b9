import { writeFileSync } from 'node:fs'
import type { HintLibrary } from '../../src/hints/library.js'

/** A library of two math categories, one hint each: what evolve, the report and the served tests vary. */
export const TWO_HINT_LIBRARY: HintLibrary = {
  name: 'small',
  hints: [
    {
      id: 'calc-1',
      category: 'complex-calculation',
      domain: 'math',
      text: 'Wait, maybe using Python here is a good idea.',
    },
    {
      id: 'reflect-1',
      category: 'self-reflection',
      domain: 'math',
      text: 'Wait, let me verify this with Python.',
    },
  ],
}

/** The two-hint library written to `file`, for a `--hints FILE`. */
export function writeTwoHintLibrary(file: string): string {
  writeFileSync(file, JSON.stringify(TWO_HINT_LIBRARY))
  return file
}
