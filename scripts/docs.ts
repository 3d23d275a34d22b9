// Rewrites the option tables of the README and docs/ from the option declarations: `npm run docs`.
import { readFileSync, writeFileSync } from 'node:fs'
import { optionDocFiles, renderOptionTables } from '../src/cli/option-docs.js'

for (const file of optionDocFiles('.')) {
  const text = readFileSync(file, 'utf8')
  const rendered = renderOptionTables(text)
  if (rendered !== text) writeFileSync(file, rendered)
  console.log(`${file}: option tables ${rendered === text ? 'current' : 'rewritten'}`)
}
