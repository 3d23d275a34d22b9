import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadHintLibrary, parseHintLibrary } from '../../src/hints/library.js'
import { tempDir } from '../integration/cli.js'

describe('hint library', () => {
  it('ships START categories and a code category, valid', async () => {
    const library = await loadHintLibrary()
    const categories = new Set(library.hints.map((hint) => hint.category))
    for (const category of [
      'complex-calculation',
      'self-reflection',
      'logic-check',
      'alternative-method',
      'general-tool-use',
      'deep-thinking',
      'code-test',
    ]) {
      expect(categories.has(category)).toBe(true)
      expect(library.hints.filter((hint) => hint.category === category).length).toBeGreaterThanOrEqual(2)
    }
  })

  it.each([
    [{ hints: [] }, 'missing "name"'],
    [{ name: 'x', hints: [] }, '"hints" must be a non-empty array'],
    [{ name: 'x', hints: [{ id: 'a', category: 'c', domain: 'math' }] }, 'hints[0]: missing "text"'],
    [
      { name: 'x', hints: [{ id: 'a', category: 'c', domain: 'physics', text: 't' }] },
      'hints[0]: "domain" must be "math", "code" or "any"',
    ],
    [
      { name: 'x', hints: [{ id: 'a', category: 'c', domain: 'math', text: 'Run {tests}' }] },
      "hints[0]: placeholder {tests} unknown (a code hint may hold {tests}: the problem's sample tests)",
    ],
    [
      { name: 'x', hints: [{ id: 'a', category: 'c', domain: 'code', text: 'Run {answer}' }] },
      "hints[0]: placeholder {answer} unknown (a code hint may hold {tests}: the problem's sample tests)",
    ],
    [
      {
        name: 'x',
        hints: [{ id: 'a', category: 'c', domain: 'code', text: 't', efficacy: { code: { rate: 2 } } }],
      },
      'hints[0]: "efficacy" needs "code" and "correct" rates between 0 and 1',
    ],
    [
      {
        name: 'x',
        hints: [
          { id: 'a', category: 'c', domain: 'any', text: 't' },
          { id: 'a', category: 'c', domain: 'any', text: 't' },
        ],
      },
      'hints[1]: duplicate id "a"',
    ],
  ])('rejects %j', (value, error) => {
    expect(parseHintLibrary(value)).toEqual({ error })
  })

  it('names the file of a bad library', async () => {
    const file = join(tempDir(), 'hints.json')
    writeFileSync(file, '{"name": "x", "hints": [{"id": "a"}]}')
    await expect(loadHintLibrary(file)).rejects.toThrow(`--hints ${file}: hints[0]: missing "category"`)
    await expect(loadHintLibrary('/nope.json')).rejects.toThrow('--hints /nope.json: no such file')
  })
})
