import { describe, expect, it } from 'vitest'
import { orderedMap } from '../../src/core/ordered-map.js'

/** An input whose items arrive when the test pushes them, like a pipe held open. */
function heldOpen<T>() {
  const items: T[] = []
  let wake: (() => void) | undefined
  let closed = false
  let failure: Error | undefined
  const iterable: AsyncIterable<T> = {
    async *[Symbol.asyncIterator]() {
      while (true) {
        if (items.length > 0) yield items.shift()!
        else if (failure) throw failure
        else if (closed) return
        else await new Promise<void>((resolve) => (wake = resolve))
      }
    },
  }
  const poke = () => {
    const resume = wake
    wake = undefined
    resume?.()
  }
  return {
    iterable,
    push: (item: T) => {
      items.push(item)
      poke()
    },
    close: () => {
      closed = true
      poke()
    },
    fail: (error: Error) => {
      failure = error
      poke()
    },
  }
}

describe('orderedMap', () => {
  it('yields a finished result before the input ends', async () => {
    const input = heldOpen<number>()
    const results = orderedMap(input.iterable, 4, async (n) => n * 10)
    input.push(1)
    expect(await results.next()).toEqual({ value: 10, done: false })
    input.push(2)
    expect(await results.next()).toEqual({ value: 20, done: false })
    input.close()
    expect((await results.next()).done).toBe(true)
  })

  it('keeps input order when later items finish first', async () => {
    const delays = [30, 1, 15, 0, 5]
    const results: number[] = []
    const items = (async function* () {
      yield* delays.keys()
    })()
    for await (const index of orderedMap(items, 3, async (i) => {
      await new Promise((resolve) => setTimeout(resolve, delays[i]))
      return i
    }))
      results.push(index)
    expect(results).toEqual([0, 1, 2, 3, 4])
  })

  it('runs at most `concurrency` maps at once and reads at most 4x ahead', async () => {
    let running = 0
    let most = 0
    let read = 0
    const items = (async function* () {
      for (let i = 0; i < 40; i++) {
        read++
        yield i
      }
    })()
    const results = orderedMap(items, 2, async (i) => {
      running++
      most = Math.max(most, running)
      await new Promise((resolve) => setTimeout(resolve, 1))
      running--
      return i
    })
    await results.next()
    expect(read).toBeLessThanOrEqual(2 * 4 + 1)
    for await (const _ of results) {
    }
    expect(most).toBe(2)
  })

  it('yields the results before a bad input item, then throws its error', async () => {
    const input = heldOpen<number>()
    const seen: number[] = []
    input.push(1)
    input.push(2)
    input.fail(new Error('line 3: invalid JSON'))
    const consume = async () => {
      for await (const value of orderedMap(input.iterable, 2, async (n) => n)) seen.push(value)
    }
    await expect(consume()).rejects.toThrow('line 3: invalid JSON')
    expect(seen).toEqual([1, 2])
  })
})
