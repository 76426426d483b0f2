"""Container definitions judged before they are built or deployed: Dockerfiles, Compose
files and Kubernetes manifests (``envdoctor dockerfile|compose|k8s PATH``).

* :mod:`.images` knows base images: the CUDA an ``nvidia/cuda``, ``pytorch/pytorch`` or
  ``tensorflow/tensorflow:*-gpu`` tag carries, and which images have no CUDA at all;
* :mod:`.pip` reads ``pip install`` commands out of shell text (requirements, index
  options);
* :mod:`.dockerfile`, :mod:`.compose`, :mod:`.k8s` parse one format each (with line
  numbers) and report :class:`~.issues.Issue` objects;
* :mod:`.issues` holds the codes (``container.E001`` ...) and the exit code rule.

The host's NVIDIA driver (when there is one) is a fact like any other: rules that need it
take it as an argument, so ``--from REPORT`` judges a file for another machine.
"""
