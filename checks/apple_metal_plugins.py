"""apple.metal_plugins: TensorFlow's tensorflow-metal and JAX's jax-metal plugins, and
whether each is paired with a framework version it can load into."""

from __future__ import annotations

from typing import Any, Optional

from envdoctor.facts import as_dict, strings, text
from envdoctor.registry import register
from envdoctor.result import ERROR, INFO, WARNING, Finding, Outcome, outcome, passed, skipped

from ._framework import version_tuple

CODES = {
    "apple.E010": "TensorFlow could not load the tensorflow-metal plugin (a TensorFlow "
                  "newer than the plugin: 'Symbol not found' in libmetal_plugin.dylib).",
    "apple.W010": "tensorflow-metal is installed with a TensorFlow newer than it is known "
                  "to load into.",
    "apple.W011": "jax-metal is installed with a jaxlib outside the range it was built for.",
    "apple.W012": "This macOS is older than the installed jax-metal needs.",
    "apple.I010": "ENABLE_PJRT_COMPATIBILITY=1 lets jax-metal run with a newer jaxlib, "
                  "without a guarantee of correct results.",
}
PLUGIN_MARKS = ("libmetal_plugin", "tensorflow-plugins", "metal_plugin")


def _data() -> dict:
    from envdoctor.data import load

    return load("apple_metal.json")


def _row(rows: list[dict], key: str, version: str) -> Optional[dict]:
    """The table row for the newest plugin release not above ``version``."""
    have = version_tuple(version)
    matches = [r for r in rows if version_tuple(r[key]) <= have]
    return max(matches, key=lambda r: version_tuple(r[key])) if matches else None


def _plugin_failure(live: dict) -> Optional[str]:
    lines = [text(live.get("error")) or ""] + strings(live.get("stderr_findings")) \
        + strings(live.get("stderr_tail"))
    return next((line for line in lines if line and any(m in line for m in PLUGIN_MARKS)),
                None)


@register("apple.metal_plugins", title="TensorFlow and JAX Metal plugins",
          tags=("gpu", "apple", "framework"), needs=("apple", "packages", "frameworks", "env"),
          codes=CODES)
def check_metal_plugins(facts: dict[str, Any]) -> Outcome:
    """TensorFlow and JAX reach the Apple GPU through plugins that must match the
    framework they load into.

    tensorflow-metal is a PluggableDevice loaded when TensorFlow imports; a TensorFlow
    newer than the plugin fails with `Symbol not found` in libmetal_plugin.dylib
    (tensorflow-metal 1.1.0 loads into TensorFlow 2.17, not 2.18). For TensorFlow 2.13
    and later install `tensorflow`, for 2.12 and earlier `tensorflow-macos`.

    jax-metal is built for one jaxlib (table on its PyPI page) and needs a recent macOS
    (Sonoma 14.4+ for 0.0.7 and later); ENABLE_PJRT_COMPATIBILITY=1 lets it run with a
    newer jaxlib, without a correctness guarantee.
    """
    if not as_dict(facts.get("apple")).get("present"):
        return skipped("not a Mac with an Apple GPU")
    dists = as_dict(as_dict(facts.get("packages")).get("distributions"))
    tf_metal, jax_metal = text(dists.get("tensorflow-metal")), text(dists.get("jax-metal"))
    if not tf_metal and not jax_metal:
        return skipped("neither tensorflow-metal nor jax-metal is installed")
    data = _data()
    live = as_dict(as_dict(facts.get("frameworks")).get("live"))
    findings: list[Finding] = []
    parts = []
    if tf_metal:
        tf = next((text(dists.get(k)) for k in ("tensorflow", "tensorflow-macos")
                   if dists.get(k)), None)
        parts.append(f"tensorflow-metal {tf_metal}" + (f" with TensorFlow {tf}" if tf else ""))
        failure = _plugin_failure(as_dict(live.get("tensorflow")))
        row = _row(data["tensorflow_metal"], "tensorflow_metal", tf_metal)
        if failure:
            findings.append(Finding(
                "apple.E010", ERROR,
                f"TensorFlow {tf or '?'} could not load tensorflow-metal {tf_metal}: {failure}",
                hint=(f"install the TensorFlow it was built for: `pip install "
                      f"'tensorflow<={row['tensorflow_max']}.*'`; source: {row['source']}"
                      if row else "install the TensorFlow version tensorflow-metal lists on "
                                  "https://pypi.org/project/tensorflow-metal/"),
                details={"error": failure}))
        elif row and tf and version_tuple(tf)[:2] > version_tuple(row["tensorflow_max"]):
            findings.append(Finding(
                "apple.W010", WARNING,
                f"tensorflow-metal {tf_metal} is known to load into TensorFlow up to "
                f"{row['tensorflow_max']}; TensorFlow {tf} fails with 'Symbol not found' in "
                "libmetal_plugin.dylib",
                hint=f"`pip install 'tensorflow=={row['tensorflow_max']}.*'`; source: "
                     f"{row['source']}"))
    if jax_metal:
        jaxlib = text(dists.get("jaxlib"))
        parts.append(f"jax-metal {jax_metal}" + (f" with jaxlib {jaxlib}" if jaxlib else ""))
        row = _row(data["jax_metal"], "jax_metal", jax_metal)
        macos = text(as_dict(facts.get("apple")).get("macos_version"))
        if row and macos and version_tuple(macos) < version_tuple(row["macos_min"]):
            findings.append(Finding(
                "apple.W012", WARNING,
                f"jax-metal {jax_metal} needs macOS {row['macos_min']} or later; this is macOS "
                f"{macos}", hint=f"update macOS, or install an older jax-metal; source: "
                                 f"{row['source']}"))
        if row and jaxlib:
            low, high = row["jaxlib_min"], row.get("jaxlib_max_exclusive")
            have = version_tuple(jaxlib)
            outside = have < version_tuple(low) or (high and have >= version_tuple(high))
            variables = as_dict(as_dict(facts.get("env")).get("variables"))
            compat = str(variables.get("ENABLE_PJRT_COMPATIBILITY", "")).strip() == "1"
            wanted = f">={low}" + (f",<{high}" if high else "")
            if outside and compat and have >= version_tuple(low):
                findings.append(Finding(
                    "apple.I010", INFO,
                    f"jaxlib {jaxlib} is newer than jax-metal {jax_metal} was built for "
                    f"(jaxlib{wanted}); ENABLE_PJRT_COMPATIBILITY=1 lets it run, results are "
                    "not guaranteed", hint=f"source: {data['jax_metal_compat']['source']}"))
            elif outside:
                findings.append(Finding(
                    "apple.W011", WARNING,
                    f"jax-metal {jax_metal} was built for jaxlib{wanted}; jaxlib {jaxlib} is "
                    "installed, so JAX falls back to the CPU or fails to start the Metal "
                    "backend",
                    hint=f"`pip install 'jaxlib{wanted}' 'jax{wanted}'`, or try "
                         f"`ENABLE_PJRT_COMPATIBILITY=1`; source: {row['source']}"))
    summary = "; ".join(parts)
    if not findings:
        return passed(summary)
    return outcome(summary, findings)
