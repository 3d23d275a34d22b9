/**
 * The test tiers: what a file needs decides its tier. `unit` needs nothing but Node (pure logic, run in
 * parallel in seconds) and takes every file the other tiers do not name; the others need bubblewrap and
 * python3 (sandbox), the GGUF models in ../shared (model), the Python side: the scripts start ships or the
 * trainer's torch virtualenv (trainer), Chromium (browser), or the built CLI on the real model
 * (integration). The architecture test keeps the unit tier pure.
 */
export interface Tier {
  name: string
  include: string[]
  exclude?: string[]
}

const SANDBOX = [
  'test/sandbox/{isolation,pool,run-sandbox,security,worker-module}.test.ts',
  'test/grading/{answer-forms,code-tests,constant-answers,math-equal,peer-cases,referee-probes}.test.ts',
  'test/swirl/judge-counterfactual.test.ts',
]
const MODEL = [
  'test/inference/{gguf-file,prefix-reuse,prompt-data-tokens,prompt-too-long}.test.ts',
  'test/{eval/run-eval,pipeline/config,rft/run-rft,llama-server/runner}.test.ts',
]
const TRAINER = [
  'test/training/{labels,python-env,rollout-selection,token-exact,trainer-protocol-python}.test.ts',
  'test/export/start-verl-parity.test.ts',
]
const BROWSER = ['test/eval/report.test.ts']
const INTEGRATION = ['test/integration/**/*.test.ts']

export const TIERS: Tier[] = [
  {
    name: 'unit',
    include: ['test/**/*.test.ts'],
    exclude: [...SANDBOX, ...MODEL, ...TRAINER, ...BROWSER, ...INTEGRATION],
  },
  { name: 'sandbox', include: SANDBOX },
  { name: 'model', include: MODEL },
  { name: 'trainer', include: TRAINER },
  { name: 'browser', include: BROWSER },
  { name: 'integration', include: INTEGRATION },
]
