import { UsageError } from '../core/errors.js'
import type { InferenceEngine } from './engine.js'
import { ServedEngine } from './http-engine.js'
import { LlamaCppEngine } from './llama-cpp.js'
import type { BackendSettings, SamplingSettings } from './options.js'

/** The engine `--backend` names: node-llama-cpp in this process, or a served model over HTTP. */
export async function openEngine(
  model: string | undefined,
  sampling: Pick<SamplingSettings, 'parallel' | 'contextSize' | 'threads'>,
  backend: BackendSettings,
  onNotice?: (line: string) => void,
): Promise<InferenceEngine> {
  if (backend.backend === 'llama-cpp') {
    if (!model) throw new UsageError('--model: required (a GGUF path or model URI), or --backend openai')
    return LlamaCppEngine.load({
      model,
      parallel: sampling.parallel,
      contextSize: sampling.contextSize,
      threads: sampling.threads,
    })
  }
  if (!backend.baseUrl) throw new UsageError('--base-url: required with --backend openai')
  return ServedEngine.connect({
    baseUrl: backend.baseUrl,
    apiKey: apiKey(backend.apiKeyEnv),
    servedModel: backend.servedModel,
    serverKind: backend.serverKind,
    concurrency: backend.concurrency,
    requestTimeoutMs: backend.requestTimeout * 1000,
    retries: backend.retries,
    chatTemplate: backend.chatTemplate,
    // A local GGUF renders the prompt with its template; a model URI is not read for that.
    model: model && !/^[a-z]+:/.test(model) ? model : undefined,
    contextSize: sampling.contextSize,
    onNotice,
  })
}

/** Trajectories in flight: the context's sequences in process, the requests in flight when served. */
export function trajectoriesInFlight(
  sampling: Pick<SamplingSettings, 'parallel'>,
  backend: BackendSettings,
): number {
  return backend.backend === 'openai' ? backend.concurrency : sampling.parallel
}

/** What the run records as its model: the GGUF, or the server (never the key). */
export function modelLabel(model: string | undefined, backend: BackendSettings): string {
  if (backend.backend === 'llama-cpp') return model ?? ''
  return `${backend.servedModel ?? model ?? 'served'} at ${backend.baseUrl}`
}

function apiKey(variable: string | undefined): string | undefined {
  if (!variable) return undefined
  const value = process.env[variable]
  if (!value) throw new UsageError(`--api-key-env ${variable}: the variable is not set or empty`)
  return value
}
