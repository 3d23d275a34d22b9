import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Template } from '@huggingface/jinja'
import { UsageError } from '../core/errors.js'
import type { ChatMessage } from './engine.js'

/** A model's chat template, rendered on the client (for a server, or for a policy in training). */
export interface ChatTemplate {
  template: Template
  eosToken: string
  /** What the template writes as BOS: '' for a server (its tokenizer adds BOS as the model says). */
  bosToken?: string
}

export function compileChatTemplate(source: string, where: string): Template {
  try {
    return new Template(source)
  } catch (error) {
    throw new UsageError(`${where}: not a Jinja chat template (${(error as Error).message})`)
  }
}

/** The prompt with the generation prompt. */
export function renderChatPrompt(
  { template, eosToken, bosToken }: ChatTemplate,
  messages: ChatMessage[],
): string {
  return template.render({
    messages,
    add_generation_prompt: true,
    bos_token: bosToken ?? '',
    eos_token: eosToken,
  })
}

/**
 * The chat template of a Hugging Face checkpoint (chat_template.jinja, else tokenizer_config.json's), with
 * its special tokens: rendered as transformers' apply_chat_template renders it, BOS included.
 */
export async function readCheckpointChatTemplate(dir: string): Promise<ChatTemplate> {
  type Config = { chat_template?: unknown; eos_token?: unknown; bos_token?: unknown }
  const config = await readFile(join(dir, 'tokenizer_config.json'), 'utf8')
    .then((text) => JSON.parse(text) as Config)
    .catch(() => ({}) as Config)
  const tokens = { eosToken: tokenText(config.eos_token), bosToken: tokenText(config.bos_token) }
  const file = join(dir, 'chat_template.jinja')
  if (existsSync(file))
    return { template: compileChatTemplate(await readFile(file, 'utf8'), file), ...tokens }
  if (typeof config.chat_template === 'string' && config.chat_template) {
    return {
      template: compileChatTemplate(config.chat_template, join(dir, 'tokenizer_config.json')),
      ...tokens,
    }
  }
  throw new UsageError(
    `${dir}: the checkpoint has no chat template (chat_template.jinja or tokenizer_config.json)`,
  )
}

/** A special token as tokenizer_config.json writes it: a string, or `{content}`. */
function tokenText(token: unknown): string {
  if (typeof token === 'string') return token
  const content = (token as { content?: unknown } | null)?.content
  return typeof content === 'string' ? content : ''
}
