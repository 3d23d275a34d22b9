import { describe, expect, it } from 'vitest'
import { extractPythonBlocks } from '../../src/sandbox/code-blocks.js'

describe('extractPythonBlocks', () => {
  it('finds closed python blocks in order and ignores output and other fences', () => {
    const text = [
      'Wait, maybe using Python here is a good idea.',
      '```python',
      'x = 6 * 7',
      'print(x)',
      '```',
      '```output',
      '42',
      '```',
      '```js',
      'console.log(1)',
      '```',
      '```py',
      'print(x + 1)',
      '```',
      '```python',
      'print("never closed")',
    ].join('\n')
    const blocks = extractPythonBlocks(text)
    expect(blocks.map((b) => b.code)).toEqual(['x = 6 * 7\nprint(x)', 'print(x + 1)'])
    expect(text.slice(blocks[0]!.start, blocks[0]!.end)).toBe('```python\nx = 6 * 7\nprint(x)\n```')
  })

  it('does not treat an inline mention as a fence', () => {
    expect(extractPythonBlocks('use ```python code``` here')).toEqual([])
  })
})
