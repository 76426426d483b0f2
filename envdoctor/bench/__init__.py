"""``envdoctor bench``: measure what the machine delivers next to what it could.

Each part runs in a child process with a deadline (:mod:`envdoctor.bench.worker`), so a
stuck GPU or a hung network mount costs its time slice, never the command:

- ``cpu``: float32 GEMM through NumPy's BLAS vs cores x clock x FLOPs/cycle;
- ``gpu``: matmul TFLOPS in FP32/TF32/FP16/BF16 (torch, else CuPy) vs the datasheet
  peak, pinned host<->device copies vs the PCIe link;
- ``storage``: sequential read of a temporary file in the data folder (page cache
  bypassed where the OS allows) vs what the device kind should deliver.

:mod:`envdoctor.bench.peaks` turns measurements into lines (measured, peak, ratio,
verdict); :mod:`envdoctor.bench.run` orchestrates and stores them in ``facts["bench"]``.
"""
