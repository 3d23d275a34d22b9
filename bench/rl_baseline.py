"""Baselines for bench/rl.ts, run in the trainer's virtualenv on the same model as the `start rl` run.

  generate  plain HF generation of the rollouts' lengths: batched, sampled, no stops, no tools
  train     bare GRPO steps (TRL, no CLI) on completions of the rollouts' lengths, generation skipped
Prints one JSON line.
"""
import argparse
import json
import os
import random
import time

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback


def random_ids(tokenizer, count, rng):
    special = set(tokenizer.all_special_ids)
    vocabulary = [i for i in range(len(tokenizer)) if i not in special]
    return [rng.choice(vocabulary) for _ in range(count)]


def plain_generation(args, steps):
    tokenizer = AutoTokenizer.from_pretrained(args.base)
    model = AutoModelForCausalLM.from_pretrained(args.base, dtype=torch.float32).eval()
    rng = random.Random(0)
    tokens, seconds = 0, 0.0
    for step in steps:
        width, longest = max(step["prompts"]), max(step["lengths"])
        batch = torch.tensor([random_ids(tokenizer, width, rng) for _ in step["lengths"]])
        started = time.time()
        with torch.no_grad():
            model.generate(
                input_ids=batch,
                attention_mask=torch.ones_like(batch),
                max_new_tokens=longest,
                min_new_tokens=longest,
                do_sample=True,
                temperature=1.0,
                top_k=0,
                pad_token_id=tokenizer.eos_token_id,
            )
        seconds += time.time() - started
        # The rows' own lengths: a batch runs to its longest row, as the rollouts' batches do.
        tokens += sum(step["lengths"])
    return {"tokens": tokens, "seconds": seconds}


def bare_training(args, steps):
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
    tokenizer = AutoTokenizer.from_pretrained(args.base)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(args.base, dtype=torch.float32)
    rng = random.Random(0)
    batch = len(steps[0]["lengths"])
    calls = {"n": 0}

    def rollout_func(prompts, trainer):
        step = steps[min(calls["n"], len(steps) - 1)]
        calls["n"] += 1
        return {
            "prompt_ids": [random_ids(tokenizer, n, rng) for n in step["prompts"]],
            "completion_ids": [random_ids(tokenizer, n - 1, rng) + [tokenizer.eos_token_id] for n in step["lengths"]],
            "logprobs": None,
            "reward": [rng.choice([-1.0, 1.0]) for _ in step["lengths"]],
        }

    def reward(completions, reward, **kwargs):
        return list(reward)

    times = []

    class Clock(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            # TRL's own timing of the step (generation included, here none): what start rl logs too.
            if logs and "step_time" in logs:
                times.append(logs["step_time"])

    config = GRPOConfig(
        output_dir=args.work,
        max_steps=len(steps),
        learning_rate=args.lr,
        lr_scheduler_type="constant",
        per_device_train_batch_size=batch,
        gradient_accumulation_steps=1,
        num_generations=args.num_generations,
        max_completion_length=max(max(step["lengths"]) for step in steps),
        logging_steps=1,
        save_strategy="no",
        report_to=[],
        use_cpu=True,
        gradient_checkpointing=False,
        disable_tqdm=True,
    )
    dataset = Dataset.from_list([{"prompt": str(i)} for i in range(64)])
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=[reward],
        args=config,
        train_dataset=dataset,
        processing_class=tokenizer,
        rollout_func=rollout_func,
        callbacks=[Clock()],
    )
    trainer.train()
    return {"stepSeconds": times}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["generate", "train"])
    parser.add_argument("--base", required=True)
    parser.add_argument("--steps", required=True, help="JSON: [{prompts: [n...], lengths: [n...]}] per step")
    parser.add_argument("--work", default="/tmp/start-bench-rl")
    parser.add_argument("--lr", type=float, default=1e-6)
    parser.add_argument("--num-generations", type=int, default=8)
    args = parser.parse_args()
    torch.manual_seed(0)
    steps = json.loads(open(args.steps).read())
    result = plain_generation(args, steps) if args.mode == "generate" else bare_training(args, steps)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
