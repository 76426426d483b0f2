"""envdoctor's Python API: diagnose this machine from a library or a notebook.

Stable (see docs/api.md): the names in ``__all__`` and their documented attributes
keep their meaning across releases; new keyword arguments and attributes may be added.

    import envdoctor

    report = envdoctor.diagnose(only="gpu")
    if not report.ok:
        print(report.render())

and, in a package whose own import fails::

    with envdoctor.explain_import_failure("torch"):
        import torch

``import envdoctor`` stays cheap: this module is loaded on first use of one of its names.
"""

from __future__ import annotations

from envdoctor.api.diagnosis import diagnose
from envdoctor.api.import_failure import explain_import_failure, import_failure_report
from envdoctor.api.report import CheckVerdict, Report, ReportFinding

__all__ = ["CheckVerdict", "Report", "ReportFinding", "diagnose", "explain_import_failure",
           "import_failure_report"]
