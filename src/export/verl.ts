import type { ChatMessage } from '../inference/engine.js'
import { promptFor } from '../inference/run-hint-infer.js'
import type { Problem } from '../problems/types.js'
import type { ExportSettings } from './options.js'

/** The agent loop name `start_verl.py` registers, set on every row so verl routes rollouts to it. */
export const VERL_AGENT = 'start_tir_agent'

/**
 * One row of verl's RL dataset (the fields its RLHFDataset reads): the chat prompt, the reference as
 * `reward_model.ground_truth` (code problems: their tests as JSON), and the problem's identity in
 * `extra_info` (a math problem's statement too: the referee checks the form it asks for).
 */
export function verlRow(problem: Problem, index: number, split: string, settings: ExportSettings) {
  const messages: ChatMessage[] = [
    ...(settings.system ? [{ role: 'system' as const, content: settings.system }] : []),
    { role: 'user', content: promptFor(problem, settings) },
  ]
  const groundTruth =
    problem.kind === 'math'
      ? problem.answer
      : JSON.stringify({ tests: problem.tests, entry_point: problem.entryPoint, problem: problem.problem })
  return {
    data_source: problem.source,
    agent_name: VERL_AGENT,
    prompt: messages,
    ability: problem.kind,
    reward_model: { style: 'rule', ground_truth: groundTruth },
    extra_info: {
      split,
      index,
      id: problem.id,
      ...(problem.kind === 'math' ? { problem: problem.problem } : {}),
    },
  }
}

/** What `start_verl.py` reads: the loop's limits, its hints, where code runs and answers are graded. */
export function verlLoopConfig(settings: ExportSettings, hints: string[]) {
  return {
    maxToolCalls: settings.maxToolCalls,
    maxOutputChars: settings.maxOutputChars,
    maxToolOutputTokens: settings.maxToolOutputTokens,
    truncateSide: settings.truncateSide,
    thinkHints: settings.hints ? settings.thinkHints : 0,
    hints: settings.hints ? hints : [],
    sandboxUrl: settings.sandboxUrl,
    graderUrl: settings.graderUrl,
    runTimeout: settings.runTimeout,
  }
}

/** The agent loop config verl loads (`actor_rollout_ref.rollout.agent.agent_loop_config_path`). */
export function verlAgentLoopYaml(): string {
  return `- name: ${VERL_AGENT}\n  _target_: start_verl.StartToolAgentLoop\n`
}

/** The command line that runs verl's GRPO trainer on the export (edit the model and the cluster). */
export function verlRunScript(hasValidation: boolean): string {
  return `#!/usr/bin/env bash
# GRPO with verl on this export (written by start export --format verl). Needs: verl with vLLM or SGLang,
# Ray, and a sandbox that serves code and grading:  start sandbox serve --port 8080 --concurrency 64
# MODEL: START-0 as a Hugging Face checkpoint (start rft's <out>/start-0). Multi-node: start Ray first.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
MODEL="\${MODEL:?set MODEL to START-0's Hugging Face checkpoint}"
export PYTHONPATH="$HERE:\${PYTHONPATH:-}"
export START_SANDBOX_URL="\${START_SANDBOX_URL:-http://127.0.0.1:8080}" START_GRADER_URL="\${START_GRADER_URL:-http://127.0.0.1:8080}"
python3 -m verl.trainer.main_ppo \\
  algorithm.adv_estimator=grpo \\
  algorithm.use_kl_in_reward=False \\
  data.train_files="$HERE/train.parquet" \\
  data.val_files="$HERE/${hasValidation ? 'val' : 'train'}.parquet" \\
  data.return_raw_chat=True \\
  data.train_batch_size="\${BATCH:-32}" \\
  data.max_prompt_length="\${MAX_PROMPT:-2048}" \\
  data.max_response_length="\${MAX_RESPONSE:-8192}" \\
  custom_reward_function.path="$HERE/start_verl.py" \\
  custom_reward_function.name=compute_score \\
  actor_rollout_ref.model.path="$MODEL" \\
  actor_rollout_ref.actor.optim.lr=1e-6 \\
  actor_rollout_ref.actor.use_kl_loss=False \\
  actor_rollout_ref.actor.clip_ratio_low=0.2 \\
  actor_rollout_ref.actor.clip_ratio_high=0.28 \\
  actor_rollout_ref.actor.strategy="\${STRATEGY:-fsdp2}" \\
  actor_rollout_ref.rollout.name="\${ROLLOUT:-vllm}" \\
  actor_rollout_ref.rollout.mode=async \\
  actor_rollout_ref.rollout.n="\${GROUP:-16}" \\
  actor_rollout_ref.rollout.agent.default_agent_loop=${VERL_AGENT} \\
  actor_rollout_ref.rollout.agent.agent_loop_config_path="$HERE/agent_loop.yaml" \\
  trainer.n_gpus_per_node="\${GPUS:-8}" \\
  trainer.nnodes="\${NODES:-1}" \\
  trainer.total_training_steps="\${STEPS:-400}" \\
  trainer.logger=[console] \\
  "$@"
`
}
