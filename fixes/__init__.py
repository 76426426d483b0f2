"""Fixes: plan, confirm, apply, re-check. Installed as ``envdoctor.fixes``."""
