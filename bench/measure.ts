import pLimit from 'p-limit'

export interface Measure {
  perSecond: number
  p50: number
  p99: number
}

/** Runs `run` `count` times, `concurrency` at once: throughput and latency percentiles (ms). */
export async function measure(
  count: number,
  concurrency: number,
  run: () => Promise<void>,
): Promise<Measure> {
  const limit = pLimit(concurrency)
  const latencies: number[] = []
  const started = performance.now()
  await Promise.all(
    Array.from({ length: count }, () =>
      limit(async () => {
        const t = performance.now()
        await run()
        latencies.push(performance.now() - t)
      }),
    ),
  )
  const seconds = (performance.now() - started) / 1000
  latencies.sort((a, b) => a - b)
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!
  return { perSecond: count / seconds, p50: at(0.5), p99: at(0.99) }
}
