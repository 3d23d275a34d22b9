"""The Python side of `start rft`: SFT with TRL on chat JSONL, and the model-format steps around it.

Run by src/training/ inside the project's virtualenv (launched through `accelerate launch` for `train`).
Every subcommand prints JSON events, one per line, on stdout; logs go to stderr.

  train        SFT on chat JSONL: loss on the assistant turn only, interpreter output masked
  labels       the token/label dump of one example (what `train` would learn from), for tests and debugging
  gguf-to-hf   a GGUF base model into a Hugging Face checkpoint (transformers' GGUF loader)
  fix-tokenizer  copy a GGUF's tokenizer metadata onto another GGUF (the HF -> GGUF trip loses scores)
  parquet      JSONL records into a parquet file (the verl export's datasets)
"""
import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

from trainer_protocol import emit, speak

IGNORE = -100
SENTINEL = "\u2063START_ASSISTANT_CONTENT\u2063"


# ---------------------------------------------------------------- tokenization and labels


def turn_parts(tokenizer, messages):
    """(prompt, assistant content, closing) as the chat template renders them.

    The prompt is the template with its generation prompt; the closing is what the template writes
    after an assistant message (its end-of-turn marker), found by rendering a sentinel as the content.
    """
    history, assistant = messages[:-1], messages[-1]
    if assistant.get("role") != "assistant":
        raise ValueError("the last message must be the assistant's")
    prompt = tokenizer.apply_chat_template(history, tokenize=False, add_generation_prompt=True)
    rendered = tokenizer.apply_chat_template(
        history + [{"role": "assistant", "content": SENTINEL}], tokenize=False
    )
    at = rendered.find(SENTINEL)
    closing = rendered[at + len(SENTINEL):] if at >= 0 else (tokenizer.eos_token or "")
    content = assistant["content"]
    # A model that writes its end-of-turn marker as text ("<|end|>") has it in the content already.
    for size in range(min(len(closing), len(content)), 0, -1):
        if content.endswith(closing[:size]):
            content = content[: len(content) - size]
            break
    # The generation prompt may already open the thinking ("<think>\n") that the content repeats.
    overlap = 0
    for size in range(min(len(prompt), len(content)), 0, -1):
        if prompt.endswith(content[:size]):
            overlap = size
            break
    return prompt, content, overlap, closing


def output_spans(content):
    """[start, end) spans of ```output blocks, for chat JSONL made without the filter's spans."""
    spans, at = [], 0
    while True:
        start = content.find("```output\n", at)
        if start < 0:
            return spans
        end = content.find("```", start + len("```output\n"))
        end = len(content) if end < 0 else min(len(content), end + 3 + (content[end + 3:end + 4] == "\n"))
        spans.append([start, end])
        at = end


def encode_example(tokenizer, record):
    """input_ids and labels of one chat record: labels -100 on the prompt and on interpreter output."""
    messages = record["messages"]
    prompt, content, overlap, closing = turn_parts(tokenizer, messages)
    if record.get("continues"):
        closing = ""  # a step that ends at a tool call: the turn goes on, its end is not learned here
    spans = record.get("outputSpans")
    if spans is None:
        spans = output_spans(content)
    text = prompt + content[overlap:] + closing
    shift = len(prompt) - overlap  # where content[0] sits in text
    masked = [(0, len(prompt))] + [(start + shift, end + shift) for start, end in spans]
    encoding = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    input_ids, offsets = list(encoding["input_ids"]), list(encoding["offset_mapping"])
    labels = []
    for token, (start, end) in zip(input_ids, offsets):
        inside = any(a <= start < b for a, b in masked)
        labels.append(IGNORE if inside else token)
    # The HF tokenizer does not add BOS where llama.cpp does: the model must see the same sequence.
    bos = tokenizer.bos_token_id
    if bos is not None and getattr(tokenizer, "add_bos_token", True) is not False and (not input_ids or input_ids[0] != bos):
        input_ids.insert(0, bos)
        labels.insert(0, IGNORE)
        offsets.insert(0, (0, 0))
    return {"input_ids": input_ids, "labels": labels}, text, offsets


def read_examples(path, tokenizer):
    examples = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                examples.append(encode_example(tokenizer, record)[0])
            except Exception as error:  # noqa: BLE001 - reported with its line, then stop
                raise SystemExit(f"{path}:{number}: {error}")
    if not examples:
        raise SystemExit(f"{path}: no examples")
    return examples


def load_tokenizer(path):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


# ---------------------------------------------------------------- subcommands


def command_labels(args):
    tokenizer = load_tokenizer(args.base)
    with open(args.data, encoding="utf-8") as handle:
        lines = [line for line in handle if line.strip()]
    record = json.loads(lines[args.index])
    example, text, offsets = encode_example(tokenizer, record)
    tokens = [
        {"id": token, "text": text[start:end], "label": label}
        for token, label, (start, end) in zip(example["input_ids"], example["labels"], offsets)
    ]
    emit("labels", text=text, tokens=tokens)


def command_train(args):
    # The data is read first: a bad line fails in seconds, before torch and TRL are loaded.
    tokenizer = load_tokenizer(args.base)
    examples = read_examples(args.data, tokenizer)
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, TrainerCallback
    from trl import SFTConfig, SFTTrainer

    torch.manual_seed(args.seed)

    dataset = Dataset.from_list(examples)
    cuda = torch.cuda.is_available()
    dtype = torch.bfloat16 if cuda and torch.cuda.is_bf16_supported() else torch.float32
    model = AutoModelForCausalLM.from_pretrained(args.base, dtype=dtype)
    if args.lora:
        model = with_lora(model, args.lora_r, args.lora_alpha)
    config = SFTConfig(
        output_dir=args.work,
        num_train_epochs=args.epochs,
        max_steps=args.max_steps if args.max_steps > 0 else -1,
        learning_rate=args.lr,
        lr_scheduler_type=args.schedule,
        warmup_steps=args.warmup_steps,
        per_device_train_batch_size=args.batch_size,
        gradient_accumulation_steps=args.grad_accum,
        max_length=args.max_length,
        packing=args.packing,
        logging_steps=1,
        save_strategy="no",
        report_to=[],
        seed=args.seed,
        bf16=dtype == torch.bfloat16,
        use_cpu=not cuda,
        dataloader_num_workers=0,
        disable_tqdm=True,
        shuffle_dataset=True,
        include_num_input_tokens_seen="non_padding",
    )
    class StreamLogs(TrainerCallback):
        """Streams the trainer's logs to the CLI as JSON events."""

        def on_log(self, args, state, control, logs=None, **kwargs):
            if state.is_world_process_zero and logs:
                numbers = {k: v for k, v in logs.items() if isinstance(v, (int, float))}
                emit("log", step=state.global_step, maxSteps=state.max_steps, **numbers)

    trainer = SFTTrainer(model=model, args=config, train_dataset=dataset, processing_class=tokenizer, callbacks=[StreamLogs()])
    trained_tokens = sum(sum(1 for label in example["labels"] if label != IGNORE) for example in examples)
    emit(
        "start",
        examples=len(examples),
        tokens=sum(len(example["input_ids"]) for example in examples),
        trainedTokens=trained_tokens,
        parameters=sum(p.numel() for p in model.parameters()),
        trainable=sum(p.numel() for p in model.parameters() if p.requires_grad),
        device="cuda" if cuda else "cpu",
        processes=trainer.accelerator.num_processes,
    )
    started = time.time()
    result = trainer.train()
    seconds = time.time() - started
    if not trainer.accelerator.is_main_process:
        return
    model = trainer.model
    if args.lora:
        model = model.merge_and_unload()
    save_checkpoint(model, tokenizer, args.base, args.out)
    steps = trainer.state.global_step
    seen = trainer.state.num_input_tokens_seen or 0
    emit("done", steps=steps, trainLoss=result.training_loss, seconds=seconds, tokensPerSecond=(seen / seconds if seen else None))


def with_lora(model, rank, alpha):
    """The model with a LoRA adapter on every linear layer: only the adapter trains (merged for export)."""
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(r=rank, lora_alpha=alpha, lora_dropout=0.0, target_modules="all-linear", task_type="CAUSAL_LM")
    return get_peft_model(model, config)


def save_checkpoint(model, tokenizer, base, out):
    """Writes the checkpoint next to a temporary name and renames it: a crash leaves no half model."""
    out = Path(out)
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    model.save_pretrained(partial, safe_serialization=True)
    tokenizer.save_pretrained(partial)
    # Keep the base's own tokenizer model (SentencePiece scores) and chat template, untouched.
    for name in ("tokenizer.model", "chat_template.jinja"):
        if base is not None and (Path(base) / name).exists():
            shutil.copy(Path(base) / name, partial / name)
    shutil.rmtree(out, ignore_errors=True)
    os.replace(partial, out)


def command_gguf_to_hf(args):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source = Path(args.gguf).resolve()
    clean = Path(args.out).with_name(Path(args.out).name + ".clean.gguf")
    # Special-token ids stored as 2^32-1 ("none") break the HF tokenizer: drop those keys first.
    bad = invalid_token_id_keys(source)
    if bad:
        rewrite_gguf(source, clean, remove=bad)
        source = clean
    tokenizer = AutoTokenizer.from_pretrained(source.parent, gguf_file=source.name)
    model = AutoModelForCausalLM.from_pretrained(source.parent, gguf_file=source.name, dtype=torch.float32)
    special = special_token_ids(source)
    # transformers' GGUF loader can get the special tokens wrong (seen: EOS read as "<s>"); a model
    # trained so never learns to stop. The GGUF's own ids are the truth.
    for role, token_id in special.items():
        setattr(tokenizer, f"{role}_token", tokenizer.convert_ids_to_tokens(token_id))
        for config in (model.config, model.generation_config):
            if config is not None and role in ("bos", "eos", "pad"):
                setattr(config, f"{role}_token_id", token_id)
    # transformers refuses to save a GGUF-loaded model until its quantizer marker is gone.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    save_checkpoint(model, tokenizer, None, args.out)
    if clean.exists():
        clean.unlink()
    emit("done", out=str(args.out), removedKeys=bad, specialTokens=special)


def special_token_ids(path):
    """bos/eos/unk/pad ids as the GGUF states them."""
    from gguf import GGUFReader

    fields = GGUFReader(path).fields
    names = {"bos": "bos_token_id", "eos": "eos_token_id", "unk": "unknown_token_id", "pad": "padding_token_id"}
    ids = {}
    for role, key in names.items():
        field = fields.get(f"tokenizer.ggml.{key}")
        if field is not None and int(field.contents()) < 2**32 - 1:
            ids[role] = int(field.contents())
    return ids


def invalid_token_id_keys(path):
    from gguf import GGUFReader

    reader = GGUFReader(path)
    bad = []
    for name, field in reader.fields.items():
        if name.startswith("tokenizer.ggml.") and name.endswith("_token_id"):
            value = field.contents()
            if isinstance(value, int) and value >= 2**32 - 1:
                bad.append(name)
    return bad


def rewrite_gguf(source, target, remove=(), metadata=None):
    from gguf import GGUFReader, GGUFWriter
    from gguf.scripts.gguf_new_metadata import copy_with_new_metadata

    reader = GGUFReader(source)
    arch = reader.fields["general.architecture"].contents()
    partial = Path(str(target) + ".partial")
    writer = GGUFWriter(partial, arch=arch, endianess=reader.endianess)
    copy_with_new_metadata(reader, writer, metadata or {}, list(remove))
    os.replace(partial, target)


def command_fix_tokenizer(args):
    """Copies every tokenizer.* key from the base GGUF onto the exported one (scores, types, ids)."""
    from gguf import GGUFReader, GGUFValueType
    from gguf.scripts.gguf_new_metadata import MetadataDetails

    base = GGUFReader(args.base_gguf)
    metadata = {}
    for name, field in base.fields.items():
        if not name.startswith("tokenizer.") or name.startswith("tokenizer.chat_template"):
            continue
        value_type = field.types[0]
        sub_type = field.types[-1] if value_type == GGUFValueType.ARRAY else None
        metadata[name] = MetadataDetails(value_type, field.contents(), sub_type=sub_type)
    target = Path(args.gguf)
    fixed = target.with_name(target.name + ".fixed")
    rewrite_gguf(target, fixed, metadata=metadata)
    os.replace(fixed, target)
    emit("done", keys=sorted(metadata))


def command_parquet(args):
    """JSONL records -> one parquet file (pyarrow infers nested fields: messages, dicts)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    with open(args.jsonl, encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle if line.strip()]
    partial = args.out + ".partial"
    pq.write_table(pa.Table.from_pylist(records), partial)
    os.replace(partial, args.out)
    emit("done", rows=len(records))


def main():
    parser = argparse.ArgumentParser(prog="start_trainer")
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train")
    train.add_argument("--base", required=True)
    train.add_argument("--data", required=True)
    train.add_argument("--out", required=True)
    train.add_argument("--work", required=True)
    train.add_argument("--epochs", type=float, default=3)
    train.add_argument("--max-steps", type=int, default=0)
    train.add_argument("--lr", type=float, default=1e-5)
    train.add_argument("--schedule", default="cosine")
    train.add_argument("--warmup-steps", type=int, default=0)
    train.add_argument("--batch-size", type=int, default=1)
    train.add_argument("--grad-accum", type=int, default=1)
    train.add_argument("--max-length", type=int, default=4096)
    train.add_argument("--packing", action="store_true")
    train.add_argument("--lora", action="store_true")
    train.add_argument("--lora-r", type=int, default=16)
    train.add_argument("--lora-alpha", type=int, default=32)
    train.add_argument("--seed", type=int, default=0)
    labels = sub.add_parser("labels")
    labels.add_argument("--base", required=True)
    labels.add_argument("--data", required=True)
    labels.add_argument("--index", type=int, default=0)
    to_hf = sub.add_parser("gguf-to-hf")
    to_hf.add_argument("--gguf", required=True)
    to_hf.add_argument("--out", required=True)
    fix = sub.add_parser("fix-tokenizer")
    fix.add_argument("--gguf", required=True)
    fix.add_argument("--base-gguf", required=True)
    parquet = sub.add_parser("parquet")
    parquet.add_argument("--jsonl", required=True)
    parquet.add_argument("--out", required=True)
    args = parser.parse_args()
    speak(args.command)
    commands = {
        "train": command_train,
        "labels": command_labels,
        "gguf-to-hf": command_gguf_to_hf,
        "fix-tokenizer": command_fix_tokenizer,
        "parquet": command_parquet,
    }
    try:
        commands[args.command](args)
    except SystemExit as stop:
        if isinstance(stop.code, str):  # a bad input line, "file:line: what is wrong"
            emit("error", message=stop.code, usage=True)
            sys.exit(1)
        raise
    except Exception as error:
        # The CLI shows this one line; the traceback goes to the log.
        emit("error", message=f"{type(error).__name__}: {error}".splitlines()[0], usage=False)
        raise


if __name__ == "__main__":
    main()
