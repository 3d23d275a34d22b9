import { getLlama, type Token } from 'node-llama-cpp'
import pLimit from 'p-limit'

/**
 * The baseline of the engine benches: plain node-llama-cpp, greedy, from the same prompts, each
 * generating exactly `tokens` tokens (past the end of turn too, so a short answer does not make the
 * baseline cheaper), `parallel` sequences in one context. Generated tokens per second.
 */
export async function plainGenerationRate(
  options: { model: string; threads: number; parallel: number; gpu: 'auto' | false },
  work: { prompt: string; tokens: number }[],
): Promise<number> {
  const llama = await getLlama({ gpu: options.gpu, build: 'never', maxThreads: options.threads })
  const loaded = await llama.loadModel({ modelPath: options.model })
  const context = await loaded.createContext({
    sequences: options.parallel,
    contextSize: Math.min(loaded.trainContextSize, 8192),
    threads: options.threads,
  })
  try {
    const free = Array.from({ length: options.parallel }, () => context.getSequence())
    const limit = pLimit(options.parallel)
    const started = performance.now()
    let generated = 0
    await Promise.all(
      work.map(({ prompt, tokens: wanted }) =>
        limit(async () => {
          const sequence = free.pop()!
          await sequence.clearHistory()
          let count = 0
          const tokens: Token[] = loaded.tokenize(prompt, true)
          for await (const _ of sequence.evaluate(tokens, { temperature: 0, yieldEogToken: true })) {
            if (++count >= wanted) break
          }
          generated += count
          free.push(sequence)
        }),
      ),
    )
    return generated / ((performance.now() - started) / 1000)
  } finally {
    await context.dispose()
    await loaded.dispose()
    await llama.dispose()
  }
}
