/** The content of the last \boxed{...} (or \fbox{...}), braces balanced; undefined if none is closed. */
export function extractBoxed(text: string): string | undefined {
  const pattern = /\\(?:boxed|fbox)\s*\{/g
  let found: string | undefined
  for (const match of text.matchAll(pattern)) {
    let depth = 1
    let end = match.index + match[0].length
    for (; end < text.length && depth > 0; end++) {
      if (text[end] === '{') depth++
      else if (text[end] === '}') depth--
    }
    if (depth === 0) found = text.slice(match.index + match[0].length, end - 1).trim()
  }
  return found
}
