"""gfx target names: the one identifier ROCm code objects are built for.

AMD GPUs are named by their ISA, ``gfx`` + major + minor + stepping (the stepping in hex):
gfx906, gfx90a (9.0.10), gfx942, gfx1030, gfx1100, gfx1151. The same identity appears as
KFD's integer ``gfx_target_version`` (90010 for gfx90a, 110001 for gfx1101) and as the
``HSA_OVERRIDE_GFX_VERSION`` text ("10.3.0" = gfx1030).
"""

from __future__ import annotations

import re
from typing import Optional

_NAME = re.compile(r"gfx([0-9]{1,2})([0-9a-f])([0-9a-f])\b", re.I)
# rocm-smi writes gfx90a's stepping in decimal: "gfx9010" (9.0.10).
_DECIMAL_STEP = re.compile(r"gfx(9)([0-9])([0-9]{2})\b", re.I)


def from_kfd(value: object) -> Optional[str]:
    """KFD topology's ``gfx_target_version`` (90010, 110001) -> "gfx90a", "gfx1101"."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    if number <= 0:
        return None  # a CPU node
    major, minor, step = number // 10000, (number // 100) % 100, number % 100
    if minor > 15 or step > 15:
        return None
    return f"gfx{major}{minor:x}{step:x}"


def from_override(value: object) -> Optional[str]:
    """HSA_OVERRIDE_GFX_VERSION ("10.3.0", "9.0.10", "11.0.0") -> "gfx1030"; None when
    the text is not three decimal numbers (HSA ignores it then)."""
    parts = str(value or "").strip().split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    major, minor, step = (int(p) for p in parts)
    if minor > 15 or step > 15:
        return None
    return f"gfx{major}{minor:x}{step:x}"


def normalize(text: object) -> Optional[str]:
    """The bare target in any spelling: "amdgcn-amd-amdhsa--gfx90a:sramecc+:xnack-",
    "gfx90a:xnack-", "GFX1100" -> "gfx90a", "gfx1100"; None when there is none."""
    decimal = _DECIMAL_STEP.search(str(text or ""))
    if decimal and int(decimal.group(3)) <= 15:
        return f"gfx{decimal.group(1)}{decimal.group(2)}{int(decimal.group(3)):x}"
    match = _NAME.search(str(text or ""))
    if not match:
        return None
    return f"gfx{match.group(1)}{match.group(2)}{match.group(3)}".lower()


def family(target: str) -> Optional[str]:
    """The ISA family HSA_OVERRIDE_GFX_VERSION may substitute within: the target without
    its stepping ("gfx1031" -> "gfx103", "gfx90a" -> "gfx90")."""
    name = normalize(target)
    return name[:-1] if name else None
