// Rewrites what is generated from declarations in the code: `npm run docs`. The option tables of the
// README and docs/, and the trainer protocol's JSON for the Python side.
import { readFileSync, writeFileSync } from 'node:fs'
import { relative } from 'node:path'
import { optionDocFiles, renderOptionTables } from '../src/cli/option-docs.js'
import { PROTOCOL_JSON_FILE, protocolJson } from '../src/training/trainer-protocol.js'

for (const file of optionDocFiles('.')) {
  const text = readFileSync(file, 'utf8')
  const rendered = renderOptionTables(text)
  if (rendered !== text) writeFileSync(file, rendered)
  console.log(`${file}: option tables ${rendered === text ? 'current' : 'rewritten'}`)
}

const protocol = protocolJson()
const current = readFileSync(PROTOCOL_JSON_FILE, { encoding: 'utf8', flag: 'a+' }) === protocol
if (!current) writeFileSync(PROTOCOL_JSON_FILE, protocol)
console.log(`${relative('.', PROTOCOL_JSON_FILE)}: ${current ? 'current' : 'rewritten'}`)
