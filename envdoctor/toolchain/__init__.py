"""Build toolchains: what a ``pip install`` that compiles (flash-attn, apex, DeepSpeed ops,
``torch.utils.cpp_extension``) will meet.

- :mod:`envdoctor.toolchain.versions`: read the version lines compilers and build tools
  print (``gcc --version``, ``cl``, ``cmake --version``...);
- :mod:`envdoctor.toolchain.host_config`: which host compilers an installed ``nvcc``
  accepts, read from its own ``crt/host_config.h`` (the file that stops a build with
  "unsupported GNU version!"), with a sourced table when the header is not there
  (envdoctor/data/nvcc_host_compilers.json).

The probe is :mod:`envdoctor.probes.toolchain`; the checks are ``checks/build_*.py``.
"""
