import { describe, expect, it } from 'vitest'
import { BUILD_OPTIONS, llamaServerArgs } from '../../src/llama-server/runner.js'

describe('llama-server', () => {
  const options = {
    model: '/m/model.gguf',
    host: '127.0.0.1',
    port: 8123,
    parallel: 4,
    ctxSize: 0,
    threads: 0,
  }

  it('passes the model, address, slots and context, and threads only when set', () => {
    const args = llamaServerArgs(options)
    expect(args.join(' ')).toContain(
      '--model /m/model.gguf --host 127.0.0.1 --port 8123 --parallel 4 --ctx-size 0',
    )
    expect(args).toContain('--cont-batching')
    expect(args).not.toContain('--threads')
    expect(llamaServerArgs({ ...options, threads: 2 }).join(' ')).toContain('--threads 2')
  })

  it('builds only what it needs, downloads nothing, and links statically so the binary can move', () => {
    expect(BUILD_OPTIONS).toContain('-DLLAMA_USE_PREBUILT_UI=OFF')
    expect(BUILD_OPTIONS).toContain('-DBUILD_SHARED_LIBS=OFF')
    expect(BUILD_OPTIONS).toContain('-DLLAMA_OPENSSL=OFF')
  })
})
