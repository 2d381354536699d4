#!/usr/bin/env python3
"""How much an int8 vector depends on the texts that share its inference call.

The int8 graph quantises activations with one scale per call, so a chunk's
vector moves with its batch mates; this prints the cosine of int8 vectors
(alone, and in batches of 32) against fp32 ones, and of batched against alone
(docs/benchmarks.md, "Retrieval quality on freshly built indexes").

Usage: int8-batch-noise.py MODEL_DIR SOURCE_DIR
  MODEL_DIR   holds model.onnx, model.int8.onnx, tokenizer.json
              (~/.cache/mcp-vector-search/models/all-minilm-l6-v2 after setup)
  SOURCE_DIR  96 windows of 1,500 characters are cut from its *.py files
Needs numpy, onnxruntime and tokenizers.
"""

import glob
import random
import sys

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

model_dir, source_dir = sys.argv[1], sys.argv[2]
tokenizer = Tokenizer.from_file(f"{model_dir}/tokenizer.json")
tokenizer.no_padding()
tokenizer.enable_truncation(128)
texts = []
for path in sorted(glob.glob(f"{source_dir}/*.py"))[:40]:
    source = open(path, encoding="utf-8", errors="replace").read()
    texts += [source[i : i + 1500] for i in range(0, len(source), 1500)]
random.seed(1)
random.shuffle(texts)
texts = texts[:96]


def embed(session, batch):
    encodings = [tokenizer.encode(t) for t in batch]
    width = max(len(e.ids) for e in encodings)
    ids = np.zeros((len(batch), width), np.int64)
    mask = np.zeros_like(ids)
    for row, encoding in enumerate(encodings):
        ids[row, : len(encoding.ids)] = encoding.ids
        mask[row, : len(encoding.ids)] = 1
    feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
    hidden = session.run(None, {i.name: feed[i.name] for i in session.get_inputs()})[0]
    pooled = (hidden * mask[:, :, None]).sum(1) / mask.sum(1, keepdims=True)
    return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)


def session(graph):
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(f"{model_dir}/{graph}", options, providers=["CPUExecutionProvider"])


def alone(s):
    return np.concatenate([embed(s, [t]) for t in texts])


def batched(s):
    return np.concatenate([embed(s, texts[i : i + 32]) for i in range(0, len(texts), 32)])


def report(name, a, b):
    cosine = (a * b).sum(1)
    print(f"{name}: mean {cosine.mean():.4f}, min {cosine.min():.4f}")


fp32, int8 = session("model.onnx"), session("model.int8.onnx")
reference = alone(fp32)
report("fp32 in batches of 32 vs alone", batched(fp32), reference)
int8_alone = alone(int8)
report("int8 alone vs fp32", int8_alone, reference)
report("int8 in batches of 32 vs fp32", batched(int8), reference)
report("int8 in batches of 32 vs alone", batched(int8), int8_alone)
