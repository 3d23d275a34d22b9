import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { execa } from 'execa'
import { ensureTrainingEnv } from '../src/training/python-env.js'

/**
 * The source model widened and deepened (`FFN,LAYERS`) with outputs that add nothing: the same function
 * at a higher cost per token (scaled_model.py), written under `dir`.
 */
export async function scaledModel(from: string, spec: string, dir: string): Promise<string> {
  const [ffn, layers] = spec.split(',')
  const out = join(dir, `scaled-${ffn}-${layers}.gguf`)
  const { python } = await ensureTrainingEnv()
  await execa(python, [
    fileURLToPath(new URL('scaled_model.py', import.meta.url)),
    from,
    out,
    '--ffn',
    ffn!,
    '--layers',
    layers!,
  ])
  return out
}
