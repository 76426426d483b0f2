# cv2-dll for Windows: repair `import cv2`, with the same steps `envdoctor fix cv2-dll`
# plans (each command sits after an "envdoctor-step" comment; envdoctor's tests compare
# them with its Python plan).
#
#   powershell -ExecutionPolicy Bypass -File windows.ps1 [-Python C:\path\python.exe] [-Yes]
#
# It shows the plan and asks (default No) before changing anything. Steps that need
# administrator rights are printed, not run, unless this PowerShell is elevated.
# Exit codes: 0 repaired or nothing to do, 1 a step failed or something is left to do,
# 5 declined (or no console to ask and -Yes absent).
param(
    [string]$Python = "python",
    [switch]$Yes
)
$ErrorActionPreference = "Continue"
$python = $Python

$detect = @'
import re, struct, sys
import importlib.metadata as md
names = ["opencv-python", "opencv-contrib-python", "opencv-python-headless",
         "opencv-contrib-python-headless"]
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
                here = sys.version_info[:2]
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
print("bits", struct.calcsize("P") * 8)
'@
$info = & $python -c $detect
if ($LASTEXITCODE -ne 0) { Write-Output "cannot run $python"; exit 1 }

$variants = @()
$versions = @{}
$specs = @{}
$fits = @{}
$numpy = "-"
$bits = 64
foreach ($line in $info) {
    $f = $line -split " "
    if ($f[0] -eq "variant") { $variants += $f[1]; $versions[$f[1]] = $f[2]; $specs[$f[1]] = $f[3]; $fits[$f[1]] = $f[4] }
    elseif ($f[0] -eq "numpy") { $numpy = $f[1] }
    elseif ($f[0] -eq "bits") { $bits = [int]$f[1] }
}
if ($variants.Count -eq 0) {
    Write-Output "No OpenCV package (opencv-python and its variants) is installed for $python."
    exit 0
}

# cv2.imread: an empty cv2 (its files removed by uninstalling another variant) imports.
$err = (& $python -c "import cv2; cv2.imread" 2>&1 | Out-String)
$importOk = ($LASTEXITCODE -eq 0)
$empty = $err -match "module 'cv2' has no attribute 'imread'"
$numpyAbi = $err -match "compiled using NumPy 1\.x cannot be run in|numpy\.core\.multiarray failed to import|_ARRAY_API not found|module compiled against (ABI|API) version"
$dllFailed = $err -match "DLL load failed"
$notWin32 = $err -match "not a valid Win32 application"

# Which variant to keep (the same rule as envdoctor's choose_variant; no display test on Windows).
if ($variants.Count -eq 1) {
    $keep = $variants[0]
} else {
    $contrib = @($variants | Where-Object { $_ -like "*-contrib-*" }).Count -gt 0
    $headless = @($variants | Where-Object { $_ -notlike "*-headless" }).Count -eq 0
    $keep = "opencv-" + $(if ($contrib) { "contrib-" } else { "" }) + "python" + $(if ($headless) { "-headless" } else { "" })
}
$version = $versions[$keep]
if (-not $version) {
    $version = ($variants | ForEach-Object { $versions[$_] } | Sort-Object { [version]($_ -replace '[^0-9.].*$', '') } | Select-Object -Last 1)
}

$abi = $false
$numpyMajor = 0
if ($numpy -ne "-") { $numpyMajor = [int]($numpy -split "\.")[0] }
$numpy_spec = ""
# OpenCV built for NumPy 1 (before 4.10.0.84) with NumPy 2 (acted on only when import cv2
# fails), or a NumPy outside the range the OpenCV wheel declares.
if ($numpy -ne "-") {
    foreach ($name in $variants) {
        $v = [version]($versions[$name] -replace '[^0-9.].*$', '')
        if ($numpyMajor -ge 2 -and $v -lt [version]"4.10.0.84") { $abi = -not $importOk; break }
        if ($fits[$name] -eq "no" -or ($fits[$name] -eq "-" -and $numpyAbi -and $specs[$name] -ne "-")) {
            $numpy_spec = $specs[$name]; break
        }
    }
}
$switch = ($variants.Count -gt 1)

$system32 = Join-Path $env:SystemRoot "System32"
$pyDir = Split-Path (& $python -c "import sys; print(sys.executable)")
$vcMissing = -not ((Test-Path (Join-Path $system32 "msvcp140.dll")) -or (Test-Path (Join-Path $pyDir "msvcp140.dll")))
$caption = (Get-CimInstance Win32_OperatingSystem).Caption
$nEdition = $caption -match " K?N$"
$mfMissing = -not (Test-Path (Join-Path $system32 "mfplat.dll"))
$arch = $(if ($bits -eq 32) { "x86" } else { "x64" })
$winget = $null -ne (Get-Command winget -ErrorAction SilentlyContinue)
$admin = ([Security.Principal.WindowsPrincipal][Security.Principal.WindowsIdentity]::GetCurrent()).IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)

$script:phase = "show"
$script:wheels = "<a new temporary folder>"
$script:spec = ""
$script:removing = $false
$script:n = 0
$script:manual = $false
function Step {
    $need = $args[0]
    $cmd = @($args[1..($args.Count - 1)] | ForEach-Object { $_ })
    $script:n += 1
    $line = ($cmd -join " ")
    if ($script:phase -eq "show") {
        $mark = $(if ($need -eq "admin") { "  [needs administrator]" } else { "" })
        Write-Output "  $($script:n). $line$mark"
        return
    }
    if ($need -eq "admin" -and -not $admin) {
        Write-Output "[$($script:n)] not run (needs administrator; run it yourself): $line"
        $script:manual = $true
        return
    }
    Write-Output "[$($script:n)] $line"
    $rest = @()
    if ($cmd.Count -gt 1) { $rest = $cmd[1..($cmd.Count - 1)] }
    & $cmd[0] @rest
    if ($LASTEXITCODE -ne 0) {
        Write-Output "step $($script:n) failed (exit status $LASTEXITCODE); stopped here, later steps were not run."
        if ($script:removing) { Restore }
        exit 1
    }
}

# After the uninstall began, a failure or an interrupt puts the downloaded wheel back in;
# when even that fails, it prints the commands to run by hand.
function Restore {
    $script:removing = $false
    Write-Output "[restore] $python -m pip install --no-index --find-links $($script:wheels) --no-deps $($script:spec)"
    & $python -m pip install --no-index --find-links $script:wheels --no-deps $script:spec
    if ($LASTEXITCODE -eq 0) {
        Write-Output "Restored: what was removed is installed again."
    } else {
        Write-Output "Could not restore automatically. To restore by hand, run:"
        Write-Output "    & `"$python`" -m pip install --no-index --find-links `"$($script:wheels)`" --no-deps `"$($script:spec)`""
        Write-Output "    & `"$python`" -m pip install $($script:before -join ' ')   (what was installed before; needs the package index)"
    }
}

function Plan {
    $script:n = 0
    $variant = $keep
    if ($switch) {
        # Fetch the replacement first: an unreachable index stops here, nothing removed.
        # After the uninstall the install needs no network; if it fails or is
        # interrupted (Ctrl-C), Restore puts the downloaded wheel back in.
        $script:spec = $(if ($abi) { "$variant>=4.10.0.84,<5" } else { "$variant==$version" })
        $spec = $script:spec
        $wheels = $script:wheels
        # envdoctor-step: pip-download-variant
        Step user $python -m pip download --no-deps --only-binary=:all: --dest $wheels $spec
        if ($script:phase -eq "run") { $script:removing = $true }
        # envdoctor-step: pip-uninstall-variants
        Step user $python -m pip uninstall -y $variants
        # envdoctor-step: pip-install-downloaded
        Step user $python -m pip install --no-index --find-links $wheels --no-deps $spec
        $script:removing = $false
    } elseif ($abi) {
        # One variant: pip upgrades it in place (and rolls back itself on failure).
        # envdoctor-step: pip-upgrade-opencv
        Step user $python -m pip install --upgrade "$variant>=4.10.0.84,<5"
    } elseif ($empty) {
        # envdoctor-step: pip-force-reinstall-variant
        Step user $python -m pip install --force-reinstall --no-deps "$variant==$version"
    }
    if ($numpy_spec -and -not $abi) {
        # envdoctor-step: pip-install-numpy
        Step user $python -m pip install "numpy$numpy_spec"
    }
    if ($dllFailed -and $vcMissing) {
        if ($winget) {
            # envdoctor-step: winget-vcredist
            Step user winget install --exact --id "Microsoft.VCRedist.2015+.$arch"
        } else {
            Write-Output "  download and run the Visual C++ 2015-2022 runtime installer: https://aka.ms/vs/17/release/vc_redist.$arch.exe"
            $script:manual = $true
        }
    } elseif ($dllFailed -and $nEdition -and $mfMissing) {
        # envdoctor-step: dism-media-pack
        Step admin DISM /Online /Add-Capability /CapabilityName:Media.MediaFeaturePack~~~~0.0.1.0
        Write-Output "  (without administrator rights: switch to opencv-python-headless instead)"
    }
    if ($notWin32) {
        Write-Output "  this Python and the OpenCV wheel are built for different architectures (32-bit vs 64-bit): install a 64-bit Python and OpenCV in it; no automatic change."
        $script:manual = $true
    }
}

Write-Output "OpenCV: $($variants -join ' ') (keeping $keep $version); NumPy: $numpy"
if (-not $importOk) { Write-Output ("import cv2 fails: " + ($err.Trim() -split "`n" | Select-Object -Last 1)) }
if ($importOk -and -not $switch -and -not $abi -and -not $numpy_spec) { Write-Output "import cv2 works: nothing to repair."; exit 0 }
Write-Output "Plan:"
Plan
if ($script:n -eq 0) { exit 1 }
if (-not $Yes) {
    if ([Console]::IsInputRedirected) { Write-Output "Not run: no console to ask; rerun with -Yes to apply."; exit 5 }
    $answer = Read-Host "Run these steps now? [y/N]"
    if ($answer -notmatch "^(y|yes)$") { Write-Output "Declined: nothing was changed."; exit 5 }
}
$script:phase = "run"
# A private folder with a fresh name for the downloaded wheel.
$script:wheels = Join-Path ([IO.Path]::GetTempPath()) ("envdoctor-cv2-dll-" + [Guid]::NewGuid().ToString("N"))
New-Item -ItemType Directory -Path $script:wheels | Out-Null
$script:before = @($variants | ForEach-Object { "$_==$($versions[$_])" })
try {
    Plan
} finally {
    # Ctrl-C stops the script but runs this: nothing is left half-removed.
    if ($script:removing) { Write-Output "Interrupted; later steps were not run."; Restore }
}
if (-not $script:removing) { Remove-Item -Recurse -Force $script:wheels -ErrorAction SilentlyContinue }
& $python -c "import cv2" 2>$null
if ($LASTEXITCODE -eq 0) {
    Write-Output "import cv2 works now."
    if ($script:manual) { exit 1 }
    exit 0
}
Write-Output "import cv2 still fails; run the steps marked 'needs administrator' yourself, or envdoctor check."
exit 1
