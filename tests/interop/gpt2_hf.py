#!/usr/bin/env python3
"""An independent GPT-2 in PyTorch, in Hugging Face's layout, for the cross-framework tests.

It shares no code with the C# model: its own safetensors reader and writer (struct + json), GPT-2's Conv1D
convention (y = x @ W + b, W stored [in, out]), a tied head, the activation named in config.json.

  gpt2_hf.py loss DIR TOKENS CONTEXT       mean next-token loss of DIR's model on TOKENS (little-endian int32
                                           rows of CONTEXT+1 ids: inputs are the first CONTEXT, targets the last)
  gpt2_hf.py init DIR SEED LAYERS WIDTH HEADS CONTEXT VOCAB
                                           random GPT-2 weights and config.json written into DIR, as the Hub's
                                           original files are (no "transformer." prefix, causal-mask buffers)
Prints the loss (loss) with full precision.
"""
import json
import math
import struct
import sys

import torch
import torch.nn.functional as F

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    base = 8 + length
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        start, end = entry["data_offsets"]
        raw = bytearray(data[base + start:base + end])
        tensors[name] = torch.frombuffer(raw, dtype=DTYPES[entry["dtype"]]).reshape(entry["shape"]).float()
    return header.get("__metadata__"), tensors


def write_safetensors(path, tensors):
    header, offset, blobs = {"__metadata__": {"format": "pt"}}, 0, []
    for name, t in tensors.items():
        blob = t.contiguous().to(torch.float32).numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
        blobs.append(blob)
    encoded = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)))
        f.write(encoded)
        for blob in blobs:
            f.write(blob)


def load(folder):
    with open(f"{folder}/config.json") as f:
        config = json.load(f)
    metadata, raw = read_safetensors(f"{folder}/model.safetensors")
    assert metadata is not None and metadata.get("format") == "pt", f"metadata {metadata}: transformers needs format pt"
    weights = {(k[len("transformer."):] if k.startswith("transformer.") else k): v for k, v in raw.items()}
    return config, weights


def loss(config, w, tokens, context):
    heads, layers = config["n_head"], config["n_layer"]
    gelu = {"gelu_new": "tanh", "gelu": "none"}[config["activation_function"]]
    eps = config.get("layer_norm_epsilon", 1e-5)
    rows = tokens.view(-1, context + 1)
    x_ids, y = rows[:, :-1], rows[:, 1:]
    b, t = x_ids.shape
    width = w["wte.weight"].shape[1]

    def conv1d(x, name):
        return x @ w[name + ".weight"] + w[name + ".bias"]

    def norm(x, name):
        return F.layer_norm(x, (width,), w[name + ".weight"], w[name + ".bias"], eps)

    x = w["wte.weight"][x_ids] + w["wpe.weight"][:t]
    mask = torch.tril(torch.ones(t, t, dtype=torch.bool))
    for i in range(layers):
        p = f"h.{i}."
        q, k, v = conv1d(norm(x, p + "ln_1"), p + "attn.c_attn").split(width, dim=2)
        q, k, v = (z.view(b, t, heads, width // heads).transpose(1, 2) for z in (q, k, v))
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(width // heads)
        attention = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1) @ v
        x = x + conv1d(attention.transpose(1, 2).reshape(b, t, width), p + "attn.c_proj")
        x = x + conv1d(F.gelu(conv1d(norm(x, p + "ln_2"), p + "mlp.c_fc"), approximate=gelu), p + "mlp.c_proj")
    logits = norm(x, "ln_f") @ w["wte.weight"].T
    return F.cross_entropy(logits.reshape(b * t, -1), y.reshape(-1)).item()


def main():
    torch.set_num_threads(1)
    if sys.argv[1] == "loss":
        folder, token_file, context = sys.argv[2], sys.argv[3], int(sys.argv[4])
        config, weights = load(folder)
        tokens = torch.frombuffer(bytearray(open(token_file, "rb").read()), dtype=torch.int32).long()
        with torch.no_grad():
            print(repr(loss(config, weights, tokens, context)))
    elif sys.argv[1] == "init":
        folder, seed = sys.argv[2], int(sys.argv[3])
        layers, width, heads, context, vocab = (int(a) for a in sys.argv[4:9])
        g = torch.Generator().manual_seed(seed)

        def rand(*shape, mean=0.0, std=0.02):
            return torch.randn(*shape, generator=g) * std + mean

        w = {"wte.weight": rand(vocab, width), "wpe.weight": rand(context, width, std=0.01)}
        for i in range(layers):
            p = f"h.{i}."
            for n in ("ln_1", "ln_2"):
                w[p + n + ".weight"], w[p + n + ".bias"] = rand(width, mean=1.0, std=0.1), rand(width, std=0.1)
            for n, (i_, o) in {"attn.c_attn": (width, 3 * width), "attn.c_proj": (width, width),
                               "mlp.c_fc": (width, 4 * width), "mlp.c_proj": (4 * width, width)}.items():
                w[p + n + ".weight"], w[p + n + ".bias"] = rand(i_, o, std=0.05), rand(o, std=0.02)
            w[p + "attn.bias"] = torch.tril(torch.ones(context, context)).view(1, 1, context, context)
        w["ln_f.weight"], w["ln_f.bias"] = rand(width, mean=1.0, std=0.1), rand(width, std=0.1)
        write_safetensors(f"{folder}/model.safetensors", w)
        config = {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "vocab_size": vocab, "n_positions": context,
                  "n_ctx": context, "n_embd": width, "n_layer": layers, "n_head": heads, "n_inner": None,
                  "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5, "tie_word_embeddings": True}
        with open(f"{folder}/config.json", "w") as f:
            json.dump(config, f)
    else:
        sys.exit(f"unknown command {sys.argv[1]}")


if __name__ == "__main__":
    main()
