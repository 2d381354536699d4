#!/usr/bin/env python3
"""Distils a static token table from a sentence-embedding model (model2vec's
recipe) and writes it as a model directory the embedder loads unchanged.

Each vocabulary token runs through the fp32 model as `[CLS] token [SEP]`; the
mean of its output vectors, unit length, is the token's vector. Optional: SIF
weights a / (a + p) with p from Zipf's law over the vocabulary order, and
centring plus PCA. The graph is one `Gather` over the table, so the embedder's
mean pooling makes a text's vector the mean of its tokens'. An experiment
for issue 18's static first pass (docs/benchmarks.md: measured, not adopted):

  distill-static.py MODEL_DIR OUT [--sif 1e-3] [--pca 256]
  MCP_VECTOR_SEARCH_MODEL_DIR=OUT mcp-vector-search index DIR

Needs numpy, onnx, onnxruntime and tokenizers.
"""

import argparse
import json
import os
import shutil

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from tokenizers import Tokenizer

parser = argparse.ArgumentParser()
parser.add_argument("model_dir")
parser.add_argument("out")
parser.add_argument("--sif", type=float, help="SIF weight parameter a (e.g. 1e-3)")
parser.add_argument("--pca", type=int, help="dimensions to keep after centring")
args = parser.parse_args()

tokenizer = Tokenizer.from_file(f"{args.model_dir}/tokenizer.json")
vocabulary = tokenizer.get_vocab_size()
cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
session = ort.InferenceSession(f"{args.model_dir}/model.onnx", providers=["CPUExecutionProvider"])
table = None
for start in range(0, vocabulary, 1024):
    ids = np.arange(start, min(vocabulary, start + 1024))
    tokens = np.stack([np.full(len(ids), cls), ids, np.full(len(ids), sep)], 1).astype(np.int64)
    feed = {"input_ids": tokens, "attention_mask": np.ones_like(tokens), "token_type_ids": np.zeros_like(tokens)}
    hidden = session.run(None, {i.name: feed[i.name] for i in session.get_inputs()})[0].mean(1)
    table = hidden if table is None else np.concatenate([table, hidden])
table /= np.linalg.norm(table, axis=1, keepdims=True) + 1e-9
specials = [i for t, i in tokenizer.get_vocab().items() if t.startswith("[") and t.endswith("]")]
if args.pca:
    words = np.ones(vocabulary, bool)
    words[specials] = False
    table = table - table[words].mean(0)
    _, _, components = np.linalg.svd(table[words], full_matrices=False)
    table = table @ components[: args.pca].T
    table /= np.linalg.norm(table, axis=1, keepdims=True) + 1e-9
if args.sif:
    # BERT vocabularies list whole words roughly by frequency after the
    # single characters; Zipf's law turns that rank into a probability.
    first_word = tokenizer.token_to_id("the") or 1
    rank = np.maximum(np.arange(vocabulary, dtype=np.float64) - (first_word - 1), 1.0)
    probability = (1.0 / rank) / (1.0 / rank).sum()
    table *= (args.sif / (args.sif + probability))[:, None].astype(np.float32)
table[specials] = 0.0
dimension = table.shape[1]
graph = helper.make_graph(
    [helper.make_node("Gather", ["table", "input_ids"], ["last_hidden_state"], axis=0)],
    "static",
    [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "tokens"])],
    [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "tokens", dimension])],
    initializer=[numpy_helper.from_array(table.astype(np.float32), "table")],
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
model.ir_version = 8  # what ONNX Runtime 1.31 reads
os.makedirs(args.out, exist_ok=True)
onnx.save(model, f"{args.out}/model.onnx")
shutil.copy(f"{args.model_dir}/tokenizer.json", args.out)
spec = {"id": f"static-{os.path.basename(args.out)}", "dimension": dimension, "max_tokens": 256, "pooling": "mean"}
json.dump(spec, open(f"{args.out}/model.json", "w"))
print(f"wrote {args.out}: {vocabulary} tokens x {dimension}")
