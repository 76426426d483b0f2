"""What the hardware can do: datasheet peaks and per-architecture number formats.

Pure lookups over the sourced tables in ``envdoctor/data`` (``gpu_peaks.json``,
``gpu_precision.json``, ``cpu_peak.json``), shared by the ``gpu.precision`` check and
``envdoctor bench``. Vendor-neutral: GPU rows are keyed by vendor and model (peaks) or
vendor and architecture key (precision); see :mod:`envdoctor.hardware.gpus`.
"""
