#!/usr/bin/env python3
"""PyTorch reference for bench/Streaming.Bench: the same GPT, batch and AdamW settings, timed the same way.

Model (as src/Training/Model/Gpt.cs): learned positions, pre-norm blocks, fused QKV, causal
scaled_dot_product_attention (a masked softmax on PyTorch < 2.0), exact GELU 4x MLP, LayerNorm and linears
with biases, head tied to the token embedding, GPT-2 init, dropout 0. Loss: cross-entropy in fp32.
Optimizer: AdamW (fused where this PyTorch has it for the device, else foreach), betas/eps/decay as given,
decay on tensors with >= 2 dims, global-norm clipping with torch.nn.utils.clip_grad_norm_, grads set to None.

Precision:
  fp32      fp32 weights, fp32 compute (the CPU comparison).
  autocast  fp32 master weights and moments, torch.autocast(bfloat16) forward (same policy as ours).
  bf16      pure bf16 weights, gradients and moments (the prototype's first measurement, bench/RESULTS.md).
--compile wraps the model in torch.compile (PyTorch 2.0+; its compilation happens in the warm-up steps).
Prints one JSON line: tokens_per_second, step_ms, peak_flops (the same large matmul as the .NET side), ...
"""
import argparse, json, math, time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, c, h):
        super().__init__()
        self.h = h
        self.ln_1 = nn.LayerNorm(c)
        self.attn = nn.ModuleDict(dict(c_attn=nn.Linear(c, 3 * c), c_proj=nn.Linear(c, c)))
        self.ln_2 = nn.LayerNorm(c)
        self.mlp = nn.ModuleDict(dict(c_fc=nn.Linear(c, 4 * c), c_proj=nn.Linear(4 * c, c)))

    def forward(self, x):
        b, t, c = x.shape
        qkv = self.attn.c_attn(self.ln_1(x))
        q, k, v = qkv.view(b, t, 3, self.h, c // self.h).permute(2, 0, 3, 1, 4)
        if hasattr(F, "scaled_dot_product_attention"):
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:  # PyTorch 1.x (Debian 12's python3-torch)
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            mask = torch.ones(t, t, dtype=torch.bool, device=x.device).tril()
            y = att.masked_fill(~mask, float("-inf")).softmax(dim=-1) @ v
        x = x + self.attn.c_proj(y.transpose(1, 2).reshape(b, t, c))
        return x + self.mlp.c_proj(F.gelu(self.mlp.c_fc(self.ln_2(x))))


class GPT(nn.Module):
    def __init__(self, layers, width, heads, context, vocab):
        super().__init__()
        self.wte = nn.Embedding(vocab, width)
        self.wpe = nn.Embedding(context, width)
        self.h = nn.ModuleList(Block(width, heads) for _ in range(layers))
        self.ln_f = nn.LayerNorm(width)
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * layers))
            elif ".ln_" in name or name.startswith("ln"):
                nn.init.ones_(p) if name.endswith("weight") else nn.init.zeros_(p)
            elif name.endswith("bias"):
                nn.init.zeros_(p)
            else:
                nn.init.normal_(p, 0.0, 0.02)

    def forward(self, idx, targets):
        t = idx.size(1)
        x = self.wte(idx) + self.wpe(torch.arange(t, device=idx.device))
        for block in self.h:
            x = block(x)
        logits = F.linear(self.ln_f(x), self.wte.weight)
        return F.cross_entropy(logits.float().view(-1, logits.size(-1)), targets.view(-1))


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def matmul_peak(device, dtype, n, repeats):
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    for _ in range(2):
        a @ b
    sync(device)
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    sync(device)
    return 2.0 * n ** 3 * repeats / (time.perf_counter() - start)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name, default in [("layers", 4), ("width", 128), ("heads", 4), ("context", 128), ("vocab", 256),
                          ("batch", 8), ("seq", 0), ("steps", 20), ("warmup", 3), ("threads", 1), ("seed", 1337)]:
        ap.add_argument("--" + name, type=int, default=default)
    ap.add_argument("--precision", choices=["fp32", "autocast", "bf16"], default="fp32")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--compile", action="store_true", help="torch.compile the model (PyTorch 2.0+)")
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--beta1", type=float, default=0.9)
    ap.add_argument("--beta2", type=float, default=0.95)
    ap.add_argument("--eps", type=float, default=1e-8)
    ap.add_argument("--weight-decay", type=float, default=0.1)
    ap.add_argument("--max-grad-norm", type=float, default=1.0)
    ap.add_argument("--peak-size", type=int, default=0, help="matmul size for the peak (default 8192 on CUDA, 1024 on CPU)")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    seq = args.seq or args.context
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True

    model = GPT(args.layers, args.width, args.heads, args.context, args.vocab).to(device)
    if args.precision == "bf16":
        model = model.to(torch.bfloat16)
    params = [p for p in model.parameters() if p.requires_grad]
    if args.compile:
        if not hasattr(torch, "compile"):
            raise SystemExit("--compile needs PyTorch 2.0 or later, this is " + torch.__version__)
        model = torch.compile(model)
    groups = [dict(params=[p for p in params if p.dim() >= 2], weight_decay=args.weight_decay),
              dict(params=[p for p in params if p.dim() < 2], weight_decay=0.0)]
    kinds = []
    for flag in ("fused", "foreach"):
        try:
            opt = torch.optim.AdamW(groups, lr=args.lr, betas=(args.beta1, args.beta2), eps=args.eps, **{flag: True})
            # fused AdamW exists for CUDA in 2.0+ and for CPU in 2.4+; try a step to find out
            kinds.append(flag)
            break
        except (TypeError, RuntimeError, ValueError):
            continue
    if not kinds:
        opt = torch.optim.AdamW(groups, lr=args.lr, betas=(args.beta1, args.beta2), eps=args.eps)
        kinds.append("plain")

    gen = torch.Generator().manual_seed(args.seed)
    x = torch.randint(0, args.vocab, (args.batch, seq), generator=gen).to(device)
    y = torch.randint(0, args.vocab, (args.batch, seq), generator=gen).to(device)

    def step():
        if args.precision == "autocast":
            with torch.autocast(device_type=device.type, dtype=torch.bfloat16):
                loss = model(x, y)
        else:
            loss = model(x, y)
        loss.backward()
        if args.max_grad_norm > 0:
            torch.nn.utils.clip_grad_norm_(params, args.max_grad_norm)
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss

    try:
        step()
    except RuntimeError as e:  # e.g. fused unsupported for this device at step time
        if kinds[0] != "fused":
            raise
        opt = torch.optim.AdamW(groups, lr=args.lr, betas=(args.beta1, args.beta2), eps=args.eps, foreach=True)
        kinds[0] = "foreach (fused failed: %s)" % str(e).splitlines()[0][:80]
        step()
    for _ in range(max(0, args.warmup - 1)):
        step()
    sync(device)
    start = time.perf_counter()
    for _ in range(args.steps):
        loss = step()
    last = loss.item()
    elapsed = time.perf_counter() - start

    peak_dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    n = args.peak_size or (8192 if device.type == "cuda" else 1024)
    peak = matmul_peak(device, peak_dtype, n, 50 if device.type == "cuda" else 5)
    print(json.dumps(dict(
        implementation="pytorch", torch=torch.__version__, device=str(device),
        gpu=torch.cuda.get_device_name() if device.type == "cuda" else None,
        precision=args.precision, compiled=args.compile, optimizer="AdamW " + kinds[0], steps=args.steps, batch=args.batch, seq=seq,
        tokens_per_second=args.steps * args.batch * seq / elapsed, step_ms=1000 * elapsed / args.steps,
        last_loss=last, peak_flops=peak, peak_dtype=str(peak_dtype).replace("torch.", ""), peak_size=n)))


if __name__ == "__main__":
    main()
