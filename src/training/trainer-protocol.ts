import { join } from 'node:path'
import { TRAINING_DIR } from './python-env.js'

/**
 * The trainer protocol, written once: what each Python trainer command (start_trainer.py's
 * subcommands, start_rl.py) writes on stdout as JSON event lines, and the operations `start rl` sends
 * on its stdin. The TypeScript event types are derived from it; `trainer-protocol.json` (beside the
 * Python, `npm run docs` writes it, a test keeps it current) is the same object for the Python side.
 * Both sides check every message against it as they write or read it.
 *
 * A field's type: "number", "integer", "string", "boolean", "null", a quoted literal ("'eos'"), or
 * alternatives joined by "|"; [type] is a list; an object is a record; a key ending in "?" may be
 * left out; the key "*" types the fields not named.
 */

export const TRAINER_PROTOCOL = {
  /** Any command may end with this instead of its last event. */
  error: { message: 'string', usage: 'boolean' },
  commands: {
    train: {
      events: {
        start: {
          examples: 'integer',
          tokens: 'integer',
          trainedTokens: 'integer',
          parameters: 'integer',
          trainable: 'integer',
          device: 'string',
          processes: 'integer',
        },
        /** The trainer's own log line: loss, learning_rate, epoch, grad_norm and whatever else it logs. */
        log: {
          step: 'integer',
          maxSteps: 'integer',
          'loss?': 'number',
          'learning_rate?': 'number',
          'epoch?': 'number',
          '*': 'number',
        },
        done: { steps: 'integer', trainLoss: 'number', seconds: 'number', tokensPerSecond: 'number|null' },
      },
    },
    labels: {
      events: { labels: { text: 'string', tokens: [{ id: 'integer', text: 'string', label: 'integer' }] } },
    },
    'gguf-to-hf': {
      events: { done: { out: 'string', removedKeys: ['string'], specialTokens: { '*': 'integer' } } },
    },
    'fix-tokenizer': { events: { done: { keys: ['string'] } } },
    parquet: { events: { done: { rows: 'integer' } } },
    rl: {
      events: {
        start: {
          problems: 'integer',
          parameters: 'integer',
          trainable: 'integer',
          device: 'string',
          resumedFrom: 'string|null',
        },
        /** The policy is loaded: its context, which every rollout needs (before the pass band's). */
        loaded: { contextSize: 'integer' },
        /**
         * The problems kept by --pass-band: their pass rates under the starting policy within [low, high];
         * `estimated` of them by rollouts now, the others' rates read from the rates file.
         */
        band: { problems: 'integer', kept: 'integer', low: 'number', high: 'number', estimated: 'integer' },
        /** A batch of prompts for the CLI to roll out (step 0: the pass-band estimate, before training). */
        rollouts: {
          step: 'integer',
          batch: 'integer',
          items: [{ rid: 'string', problem: 'string' }],
          /**
           * validation: greedy rollouts of held-out problems (--eval-every), no hints, never trained on;
           * estimate: the pass band's rollouts of the starting policy (step 0), never trained on.
           */
          'purpose?': "'training'|'validation'|'estimate'",
        },
        /** The answer to "start": the rendered prompt's length in tokens. */
        started: { rid: 'string', promptTokens: 'integer' },
        /** The answer to "next": the text sampled to a stop, and the rollout's token counts so far. */
        generated: {
          rid: 'string',
          text: 'string',
          stop: "'stop'|'eos'|'limit'",
          sampled: 'integer',
          completionTokens: 'integer',
          insertedTokens: 'integer',
        },
        /** The answers to "tokenize" and "detokenize": the policy's own tokenizer. */
        tokenized: { rid: 'string', tokens: ['integer'] },
        detokenized: { rid: 'string', text: 'string' },
        /** The answer to "end": what the loss sees of each rollout of the batch, in order. */
        ended: {
          rid: 'string',
          rollouts: [
            {
              completionTokens: 'integer',
              trainedTokens: 'integer',
              maskedText: 'string',
              /** Where a one-pass tokenization of the text differs from the ids trained on. */
              divergences: [{ at: 'integer', trained: 'string', once: 'string' }],
            },
          ],
        },
        log: { step: 'integer', maxSteps: 'integer', metrics: { '*': 'number' } },
        checkpoint: { step: 'integer' },
        done: { steps: 'integer', seconds: 'number' },
      },
      ops: {
        /**
         * Tokenize the rendered prompt of a rollout, then the text it continues from (a state's text under
         * the stepwise objective) as inserted text is tokenized: no special token parsed in it.
         */
        start: { rid: 'string', prompt: 'string', 'continuation?': 'string' },
        /** Generate to one of the stops or the token budget. */
        next: { rid: 'string', stops: ['string'], maxTokens: 'integer' },
        /** Inserted text (a hint, a code block's output): in the context, out of the loss. */
        append: { rid: 'string', text: 'string' },
        /** A text's tokens as the policy continues a context with it (a tool output's token limit). */
        tokenize: { rid: 'string', text: 'string' },
        detokenize: { rid: 'string', tokens: ['integer'] },
        /** Drop the last generated characters (a closing tag the loop replaces). */
        retract: { rid: 'string', chars: 'integer' },
        /** The rollout is over: where its graded text ends, its reward and what it did. */
        finish: {
          rid: 'string',
          textLength: 'integer',
          reward: 'number',
          correct: 'boolean',
          answered: 'boolean',
          toolCalls: 'integer',
          failedCalls: 'integer',
          'refused?': 'string',
          /** Left out of the loss: cut at the token limit (--overlong mask), or a void turn (--void-turns mask). */
          'exclude?': "'overlong'|'void'",
          /** Whether the rollout had hints (--hints, with the annealed chance). */
          'hinted?': 'boolean',
        },
        /** Every rollout of the batch is finished. */
        end: { rid: 'string' },
      },
    },
  },
} as const

type Protocol = typeof TRAINER_PROTOCOL
type Commands = Protocol['commands']
export type TrainerCommand = keyof Commands

type Scalar<S> = S extends `${infer A}|${infer B}`
  ? Scalar<A> | Scalar<B>
  : S extends `'${infer L}'`
    ? L
    : S extends 'number' | 'integer'
      ? number
      : S extends 'string'
        ? string
        : S extends 'boolean'
          ? boolean
          : S extends 'null'
            ? null
            : never
type ValueOf<S> = S extends string
  ? Scalar<S>
  : S extends readonly [infer I]
    ? readonly ValueOf<I>[]
    : FieldsOf<S>
type Required<S> = { [K in keyof S as K extends '*' | `${string}?` ? never : K]: ValueOf<S[K]> }
type Optional<S> = { [K in keyof S as K extends `${infer N}?` ? N : never]?: ValueOf<S[K]> }
type Others<S> = S extends { '*': infer R } ? Record<string, ValueOf<R>> : unknown
type FieldsOf<S> = Required<S> & Optional<S> & Others<S>

/** A message: its name and its fields (those under "*" are checked, not typed: the name is no number). */
type Messages<Specs, Key extends string> = {
  [E in keyof Specs]: { [K in Key]: E } & Required<Specs[E]> & Optional<Specs[E]>
}[keyof Specs]

/** An event line of a trainer command, as the protocol declares it. */
export type TrainerEvent<C extends TrainerCommand> = Messages<Commands[C]['events'], 'event'>
/** One event of `start rl`'s trainer, by name. */
export type RlEventOf<E extends keyof Commands['rl']['events']> = Extract<TrainerEvent<'rl'>, { event: E }>
/** An operation `start rl` sends its trainer. */
export type RlOp = Messages<Commands['rl']['ops'], 'op'>

type Spec = string | readonly [Spec] | { readonly [key: string]: Spec }

/** What is wrong with `value` against `spec`, or undefined; `path` names the place. */
function violation(spec: Spec, value: unknown, path: string): string | undefined {
  if (typeof spec === 'string') {
    return spec.split('|').some((type) => matches(type, value))
      ? undefined
      : `${path} is ${JSON.stringify(value) ?? 'missing'}, not ${spec}`
  }
  if (Array.isArray(spec)) {
    if (!Array.isArray(value)) return `${path} is not a list`
    for (const [index, item] of value.entries()) {
      const wrong = violation(spec[0] as Spec, item, `${path}[${index}]`)
      if (wrong) return wrong
    }
    return undefined
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return `${path} is not an object`
  const fields = spec as { readonly [key: string]: Spec }
  for (const key of Object.keys(fields)) {
    if (key === '*' || key.endsWith('?')) continue
    if ((value as Record<string, unknown>)[key] === undefined) return `${path}.${key} is missing`
  }
  for (const [key, item] of Object.entries(value)) {
    if (item === undefined) continue // not on the wire
    const field = fields[key] ?? fields[`${key}?`] ?? fields['*']
    if (field === undefined) return `${path}.${key} is not in the protocol`
    const wrong = violation(field, item, `${path}.${key}`)
    if (wrong) return wrong
  }
  return undefined
}

function matches(type: string, value: unknown): boolean {
  if (type.startsWith("'")) return value === type.slice(1, -1)
  switch (type) {
    case 'number':
      return typeof value === 'number'
    case 'integer':
      return Number.isInteger(value)
    case 'string':
      return typeof value === 'string'
    case 'boolean':
      return typeof value === 'boolean'
    case 'null':
      return value === null
    default:
      throw new Error(`trainer protocol: unknown type ${type}`)
  }
}

function messageViolation(
  specs: { readonly [name: string]: Spec },
  key: 'event' | 'op',
  message: Record<string, unknown>,
): string | undefined {
  const { [key]: name, ...fields } = message
  const spec = typeof name === 'string' ? specs[name] : undefined
  if (!spec) return `unknown ${key} ${JSON.stringify(name)}`
  return violation(spec, fields, `${key} ${name}`)
}

/** What is wrong with an event line of `command`, or undefined. */
export function eventViolation(command: TrainerCommand, event: Record<string, unknown>): string | undefined {
  const specs = { ...TRAINER_PROTOCOL.commands[command].events, error: TRAINER_PROTOCOL.error }
  return messageViolation(specs, 'event', event)
}

/** What is wrong with an operation sent to `start rl`'s trainer, or undefined. */
export function opViolation(op: Record<string, unknown>): string | undefined {
  return messageViolation(TRAINER_PROTOCOL.commands.rl.ops, 'op', op)
}

/** Beside the Python trainer scripts, which read it. */
export const PROTOCOL_JSON_FILE = join(TRAINING_DIR, 'trainer-protocol.json')

/** The protocol as the Python side reads it. */
export function protocolJson(): string {
  return `${JSON.stringify(TRAINER_PROTOCOL, null, 2)}\n`
}
