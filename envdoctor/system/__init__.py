"""Readers for the machine's own system files: /proc/meminfo, /proc/self/mountinfo,
cgroup v1/v2 memory files, /sys/block. Pure parsers over text, plus helpers that take
a ``read(path) -> text | None`` function so probes pass :meth:`ProbeContext.read_text`
(tests point it at a fake tree built from real captures: ENVDOCTOR_SYSROOT)."""
