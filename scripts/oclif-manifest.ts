// Writes oclif.manifest.json after the build: without it, oclif imports every command (node-llama-cpp,
// the trainer, the sandbox...) on every start to learn their flags, about 0.6 s before any work.
import { rmSync, writeFileSync } from 'node:fs'
import { Config } from '@oclif/core'

const MANIFEST = 'oclif.manifest.json'
rmSync(MANIFEST, { force: true })
const config = await Config.load(process.cwd())
const manifest = config.getPluginsList().find((plugin) => plugin.isRoot)?.manifest
if (!manifest || Object.keys(manifest.commands).length === 0) throw new Error('oclif found no commands in dist/')
writeFileSync(MANIFEST, `${JSON.stringify(manifest, null, 1)}\n`)
console.log(`${MANIFEST}: ${Object.keys(manifest.commands).length} commands`)
