"""``envdoctor fit MODEL``: will a model fit this machine's GPU memory?

* :mod:`.size` reads a model's parameter count (and the dimensions of its KV cache)
  from local files only: safetensors headers (exact), a safetensors index
  (``total_size``), a Hugging Face ``config.json`` (an estimate from its dimensions), or a
  count such as ``7B``;
* :mod:`.memory` turns it into bytes per precision (FP32, BF16/FP16, INT8, INT4), for
  inference and for training with Adam, from ``data/model_memory.json`` (each rule
  sourced), and compares them with the memory each GPU, or each MIG instance, has free.
"""
