<#
.SYNOPSIS
Build the Windows bundle with PyInstaller, run its self-test, and make the installer
FrontdeskIssuer-<version>-setup.exe with Inno Setup 6.

.DESCRIPTION
Run from PowerShell in a clone of the repository, after creating the virtual environment:
    py -3.11 -m venv .venv
    .venv\Scripts\python -m pip install -e ".[packaging]"
    powershell -ExecutionPolicy Bypass -File packaging\build.ps1
The bundle goes to dist\frontdesk (frontdesk.exe, the windowed app, and frontdesk-console.exe,
the same program with a console, which prints what --self-test finds), the installer to dist\.
Inno Setup 6 (ISCC.exe) is looked up on PATH and in its usual install folders.

.PARAMETER Python
The interpreter with the project and PyInstaller installed (default .venv\Scripts\python.exe).
.PARAMETER Dist
Where the bundle and the installer go (default dist).
.PARAMETER Work
PyInstaller's build folder (default build\pyinstaller).
.PARAMETER NoInstaller
Build and test the bundle only.
.PARAMETER NoSelfTest
Do not run frontdesk-console.exe --self-test.
#>
param(
    [string]$Python = "",
    [string]$Dist = "",
    [string]$Work = "",
    [switch]$NoInstaller,
    [switch]$NoSelfTest
)
$ErrorActionPreference = "Stop"
Set-StrictMode -Version Latest

$Root = Split-Path -Parent $PSScriptRoot
Set-Location $Root
if (-not $Python) { $Python = Join-Path $Root ".venv\Scripts\python.exe" }
if (-not $Dist) { $Dist = Join-Path $Root "dist" }
if (-not $Work) { $Work = Join-Path $Root "build\pyinstaller" }
New-Item -ItemType Directory -Force -Path $Dist, $Work | Out-Null
$Dist = (Resolve-Path $Dist).Path
$Work = (Resolve-Path $Work).Path

function Invoke-Checked {
    param([string]$What, [scriptblock]$Command)
    & $Command
    if ($LASTEXITCODE -ne 0) { throw "$What failed (exit code $LASTEXITCODE)" }
}

& $Python -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('PyInstaller') is None)"
if ($LASTEXITCODE -ne 0) {
    throw "PyInstaller is missing: run $Python -m pip install -e "".[packaging]"""
}

$Info = (& $Python (Join-Path $PSScriptRoot "appinfo.py")) -join "`n" | ConvertFrom-Json
Write-Host "== translations"
Invoke-Checked "translations" { & $Python (Join-Path $Root "tools\translations.py") release }
Write-Host "== PyInstaller: $($Info.name) $($Info.version)"
$Started = Get-Date
Invoke-Checked "PyInstaller" {
    & $Python -m PyInstaller --noconfirm --log-level WARN --distpath $Dist --workpath $Work `
        (Join-Path $PSScriptRoot "frontdesk.spec")
}
Write-Host ("== PyInstaller done in {0:N0} s" -f ((Get-Date) - $Started).TotalSeconds)

$Bundle = Join-Path $Dist $Info.executable
if (-not $NoSelfTest) {
    Write-Host "== self-test of the bundle"
    $env:QT_QPA_PLATFORM = "offscreen"
    try {
        Invoke-Checked "the bundle's self-test" {
            & (Join-Path $Bundle "$($Info.executable)-console.exe") --self-test
        }
    } finally {
        Remove-Item Env:QT_QPA_PLATFORM
    }
}
$SizeMB = (Get-ChildItem $Bundle -Recurse -File | Measure-Object -Property Length -Sum).Sum / 1MB
Write-Host ("== bundle: $Bundle ({0:N0} MiB unpacked)" -f $SizeMB)

if ($NoInstaller) { exit 0 }

$IsccCommand = Get-Command "ISCC.exe" -ErrorAction SilentlyContinue
$Iscc = if ($IsccCommand) { $IsccCommand.Source } else { $null }
if (-not $Iscc) {
    $Candidates = @(
        "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe",
        "${env:ProgramFiles}\Inno Setup 6\ISCC.exe",
        "${env:LOCALAPPDATA}\Programs\Inno Setup 6\ISCC.exe"
    )
    $Iscc = $Candidates | Where-Object { Test-Path $_ } | Select-Object -First 1
}
if (-not $Iscc) {
    throw "Inno Setup 6 is missing (winget install JRSoftware.InnoSetup), or build with -NoInstaller"
}
Write-Host "== Inno Setup: $Iscc"
Invoke-Checked "ISCC" {
    & $Iscc "/DAppVersion=$($Info.version)" "/DAppName=$($Info.name)" "/DAppPublisher=$($Info.publisher)" `
        "/DAppExe=$($Info.executable)" "/DAppId=$($Info.windows_app_id)" "/DDataDirName=$($Info.id)" `
        "/DBundleDir=$Bundle" "/DOutputDir=$Dist" (Join-Path $PSScriptRoot "windows\frontdesk.iss")
}
$Setup = Join-Path $Dist "FrontdeskIssuer-$($Info.version)-setup.exe"
Write-Host ("== installer: $Setup ({0:N0} MiB)" -f ((Get-Item $Setup).Length / 1MB))
