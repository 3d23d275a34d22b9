import pLimit from 'p-limit'

/**
 * Maps items with at most `concurrency` calls of `map` in flight and yields each result as soon as it
 * and every result before it are ready, in input order. Input is read ahead while results wait, up to
 * `concurrency * 4` of them, so memory stays flat on long inputs and a slow or held-open input (a pipe)
 * does not hold back results that are done. An input error surfaces after the results before it.
 */
export async function* orderedMap<T, R>(
  items: AsyncIterable<T>,
  concurrency: number,
  map: (item: T) => Promise<R>,
): AsyncGenerator<R> {
  const limit = pLimit(Math.max(1, concurrency))
  const maxWaiting = Math.max(1, concurrency) * 4
  const window: Promise<R>[] = []
  let inputDone = false
  let inputError: { error: unknown } | undefined
  let stopped = false
  // Wakes whichever side waits: the reader when the window has room, the consumer when an item arrives.
  let wake: (() => void) | undefined
  const signal = () => {
    const resume = wake
    wake = undefined
    resume?.()
  }
  const waitForSignal = () => new Promise<void>((resolve) => (wake = resolve))

  void (async () => {
    try {
      for await (const item of items) {
        if (stopped) return
        const pending = limit(() => map(item))
        // Awaited in order by the consumer; this only keeps an early failure from going unhandled.
        pending.catch(() => {})
        window.push(pending)
        signal()
        while (window.length >= maxWaiting && !stopped) await waitForSignal()
      }
    } catch (error) {
      inputError = { error }
    } finally {
      inputDone = true
      signal()
    }
  })()

  try {
    while (true) {
      if (window.length > 0) {
        const head = window.shift()!
        signal()
        yield await head
      } else if (inputDone) {
        if (inputError) throw inputError.error
        return
      } else await waitForSignal()
    }
  } finally {
    // The reader may be blocked on a held-open input; it stops at its next item.
    stopped = true
    signal()
  }
}
