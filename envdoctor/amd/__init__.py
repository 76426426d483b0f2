"""AMD GPUs and ROCm: readers for what the machine says about them.

- :mod:`envdoctor.amd.gfx`: gfx target names (``gfx90a``, ``gfx1100``) from every form
  the stack writes them in (KFD's ``gfx_target_version``, HSA_OVERRIDE_GFX_VERSION,
  ``amdgcn-amd-amdhsa--gfx90a:sramecc+:xnack-``).
- :mod:`envdoctor.amd.tools`: parsers for ``amd-smi static --json``, ``rocm-smi --json``
  and ``rocminfo`` output (pure functions of text; never raise).
- :mod:`envdoctor.amd.kernel`: the kernel side (amdgpu module, PCI devices, /dev/kfd and
  /dev/dri/renderD* permissions, KFD topology, the ROCm install under /opt/rocm*), read
  through the probe context so tests point ENVDOCTOR_SYSROOT at a fake tree.

The probe that uses them is :mod:`envdoctor.probes.amd` (facts["amd"]); the checks are
``checks/rocm_*.py``.
"""
