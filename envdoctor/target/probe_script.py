# -*- coding: utf-8 -*-
"""What an interpreter is and what it sees, told by the interpreter itself.

envdoctor runs this file with the Python it examines (``python -B probe_script.py``),
so it must work on every Python people still have: 2.7 and 3.6 through 3.14. It uses
the standard library only, imports nothing from the environment, writes nothing
(``-B`` and PYTHONDONTWRITEBYTECODE keep even ``sitecustomize`` from leaving a .pyc) and
prints one line, ``@@envdoctor-target@@`` followed by a JSON document, on stdout.
Anything a ``sitecustomize`` or ``.pth`` file prints before it is ignored by the reader.

When envdoctor examines the Python it runs in, it imports this module and calls
:func:`collect` instead: the same code gives the same facts either way, which is what
lets a report made from outside an environment equal one made from inside it.

The facts are raw on purpose (configuration variables, platform strings, paths):
envdoctor derives wheel tags, environment kinds and pip's state from them on its own
side, with the real ``packaging``, which the target may not have.
"""

import os
import sys

MARKER = "@@envdoctor-target@@"
FORMAT = 1

# Running by path puts this file's folder first on sys.path; drop it before importing
# anything else, so nothing of envdoctor's can shadow the standard library.
if __name__ == "__main__" and sys.path:
    try:
        if os.path.abspath(sys.path[0] or ".") == os.path.dirname(os.path.abspath(__file__)):
            del sys.path[0]
    except Exception:  # an odd sys.path entry: leave it
        pass

# The configuration variables packaging's tag code reads (tags.py, _cpython_abis).
_CONFIG_VARS = ("py_version_nodot", "Py_DEBUG", "Py_GIL_DISABLED", "WITH_PYMALLOC",
                "Py_UNICODE_SIZE", "EXT_SUFFIX", "SOABI", "MULTIARCH")


def _text(value):
    """A str (Python 3) or unicode (Python 2) for JSON; undecodable bytes replaced."""
    if isinstance(value, bytes):  # Python 2's str is bytes
        return value.decode("utf-8", "replace")
    return value


def _error(exc):
    return "%s: %s" % (type(exc).__name__, _text(str(exc))[:500])


def visible_path(startup_entry=None):
    """sys.path as a program this interpreter runs sees it: without the entry Python
    added for the script or command that started this process (``startup_entry``:
    envdoctor's own folder, already removed when run as a script)."""
    path = list(sys.path)
    if startup_entry is not None and startup_entry in path:
        path.remove(startup_entry)
    return [_text(entry) for entry in path if isinstance(entry, (str, bytes, type(u"")))]


def _find_module(name):
    """The file a top-level import of ``name`` would load (nothing is imported)."""
    try:
        import importlib.util

        spec = importlib.util.find_spec(name)
        if spec is None:
            return None
        return _text(spec.origin) if spec.origin else ""
    except ImportError:
        pass
    except Exception as exc:  # a broken finder or a .pth hook
        return {"error": _error(exc)}
    try:
        import imp  # Python 2

        handle, path, _ = imp.find_module(name)
        if handle is not None:
            handle.close()
        if os.path.isdir(path):
            path = os.path.join(path, "__init__.py")
        return _text(path)
    except ImportError:
        return None
    except Exception as exc:
        return {"error": _error(exc)}


def _implementation():
    impl = getattr(sys, "implementation", None)
    if impl is not None:
        info = impl.version
        version = "%d.%d.%d" % (info.major, info.minor, info.micro)
        if info.releaselevel != "final":
            version += info.releaselevel[0] + str(info.serial)
        return impl.name, version
    import platform

    # Python 2: what packaging.markers answers there (no sys.implementation).
    return platform.python_implementation().lower(), "0"


def marker_environment():
    """PEP 508 marker variables, as packaging's ``default_environment()`` computes them."""
    import platform

    name, version = _implementation()
    if not hasattr(sys, "implementation"):
        name = ""
    return {
        "implementation_name": name,
        "implementation_version": version,
        "os_name": os.name,
        "platform_machine": platform.machine(),
        "platform_release": platform.release(),
        "platform_system": platform.system(),
        "platform_version": platform.version(),
        "python_full_version": platform.python_version(),
        "platform_python_implementation": platform.python_implementation(),
        "python_version": ".".join(platform.python_version_tuple()[:2]),
        "sys_platform": sys.platform,
    }


def _glibc():
    try:
        value = os.confstr("CS_GNU_LIBC_VERSION")
        if value:
            return _text(value)
    except (AttributeError, ValueError, OSError):
        pass
    if not sys.platform.startswith("linux"):
        return None
    try:  # packaging's fallback: ask the C library this process loaded
        import ctypes

        version = ctypes.CDLL(None).gnu_get_libc_version
        version.restype = ctypes.c_char_p
        return "glibc " + _text(version())
    except Exception:
        return None


def _extension_suffixes():
    try:
        import importlib.machinery

        return list(importlib.machinery.EXTENSION_SUFFIXES)
    except ImportError:
        import imp

        return [suffix for suffix, _, kind in imp.get_suffixes() if kind == imp.C_EXTENSION]


def tag_facts():
    """What packaging's ``sys_tags()`` reads from the running interpreter."""
    import platform
    import struct

    try:
        import sysconfig

        config = dict((name, sysconfig.get_config_var(name)) for name in _CONFIG_VARS)
        plat = sysconfig.get_platform()
    except Exception as exc:  # a broken _sysconfigdata
        config, plat = {"error": _error(exc)}, None
    try:
        uname_machine = os.uname()[4]
    except AttributeError:
        uname_machine = platform.machine()
    return {
        "implementation": _implementation()[0],
        "version_info": list(sys.version_info[:2]),
        "config": dict((k, _text(v)) for k, v in config.items()),
        "has_refcount": hasattr(sys, "gettotalrefcount"),
        "maxunicode": sys.maxunicode,
        "extension_suffixes": _extension_suffixes(),
        "sysconfig_platform": _text(plat),
        "system": platform.system(),
        "machine": platform.machine(),
        "uname_machine": _text(uname_machine),
        "bits": struct.calcsize("P") * 8,
        "glibc": _glibc(),
        "mac_ver": platform.mac_ver()[0] if sys.platform == "darwin" else None,
        "windows_arch": [os.environ.get("PROCESSOR_ARCHITEW6432"),
                         os.environ.get("PROCESSOR_ARCHITECTURE")]
        if os.name == "nt" else None,
    }


def _user_site():
    try:
        import site

        enabled = getattr(site, "ENABLE_USER_SITE", None)
        return {"enabled": enabled if enabled in (True, False) else None,
                "path": _text(getattr(site, "USER_SITE", None))}
    except Exception as exc:
        return {"error": _error(exc)}


def _include_dir():
    try:
        import sysconfig

        return _text(sysconfig.get_paths().get("include"))
    except Exception:  # a broken _sysconfigdata
        return None


def collect(startup_entry=None):
    """Every fact envdoctor reads from the target, as JSON-ready data.

    ``startup_entry``: the sys.path entry Python added for the program that runs this
    (see :func:`visible_path`)."""
    import platform
    import struct

    prefix = _text(sys.prefix)
    base = _text(getattr(sys, "base_prefix", getattr(sys, "real_prefix", sys.prefix)))
    stdlib = _text(os.path.dirname(os.path.abspath(os.__file__)))
    return {
        "format": FORMAT,
        "executable": _text(sys.executable) or None,
        "version": platform.python_version(),
        "version_info": list(sys.version_info[:3]),
        "implementation": _implementation()[0],
        "compiler": platform.python_compiler(),
        "prefix": prefix,
        "base_prefix": base,
        "bits": struct.calcsize("P") * 8,
        "abiflags": getattr(sys, "abiflags", ""),
        "debug_build": hasattr(sys, "gettotalrefcount"),
        "stdlib": stdlib,
        # PEP 668: the marker sits in the standard library folder, next to os.py.
        "externally_managed": os.path.isfile(os.path.join(stdlib, "EXTERNALLY-MANAGED")),
        "conda_meta": os.path.isdir(os.path.join(prefix, "conda-meta")),
        # The C headers extensions compile against (Python.h): checks/build_jit_extensions.
        "include_dir": _include_dir(),
        "sys_path": visible_path(startup_entry),
        "user_site": _user_site(),
        "pip_module": _find_module("pip"),
        "ensurepip": _find_module("ensurepip") is not None,
        "marker_environment": marker_environment(),
        "tags": tag_facts(),
    }


def main():
    try:
        facts = collect()
    except Exception as exc:  # report, never a traceback the reader cannot parse
        facts = {"format": FORMAT, "error": _error(exc)}
    import json

    # A newline first: a sitecustomize may have left a line unfinished.
    line = "\n" + MARKER + json.dumps(facts, sort_keys=True, ensure_ascii=True) + "\n"
    binary = getattr(sys.stdout, "buffer", None)  # Python 3; Python 2 writes str (bytes)
    if binary is not None:
        binary.write(line.encode("ascii"))
    else:
        sys.stdout.write(line)
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
