import { homedir } from 'node:os'
import { join } from 'node:path'

/** Where start keeps what it builds outside the repository: virtualenv, llama.cpp source, llama-server. */
export function startHome(): string {
  return process.env.START_HOME ?? join(homedir(), '.cache', 'start')
}
