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
  return { perSecond: count / seconds, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) }
}

/** The value at quantile `q` of `values` (for an even count, the upper of the two middle values at 0.5). */
export function percentile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
}
