import { type ChildProcess, spawn } from 'node:child_process'
import { closeSync, createWriteStream, existsSync, openSync, readFileSync } from 'node:fs'
import { copyFile, mkdir, rename, rm } from 'node:fs/promises'
import { createServer as createNetServer } from 'node:net'
import { availableParallelism } from 'node:os'
import { basename, join, resolve } from 'node:path'
import { execa } from 'execa'
import { UsageError } from '../core/errors.js'
import { ensureLlamaCppSource } from '../core/llama-cpp-source.js'
import { diesWithParent } from '../core/process-alive.js'
import { startHome } from '../core/start-home.js'

/**
 * llama.cpp's own HTTP server, built once from the llama.cpp source node-llama-cpp ships (the same
 * version the in-process engine runs) and kept in start's home: the real OpenAI-compatible server for
 * one box, and for the tests of served inference.
 */
export interface ServerBuild {
  binary: string
  /** False when a build from an earlier run was reused. */
  built: boolean
  log: string
}

/**
 * CMake options of the build: only the server target, its web UI from the source (never downloaded), no
 * network client, static libraries so the binary can move out of the build tree.
 */
export const BUILD_OPTIONS = [
  '-DCMAKE_BUILD_TYPE=Release',
  '-DBUILD_SHARED_LIBS=OFF',
  '-DLLAMA_BUILD_SERVER=ON',
  '-DLLAMA_USE_PREBUILT_UI=OFF',
  '-DLLAMA_BUILD_TESTS=OFF',
  '-DLLAMA_BUILD_EXAMPLES=OFF',
  '-DLLAMA_OPENSSL=OFF',
]

/** Builds llama-server unless an earlier run did; `onStart` gets a line saying a build begins and where its log is. */
export async function ensureLlamaServer(onStart?: (notice: string) => void): Promise<ServerBuild> {
  const source = await ensureLlamaCppSource()
  const name = basename(source).replace(/^llama\.cpp-/, 'llama-server-')
  const binary = join(startHome(), name, 'llama-server')
  const log = join(startHome(), `${name}.build.log`)
  if (existsSync(binary)) return { binary, built: false, log }
  onStart?.(`building llama-server (about 10 minutes on 2 cores, once); log: ${log}`)
  const buildDir = join(startHome(), `${name}.build`)
  const output = createWriteStream(log)
  const run = async (args: string[]) => {
    const step = execa('cmake', args, { all: true, reject: false })
    step.all?.pipe(output, { end: false })
    const result = await step
    if (result.exitCode !== 0) {
      throw new UsageError(
        `building llama-server failed (cmake ${args[0]} ${args[1]}): see ${log}`,
        result.code === 'ENOENT' ? 'install cmake and a C++ compiler (apt-get install cmake g++)' : undefined,
      )
    }
  }
  try {
    await run(['-S', source, '-B', buildDir, ...BUILD_OPTIONS])
    await run(['--build', buildDir, '--target', 'llama-server', '-j', String(availableParallelism())])
  } finally {
    output.end()
  }
  // Into place atomically: a half-copied binary must never look like a build.
  await mkdir(join(startHome(), name), { recursive: true })
  const partial = `${binary}.partial-${process.pid}`
  await copyFile(join(buildDir, 'bin', 'llama-server'), partial)
  await rename(partial, binary)
  await rm(buildDir, { recursive: true, force: true })
  return { binary, built: true, log }
}

export interface ServeOptions {
  model: string
  host: string
  port: number
  parallel: number
  ctxSize: number
  threads: number
}

/** llama-server's command line. Pure. Every request may reuse the prompt cache (`cache_prompt`). */
export function llamaServerArgs(options: ServeOptions): string[] {
  const args = ['--model', options.model, '--host', options.host, '--port', String(options.port)]
  args.push('--parallel', String(options.parallel), '--ctx-size', String(options.ctxSize))
  if (options.threads > 0) args.push('--threads', String(options.threads))
  // One continuous batch across the slots; the metrics endpoint for the people who watch it.
  args.push('--cont-batching', '--metrics', '--no-webui')
  return args
}

export interface RunningServer {
  url: string
  process: ChildProcess
  /** Resolves with the server's exit code (null when a signal ended it). */
  exited: Promise<number | null>
}

/**
 * Starts llama-server and resolves once it answers /health with 200 (the model is loaded). Its own
 * output goes to `log`. A server that exits first, or is not healthy within `timeoutMs`, is an error
 * that quotes the end of its log.
 */
export async function startServer(
  binary: string,
  options: ServeOptions,
  log: string,
  timeoutMs = 300_000,
): Promise<RunningServer> {
  await checkPortFree(options.host, options.port)
  const output = openSync(log, 'w')
  const [command, ...args] = diesWithParent([binary, ...llamaServerArgs(options)])
  const child = spawn(command!, args, { stdio: ['ignore', output, output] })
  closeSync(output)
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const url = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${options.port}`
  const deadline = Date.now() + timeoutMs
  let gone = false
  void exited.then(() => {
    gone = true
  })
  while (!gone && Date.now() < deadline) {
    const status = await fetch(`${url}/health`).then(
      (response) => response.status,
      () => 0,
    )
    if (status === 200 && !gone && (await servesModel(url, options.model)))
      return { url, process: child, exited }
    await new Promise((done) => setTimeout(done, 250))
  }
  child.kill('SIGKILL')
  throw new Error(
    `llama-server ${gone ? 'exited' : `was not healthy within ${timeoutMs / 1000} s`}: ${tail(log)} (log: ${log})`,
  )
}

/** Refuses a port something else listens on: its /health would be mistaken for the server started here. */
async function checkPortFree(host: string, port: number): Promise<void> {
  const probe = createNetServer()
  const error = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
    probe.once('error', resolve)
    probe.listen(port, host, () => resolve(undefined))
  })
  await new Promise((closed) => probe.close(closed))
  if (error?.code === 'EADDRINUSE') {
    throw new UsageError(`--port ${port}: another process listens on ${host}:${port}; choose another port`)
  }
}

/** Whether the server answering at `url` is the one loaded with `model` (llama-server's /props says). */
async function servesModel(url: string, model: string): Promise<boolean> {
  const props = (await fetch(`${url}/props`)
    .then((response) => response.json())
    .catch(() => ({}))) as { model_path?: unknown }
  return typeof props.model_path !== 'string' || resolve(props.model_path) === resolve(model)
}

function tail(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').slice(-3).join(' | ') || 'no output'
  } catch {
    return 'no output'
  }
}
