// Rewrites the README's option tables from the option declarations: `npm run docs`.
import { readFileSync, writeFileSync } from 'node:fs'
import { renderOptionTables } from '../src/cli/option-docs.js'

const readme = readFileSync('README.md', 'utf8')
const rendered = renderOptionTables(readme)
if (rendered !== readme) writeFileSync('README.md', rendered)
console.log(rendered === readme ? 'README.md: option tables current' : 'README.md: option tables rewritten')
