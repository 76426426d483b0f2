"""Fake OpenCV installs for the pip.opencv and cv2-dll tests: dist-info folders, a cv2
package that fails with the real error texts, a fake `pip` module that records its argv
(and installs/uninstalls fake dists), fake executables on PATH."""

from __future__ import annotations

import json
import stat
import sys
import textwrap
from pathlib import Path
from typing import Optional

# The texts real users see (opencv-python issue tracker, CPython's loader messages).
CV2_BEHAVIOUR = {
    "ok": "__version__ = {version!r}\n\n\ndef imread(filename, flags=1):\n    return None\n",
    "libgl": 'raise ImportError("libGL.so.1: cannot open shared object file: '
             'No such file or directory")\n',
    "libgthread": 'raise ImportError("libgthread-2.0.so.0: cannot open shared object file: '
                  'No such file or directory")\n',
    "numpy1": textwrap.dedent('''\
        import sys
        sys.stderr.write("\\nA module that was compiled using NumPy 1.x cannot be run in\\n"
                         "NumPy 2.0.2 as it may crash. To support both 1.x and 2.x\\n"
                         "versions of NumPy, modules must be compiled with NumPy 2.0.\\n")
        raise ImportError("numpy.core.multiarray failed to import")
        '''),
    "dll": 'raise ImportError("DLL load failed while importing cv2: The specified module '
           'could not be found.")\n',
    "win32": 'raise ImportError("DLL load failed while importing cv2: %1 is not a valid '
             'Win32 application.")\n',
    "segv": "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n",
    "hang": "import time\ntime.sleep(60)\n",
}

BINARY = "cv2/cv2.abi3.so"


def dist_folder(name: str, version: str) -> str:
    return f"{name.replace('-', '_')}-{version}.dist-info"


def add_dist(site: Path, name: str, version: str, requires: tuple[str, ...] = (),
             files: Optional[list[str]] = None, tags: tuple[str, ...] = (),
             entry_points: str = "") -> Path:
    folder = site / dist_folder(name, version)
    folder.mkdir(parents=True, exist_ok=True)
    meta = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    meta += [f"Requires-Dist: {r}" for r in requires]
    (folder / "METADATA").write_text("\n".join(meta) + "\n\nlong description\n",
                                     encoding="utf-8")
    rows = []
    for rel in files or []:
        size = (site / rel).stat().st_size if (site / rel).exists() else ""
        rows.append(f"{rel},sha256=x,{size}")
    rows.append(f"{folder.name}/RECORD,,")
    (folder / "RECORD").write_text("\n".join(rows) + "\n", encoding="utf-8")
    wheel = ["Wheel-Version: 1.0", "Root-Is-Purelib: false"]
    wheel += [f"Tag: {t}" for t in tags or ("cp37-abi3-manylinux_2_17_x86_64",)]
    (folder / "WHEEL").write_text("\n".join(wheel) + "\n", encoding="utf-8")
    if entry_points:
        (folder / "entry_points.txt").write_text(entry_points, encoding="utf-8")
    return folder


def write_cv2(site: Path, behaviour: str = "ok", version: str = "4.9.0") -> None:
    package = site / "cv2"
    package.mkdir(parents=True, exist_ok=True)
    if behaviour == "empty":
        # What `pip uninstall opencv-python-headless` leaves when opencv-python was
        # installed too: the shared files are removed, a folder remains, and `import cv2`
        # gives an empty namespace package: dir(cv2) holds only __doc__, __file__, __loader__,
        # __name__, __package__, __path__, __spec__ (anxiangsir/urban_seg#34).
        (package / "__init__.py").unlink(missing_ok=True)
        (site / BINARY).unlink(missing_ok=True)
        (package / "qt" / "fonts").mkdir(parents=True, exist_ok=True)
        return
    (package / "__init__.py").write_text(CV2_BEHAVIOUR[behaviour].format(version=version),
                                         encoding="utf-8")
    (site / BINARY).write_bytes(b"\x7fELF fake cv2 " + version.encode())


def add_variant(site: Path, name: str, version: str, behaviour: str = "ok",
                requires: tuple[str, ...] = ("numpy>=1.21.2",),
                tags: tuple[str, ...] = ()) -> None:
    """One OpenCV variant: its dist-info and (over)writing the shared cv2 folder."""
    write_cv2(site, behaviour, version.rsplit(".", 1)[0])
    add_dist(site, name, version, requires, ["cv2/__init__.py", BINARY], tags)


def add_numpy(site: Path, version: str) -> None:
    add_dist(site, "numpy", version)


FAKE_PIP = textwrap.dedent('''\
    """Fake pip: records argv as JSON lines in $FAKE_PIP_LOG; installs/uninstalls fake
    OpenCV/NumPy dist-infos in its own site dir; $FAKE_PIP_FAIL=install|uninstall|download
    fails (download: as real pip does with the index unreachable); $FAKE_PIP_HANG=CMD
    sleeps in that command after printing "working" (an interrupt lands mid-step).
    `download --dest D` writes a wheel file into D; `install --no-index --find-links D`
    needs it there."""
    import json, os, re, shutil, sys, time
    sys.path.insert(0, os.environ["FAKE_TESTS_DIR"])
    from pathlib import Path
    import opencv_fakes as fakes

    site = Path(__file__).resolve().parent.parent
    args = sys.argv[1:]
    with open(os.environ["FAKE_PIP_LOG"], "a", encoding="utf-8") as fh:
        fh.write(json.dumps(args) + "\\n")
    hung = Path(os.environ["FAKE_PIP_LOG"] + ".hung")
    if args and os.environ.get("FAKE_PIP_HANG") == args[0] and not hung.exists():
        hung.write_text("once")  # only the first time: a restore after it must work
        print("working", flush=True)
        time.sleep(60)
    if args and os.environ.get("FAKE_PIP_FAIL") == args[0] == "download":
        # pip 24's words with the index unreachable (PIP_INDEX_URL=http://127.0.0.1:9/)
        print("WARNING: Retrying (Retry(total=0, connect=None, read=None, redirect=None, "
              "status=None)) after connection broken by 'NewConnectionError(...: Failed to "
              "establish a new connection: [Errno 111] Connection refused')'")
        print("ERROR: Could not find a version that satisfies the requirement "
              + args[-1] + " (from versions: none)")
        sys.exit(1)
    if args and os.environ.get("FAKE_PIP_FAIL") == args[0]:
        print("ERROR: Could not install packages due to an OSError: [Errno 28] "
              "No space left on device")
        sys.exit(1)
    def option(name):
        return args[args.index(name) + 1] if name in args else None
    if args[:1] == ["download"]:
        spec = args[-1]
        name = re.match(r"[A-Za-z0-9_.-]+", spec).group(0)
        pinned = re.search(r"(==|>=) *([0-9][0-9A-Za-z.]*)", spec)
        version = "4.10.0.84" if pinned and pinned.group(1) == ">=" else pinned.group(2)
        wheel = name.replace("-", "_") + "-" + version + "-cp37-abi3-manylinux_2_17_x86_64.whl"
        Path(option("--dest"), wheel).write_bytes(b"PK fake wheel")
        print("Saved", wheel)
        sys.exit(0)
    if args[:1] == ["install"] and "--no-index" in args:
        name = re.match(r"[A-Za-z0-9_.-]+", args[-1]).group(0).replace("-", "_")
        if not list(Path(option("--find-links")).glob(name + "-*.whl")):
            print("ERROR: Could not find a version that satisfies the requirement "
                  + args[-1] + " (from versions: none)")
            sys.exit(1)
    if args[:1] == ["uninstall"]:
        for name in [a for a in args[1:] if not a.startswith("-")]:
            for folder in site.glob(fakes.dist_folder(name, "*")):
                shutil.rmtree(folder)
                print("Successfully uninstalled", folder.name)
        if not any(site.glob("opencv*.dist-info")):
            shutil.rmtree(site / "cv2", ignore_errors=True)
    elif args[:1] == ["install"]:
        spec = args[-1]
        name = re.match(r"[A-Za-z0-9_.-]+", spec).group(0)
        # The version a real resolver could pick: the pinned or lowest allowed one.
        pinned = re.search(r"(==|>=) *([0-9][0-9A-Za-z.]*)", spec)
        version = pinned.group(2) if pinned else "1.0"
        if name.startswith("opencv"):
            if pinned and pinned.group(1) == ">=":
                version = "4.10.0.84"
            fakes.add_variant(site, name, version, os.environ.get("FAKE_PIP_CV2", "ok"))
        else:
            for folder in site.glob(fakes.dist_folder(name, "*")):
                shutil.rmtree(folder)
            fakes.add_dist(site, name, version)
        print("Successfully installed", name, version)
    ''')


def add_fake_pip(site: Path) -> None:
    (site / "pip").mkdir(parents=True, exist_ok=True)
    (site / "pip" / "__init__.py").write_text("", encoding="utf-8")
    (site / "pip" / "__main__.py").write_text(FAKE_PIP, encoding="utf-8")


def fake_exe(bindir: Path, name: str, log: Path, exit_code: int = 0,
             stdout: str = "") -> Path:
    """A fake executable that appends its name and argv (JSON) to ``log``."""
    bindir.mkdir(parents=True, exist_ok=True)
    path = bindir / name
    path.write_text(
        f"#!{sys.executable}\nimport json, sys\n"
        f"open({str(log)!r}, 'a').write(json.dumps([{name!r}] + sys.argv[1:]) + '\\n')\n"
        f"sys.stdout.write({stdout!r})\nsys.exit({exit_code})\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def read_log(log: Path) -> list[list[str]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line]


def env_for(site: Path, log: Optional[Path] = None, **extra: str) -> dict[str, str]:
    """Environment for a child envdoctor/script that sees the fake site first."""
    env = {"PYTHONPATH": str(site), "FAKE_TESTS_DIR": str(Path(__file__).parent),
           "PYTHONDONTWRITEBYTECODE": "1"}
    if log is not None:
        env["FAKE_PIP_LOG"] = str(log)
    env.update(extra)
    return env
