import pLimit from 'p-limit'

/**
 * Maps items with at most `concurrency` calls of `map` in flight and yields the results in input
 * order. At most `concurrency * 4` results wait for their turn, so memory stays flat on long inputs.
 */
export async function* orderedMap<T, R>(
  items: AsyncIterable<T>,
  concurrency: number,
  map: (item: T) => Promise<R>,
): AsyncGenerator<R> {
  const limit = pLimit(Math.max(1, concurrency))
  const window: Promise<R>[] = []
  const maxWaiting = Math.max(1, concurrency) * 4
  for await (const item of items) {
    const pending = limit(() => map(item))
    // Awaited in order below; this only keeps an early failure from going unhandled meanwhile.
    pending.catch(() => {})
    window.push(pending)
    while (window.length >= maxWaiting) yield await window.shift()!
  }
  while (window.length > 0) yield await window.shift()!
}
