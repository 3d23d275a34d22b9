import type { OptionSpecs } from '../core/options.js'

/** How `start server` runs llama.cpp's HTTP server. */
export const SERVER_OPTIONS = {
  host: { kind: 'string', default: '127.0.0.1', description: 'address to listen on' },
  port: { kind: 'integer', min: 1, max: 65_535, default: 8080, description: 'port to listen on' },
  parallel: { kind: 'integer', min: 1, default: 4, description: 'requests decoded at once (slots)' },
  ctxSize: {
    kind: 'integer',
    min: 0,
    default: 0,
    description: "context tokens across all slots (0: the model's own)",
  },
  threads: { kind: 'integer', min: 0, default: 0, description: 'CPU threads (0: all cores)' },
} as const satisfies OptionSpecs
