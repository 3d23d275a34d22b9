# A GGUF that behaves as the given llama-architecture model but costs more per token: its feed-forward
# layers are widened and blocks are added, and every added weight that reaches the residual stream is
# zero (the widened down projections' new columns, the added blocks' attention output and down
# projections), so the model computes the same function, up to the order float sums are taken in.
#
# For benches only: the testbed model (0.9M parameters) decodes a token in about half a millisecond on a
# CPU, so a fixed per-request cost counts tens of times more against it than against the 7B-32B models
# users serve. The same trajectories on a model of this one's cost measure the loop, not the model's size.
#
#   python bench/scaled_model.py IN.gguf OUT.gguf --ffn 4096 --layers 8
import argparse

import gguf
import numpy as np


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("source")
    parser.add_argument("out")
    parser.add_argument("--ffn", type=int, required=True, help="feed-forward width of every block")
    parser.add_argument("--layers", type=int, required=True, help="blocks in all, the source's first")
    args = parser.parse_args()

    reader = gguf.GGUFReader(args.source)
    arch = reader.fields["general.architecture"].contents()
    if arch != "llama":
        raise SystemExit(f"{args.source}: a llama-architecture GGUF is needed, not {arch}")
    blocks = int(reader.fields[f"{arch}.block_count"].contents())
    width = int(reader.fields[f"{arch}.feed_forward_length"].contents())
    if args.layers < blocks or args.ffn < width:
        raise SystemExit(f"--layers and --ffn may only grow the model ({blocks} blocks, ffn {width})")

    writer = gguf.GGUFWriter(args.out, arch)
    for key, field in reader.fields.items():
        if key.startswith("GGUF.") or key == "general.architecture":
            continue
        value = field.contents()
        if key == f"{arch}.block_count":
            value = args.layers
        elif key == f"{arch}.feed_forward_length":
            value = args.ffn
        sub_type = field.types[-1] if field.types[0] == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(key, value, field.types[0], sub_type=sub_type)

    rng = np.random.default_rng(0)
    tensors = {tensor.name: np.array(tensor.data, dtype=np.float32) for tensor in reader.tensors}
    for name, data in tensors.items():
        if name.endswith(FEED_FORWARD):
            data = widened(name, data, args.ffn, rng)
        writer.add_tensor(name, data)
    for block in range(blocks, args.layers):
        # A copy of the last block with its two outputs zeroed: it adds nothing to the residual stream.
        for name, data in tensors.items():
            if not name.startswith(f"blk.{blocks - 1}."):
                continue
            data = widened(name, data, args.ffn, rng) if name.endswith(FEED_FORWARD) else data.copy()
            if name.endswith(("attn_output.weight", "ffn_down.weight")):
                data = np.zeros_like(data)
            writer.add_tensor(name.replace(f"blk.{blocks - 1}.", f"blk.{block}.", 1), data)

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


FEED_FORWARD = ("ffn_gate.weight", "ffn_up.weight", "ffn_down.weight")


def widened(name, data, ffn, rng):
    """gate/up (ffn, hidden): new rows of small random weights; down (hidden, ffn): new columns of zeros."""
    if name.endswith("ffn_down.weight"):
        return np.concatenate([data, np.zeros((data.shape[0], ffn - data.shape[1]), np.float32)], axis=1)
    extra = rng.normal(0, 0.02, (ffn - data.shape[0], data.shape[1])).astype(np.float32)
    return np.concatenate([data, extra], axis=0)


if __name__ == "__main__":
    main()
