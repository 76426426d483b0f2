#!/bin/sh
# shellcheck disable=SC2086  # $variants and $packages are word lists on purpose
#
# cv2-dll for Linux: repair `import cv2`, with the same steps `envdoctor fix cv2-dll`
# plans (each command sits after an "envdoctor-step" comment; envdoctor's tests compare
# them with its Python plan).
#
#   sh linux.sh [PYTHON]          PYTHON defaults to python3 (or $PYTHON)
#   ENVDOCTOR_YES=1 sh linux.sh   apply without asking
#
# It shows the plan and asks (default No) before changing anything. Steps that need
# root are printed, not run, unless you are root: it never calls sudo for you.
# Exit codes: 0 repaired or nothing to do, 1 a step failed or something is left to do,
# 5 declined (or no terminal to ask and ENVDOCTOR_YES unset).
set -u

python=${1:-${PYTHON:-python3}}
sysroot=${ENVDOCTOR_SYSROOT:-}

info=$("$python" - <<'EOF'
import re, sys
try:
    import importlib.metadata as md
except ImportError:
    sys.exit("this script needs Python 3.8 or newer")
names = ["opencv-python", "opencv-contrib-python", "opencv-python-headless",
         "opencv-contrib-python-headless"]
here = sys.version_info[:2]
found = {}
numpy = None
for dist in md.distributions():
    name = re.sub(r"[-_.]+", "-", (dist.metadata["Name"] or "")).lower()
    if name == "numpy" and numpy is None:
        numpy = dist.version
    if name in names and name not in found:
        spec = []
        for req in dist.requires or []:
            req, _, marker = req.partition(";")
            if not re.match(r"\s*numpy\b", req):
                continue
            m = re.match(r'\s*python_version\s*(<=|>=|==|<|>|!=)\s*"(\d+)\.(\d+)"\s*$', marker)
            if marker.strip() and not m:
                continue
            if m:
                want = (int(m.group(2)), int(m.group(3)))
                ok = {"<": here < want, "<=": here <= want, ">": here > want,
                      ">=": here >= want, "==": here == want, "!=": here != want}[m.group(1)]
                if not ok:
                    continue
            spec.append(re.sub(r"^\s*numpy\s*", "", req).strip().strip("()"))
        found[name] = (dist.version, ",".join(s for s in spec if s))
try:
    from packaging.specifiers import SpecifierSet
except ImportError:
    try:
        from pip._vendor.packaging.specifiers import SpecifierSet
    except ImportError:
        SpecifierSet = None
for name in names:
    if name in found:
        version, spec = found[name]
        fit = "-"
        if spec and SpecifierSet is not None:
            try:
                spec = str(SpecifierSet(spec))
                if numpy:
                    fit = "yes" if SpecifierSet(spec).contains(numpy, prereleases=True) else "no"
            except Exception:
                pass
        print("variant", name, version, spec or "-", fit)
print("numpy", numpy or "-")
EOF
) || { echo "cannot run $python"; exit 1; }

variants=""
numpy=$(printf '%s\n' "$info" | awk '$1 == "numpy" {print $2}')
count=0
for name in $(printf '%s\n' "$info" | awk '$1 == "variant" {print $2}'); do
    variants="$variants $name"
    count=$((count + 1))
done
variants=${variants# }
vversion() { printf '%s\n' "$info" | awk -v n="$1" '$1 == "variant" && $2 == n {print $3}'; }
vspec() { printf '%s\n' "$info" | awk -v n="$1" '$1 == "variant" && $2 == n {print $4}'; }
vfit() { printf '%s\n' "$info" | awk -v n="$1" '$1 == "variant" && $2 == n {print $5}'; }
# version_lt A B: A < B, numerically per dotted part
version_lt() { [ "$1" != "$2" ] && [ "$(printf '%s\n%s\n' "$1" "$2" | sort -t. -k1,1n -k2,2n -k3,3n -k4,4n | head -n1)" = "$1" ]; }

if [ "$count" -eq 0 ]; then
    echo "No OpenCV package (opencv-python and its variants) is installed for $python."
    exit 0
fi

# cv2.imread: an empty cv2 (its files removed by uninstalling another variant) imports.
err=$("$python" -c "import cv2; cv2.imread" 2>&1) && import_ok=1 || import_ok=0
empty=0
case "$err" in
    *"module 'cv2' has no attribute 'imread'"*) empty=1 ;;
esac
kind=""
lib=""
case "$err" in
    *"libGL.so.1: cannot open shared object file"*) kind=libgl; lib=libGL.so.1 ;;
    *"libgthread-2.0.so.0: cannot open shared object file"*) kind=glib; lib=libgthread-2.0.so.0 ;;
    *"libglib-2.0.so.0: cannot open shared object file"*) kind=glib; lib=libglib-2.0.so.0 ;;
    *"libSM.so.6: cannot open"*|*"libICE.so.6: cannot open"*|*"libXext.so.6: cannot open"*|*"libXrender.so.1: cannot open"*)
        kind=x11; lib=$(printf '%s\n' "$err" | grep -o 'lib[A-Za-z]*\.so\.[0-9]*' | head -n1) ;;
esac
numpy_abi=0
case "$err" in
    *"compiled using NumPy 1.x cannot be run in"*|*"numpy.core.multiarray failed to import"*|*"_ARRAY_API not found"*|*"module compiled against ABI version"*|*"module compiled against API version"*|*"numpy._core.multiarray failed to import"*)
        numpy_abi=1 ;;
esac

# Which variant to keep (the same rule as envdoctor's choose_variant).
in_container=0  # not "container": that is the variable systemd-nspawn and podman set
if [ -n "${KUBERNETES_SERVICE_HOST:-}" ] || [ -e "$sysroot/.dockerenv" ] \
    || [ -e "$sysroot/run/.containerenv" ] || [ -n "${container:-}" ] \
    || grep -qE 'kubepods|docker|containerd|lxc|libpod' "$sysroot/proc/1/cgroup" 2>/dev/null \
    || [ -e "$sysroot/singularity" ] || [ -n "${SINGULARITY_CONTAINER:-}${APPTAINER_CONTAINER:-}" ]; then
    in_container=1
fi
if [ "$count" -eq 1 ] && [ -z "$kind" ]; then
    keep=$variants
else
    contrib=0; headless=1
    for name in $variants; do
        case "$name" in *-contrib-*) contrib=1 ;; esac
        case "$name" in *-headless) ;; *) headless=0 ;; esac
    done
    if [ "$in_container" = 1 ] || [ -z "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] || [ -n "$kind" ]; then
        headless=1
    fi
    keep=opencv-
    [ "$contrib" = 1 ] && keep=${keep}contrib-
    keep=${keep}python
    [ "$headless" = 1 ] && keep=${keep}-headless
fi
version=$(vversion "$keep")
if [ -z "$version" ]; then
    for name in $variants; do
        v=$(vversion "$name")
        if [ -z "$version" ] || version_lt "$version" "$v"; then version=$v; fi
    done
fi

# NumPy: OpenCV built for NumPy 1 (before 4.10.0.84) with NumPy 2 (acted on only when
# import cv2 fails), or a NumPy outside the range the OpenCV wheel declares.
abi=0
numpy_spec=""
numpy_major=${numpy%%.*}
if [ "$numpy" != "-" ]; then
    for name in $variants; do
        v=$(vversion "$name")
        if [ "$numpy_major" -ge 2 ] 2>/dev/null && version_lt "$v" 4.10.0.84; then
            [ "$import_ok" = 0 ] && abi=1
            break
        fi
        if [ "$(vfit "$name")" = no ] \
            || { [ "$(vfit "$name")" = - ] && [ "$numpy_abi" = 1 ] && [ "$(vspec "$name")" != - ]; }; then
            numpy_spec=$(vspec "$name"); break
        fi
    done
fi
[ "$import_ok" = 1 ] && [ "$count" -eq 1 ] && [ "$abi" = 0 ] && [ -z "$numpy_spec" ] && {
    echo "import cv2 works and one OpenCV variant is installed ($variants $version): nothing to repair."
    exit 0
}

switch=0
[ "$count" -gt 1 ] || [ "$variants" != "$keep" ] && switch=1

# The package manager and package names for a missing system library.
manager=""
id=""; id_like=""; version_id=""
if [ -r "$sysroot/etc/os-release" ]; then
    id=$(sed -n 's/^ID=//p' "$sysroot/etc/os-release" | tr -d '"' | tr '[:upper:]' '[:lower:]')
    id_like=$(sed -n 's/^ID_LIKE=//p' "$sysroot/etc/os-release" | tr -d '"' | tr '[:upper:]' '[:lower:]')
    version_id=$(sed -n 's/^VERSION_ID=//p' "$sysroot/etc/os-release" | tr -d '"')
fi
major=${version_id%%.*}
case " $id $id_like " in
    *" debian "*|*" ubuntu "*|*" linuxmint "*|*" pop "*|*" raspbian "*) manager=apt ;;
    *" opensuse"*|*" sles"*|*" suse"*) manager=zypper ;;
    *" alpine "*) manager=apk ;;
    *" fedora "*|*" rhel "*|*" centos "*|*" rocky "*|*" almalinux "*|*" ol "*)
        manager=dnf
        if [ "$id" != fedora ] && [ "${major:-8}" -lt 8 ] 2>/dev/null; then manager=yum; fi ;;
esac
if [ "$id" = amzn ]; then
    if [ "${major:-0}" -ge 2022 ] 2>/dev/null; then manager=dnf; else manager=yum; fi
fi
packages=""
case "$manager:$kind" in
    apt:libgl) packages="libgl1" ;;
    apt:glib)
        packages="libglib2.0-0"
        if { [ "$id" = ubuntu ] && ! version_lt "$version_id" 24.04; } \
            || { [ "$id" = debian ] && [ "${major:-0}" -ge 13 ] 2>/dev/null; }; then
            packages="libglib2.0-0t64"
        fi ;;
    apt:x11) packages="libsm6 libxext6 libxrender1" ;;
    dnf:libgl|yum:libgl) packages="mesa-libGL" ;;
    dnf:glib|yum:glib) packages="glib2" ;;
    dnf:x11|yum:x11) packages="libSM libXext libXrender" ;;
    zypper:libgl) packages="Mesa-libGL1" ;;
    zypper:glib) packages="libgthread-2_0-0" ;;
    zypper:x11) packages="libSM6 libXext6 libXrender1" ;;
    apk:libgl) packages="mesa-gl" ;;
    apk:glib) packages="glib" ;;
    apk:x11) packages="libsm libxext libxrender" ;;
esac

phase=show
wheels="<a new temporary folder>"
spec=""
removing=0
n=0
manual=0
step() {  # step user|root COMMAND...
    need=$1; shift
    n=$((n + 1))
    if [ "$phase" = show ]; then
        mark=""
        [ "$need" = root ] && mark="  [needs root]"
        echo "  $n. $*$mark"
        return 0
    fi
    if [ "$need" = root ] && [ "$(id -u)" != 0 ]; then
        echo "[$n] not run (needs root; run it yourself): $*"
        manual=1
        return 0
    fi
    echo "[$n] $*"
    "$@"
    rc=$?
    if [ "$rc" != 0 ]; then
        echo "step $n failed (exit status $rc); stopped here, later steps were not run."
        [ "$removing" = 1 ] && restore
        exit 1
    fi
}

# After the uninstall began, a failure or an interrupt (Ctrl-C, SIGTERM, SIGHUP) puts
# the downloaded wheel back in; when even that fails, it prints the commands to run.
restore() {
    trap '' INT TERM HUP
    removing=0
    echo "[restore] $python -m pip install --no-index --find-links $wheels --no-deps $spec"
    if "$python" -m pip install --no-index --find-links "$wheels" --no-deps "$spec"; then
        echo "Restored: what was removed is installed again."
    else
        echo "Could not restore automatically. To restore by hand, run:"
        echo "    $python -m pip install --no-index --find-links '$wheels' --no-deps '$spec'"
        echo "    $python -m pip install$before   (what was installed before; needs the package index)"
    fi
}
# shellcheck disable=SC2317  # reached through the INT/TERM/HUP trap, not a direct call
interrupted() {
    echo
    echo "Interrupted; later steps were not run."
    if [ "$removing" = 1 ]; then restore; else echo "Nothing had been removed yet."; fi
    exit 130
}

plan() {
    n=0
    variant=$keep
    if [ "$switch" = 1 ]; then
        # Fetch the replacement first: an unreachable index stops here, nothing removed.
        # After the uninstall the install needs no network; if it fails or is
        # interrupted, restore() puts the downloaded wheel back in.
        spec="$variant==$version"
        [ "$abi" = 1 ] && spec="$variant>=4.10.0.84,<5"
        # envdoctor-step: pip-download-variant
        step user "$python" -m pip download --no-deps --only-binary=:all: --dest "$wheels" "$spec"
        removing=1
        # envdoctor-step: pip-uninstall-variants
        step user "$python" -m pip uninstall -y $variants
        # envdoctor-step: pip-install-downloaded
        step user "$python" -m pip install --no-index --find-links "$wheels" --no-deps "$spec"
        removing=0
    elif [ "$abi" = 1 ]; then
        # One variant: pip upgrades it in place (and rolls back itself on failure).
        # envdoctor-step: pip-upgrade-opencv
        step user "$python" -m pip install --upgrade "$variant>=4.10.0.84,<5"
    elif [ "$empty" = 1 ]; then
        # envdoctor-step: pip-force-reinstall-variant
        step user "$python" -m pip install --force-reinstall --no-deps "$variant==$version"
    fi
    if [ -n "$numpy_spec" ] && [ "$abi" = 0 ]; then
        # envdoctor-step: pip-install-numpy
        step user "$python" -m pip install "numpy$numpy_spec"
    fi
    if [ -n "$kind" ] && [ "$switch" = 0 ]; then
        case "$manager" in
            apt)
                # envdoctor-step: apt-update
                step root apt-get update
                # envdoctor-step: apt-install
                step root apt-get install -y $packages
                ;;
            dnf)
                # envdoctor-step: dnf-install
                step root dnf install -y $packages
                ;;
            yum)
                # envdoctor-step: yum-install
                step root yum install -y $packages
                ;;
            zypper)
                # envdoctor-step: zypper-install
                step root zypper --non-interactive install $packages
                ;;
            apk)
                # envdoctor-step: apk-add
                step root apk add $packages
                ;;
            *)
                echo "  $lib is missing; install the package that provides it with your package manager."
                manual=1 ;;
        esac
    fi
}

echo "OpenCV: $variants (keeping $keep${version:+ $version}); NumPy: $numpy"
[ "$import_ok" = 0 ] && printf 'import cv2 fails: %s\n' "$(printf '%s\n' "$err" | tail -n1)"
echo "Plan:"
plan
if [ "$n" -eq 0 ]; then
    echo "  (no step for this problem; see envdoctor check for details)"
    exit 1
fi
if [ "${ENVDOCTOR_YES:-0}" != 1 ]; then
    if [ ! -t 0 ]; then
        echo "Not run: stdin is not a terminal; set ENVDOCTOR_YES=1 to apply."
        exit 5
    fi
    printf 'Run these steps now? [y/N] '
    read -r answer || answer=""
    case "$answer" in
        y|Y|yes|YES) ;;
        *) echo "Declined: nothing was changed."; exit 5 ;;
    esac
fi
phase=run
# A private folder (mktemp -d: 0700, a fresh name) for the downloaded wheel.
wheels=$(mktemp -d "${TMPDIR:-/tmp}/envdoctor-cv2-dll.XXXXXX") || {
    echo "cannot create a temporary folder"; exit 1; }
before=""
for name in $variants; do before="$before $name==$(vversion "$name")"; done
trap interrupted INT TERM HUP
plan
trap - INT TERM HUP
[ "$removing" = 0 ] && rm -rf "$wheels"
if "$python" -c "import cv2" >/dev/null 2>&1; then
    echo "import cv2 works now."
    [ "$manual" = 1 ] && exit 1
    exit 0
fi
echo "import cv2 still fails; run the steps marked 'needs root' yourself, or envdoctor check."
exit 1
