# Installs the dbxr release binary on Windows (x86_64; Windows on ARM runs it under emulation):
#
#   irm https://github.com/OWNER/REPO/releases/latest/download/install.ps1 | iex
#   & ([scriptblock]::Create((irm .../install.ps1))) -Version v0.2.0 -Emulator -Prefix C:\tools\dbxr
#
# Downloads dbxr-x86_64-pc-windows-msvc.exe and SHA256SUMS from the release, checks the file against
# SHA256SUMS and installs it as dbxr.exe into %LOCALAPPDATA%\Programs\dbxr (or -Prefix). A checksum that does
# not match installs nothing. The Windows twin of install.sh.
#
#   -Version vX.Y.Z   that release (default: the latest)
#   -Prefix DIR       install into DIR
#   -Emulator         also install dbxr-emulator.exe (the local fake Databricks workspace)
#   -Target TRIPLE    the build to install (default: x86_64-pc-windows-msvc)
# Environment: DBXR_INSTALL_BASE_URL (the releases URL: files come from <it>/latest/download/FILE or
# <it>/download/vX.Y.Z/FILE; for mirrors and tests), DBXR_REPO (owner/name on GitHub).
#
# Errors are thrown, not `exit`ed, so that `irm | iex` does not close the caller's window; run as a file
# (powershell -File install.ps1) an error exits with code 1.
param(
  [string]$Version = "",
  [string]$Prefix = "",
  [switch]$Emulator,
  [string]$Target = ""
)

# The body runs in its own scope, so that `irm | iex` leaves the caller's session settings as they were.
& {
  $ErrorActionPreference = "Stop"
  Set-StrictMode -Version 2.0

  # Set by the release workflow in the copy attached to each release.
  $DefaultRepo = ""

  function Write-Step([string]$Message) { [Console]::Error.WriteLine("install.ps1: $Message") }

  if ($Version -ne "" -and -not $Version.StartsWith("v")) { $Version = "v$Version" }

  $repo = if ($env:DBXR_REPO) { $env:DBXR_REPO } else { $DefaultRepo }
  $base = $env:DBXR_INSTALL_BASE_URL
  if (-not $base) {
    if (-not $repo) { throw "install.ps1: no repository to download from: set DBXR_REPO=owner/name (or DBXR_INSTALL_BASE_URL)" }
    $base = "https://github.com/$repo/releases"
  }
  $base = $base.TrimEnd("/")
  $url = if ($Version) { "$base/download/$Version" } else { "$base/latest/download" }

  if (-not $Target) {
    $arch = $env:PROCESSOR_ARCHITECTURE
    if ($arch -eq "ARM64") {
      Write-Step "Windows on ARM: installing the x86_64 build, which runs under emulation"
    } elseif ($arch -ne "AMD64") {
      throw "install.ps1: no dbxr build for the CPU '$arch' (builds: x86_64)"
    }
    $Target = "x86_64-pc-windows-msvc"
  }
  $exe = if ($Target -like "*windows*") { ".exe" } else { "" }

  if (-not $Prefix) {
    $root = if ($env:LOCALAPPDATA) { $env:LOCALAPPDATA } else { Join-Path $HOME ".local" }
    $Prefix = Join-Path (Join-Path $root "Programs") "dbxr"
  }

  # Windows PowerShell 5.1 may default to TLS 1.0; GitHub needs 1.2.
  try {
    [Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12
  } catch { }

  function Get-File([string]$From, [string]$To) {
    try {
      $ProgressPreference = "SilentlyContinue"
      Invoke-WebRequest -UseBasicParsing -Uri $From -OutFile $To
    } catch {
      throw "install.ps1: cannot download ${From}: $($_.Exception.Message)"
    }
  }

  $names = @("dbxr")
  if ($Emulator) { $names += "dbxr-emulator" }

  $tmp = Join-Path ([IO.Path]::GetTempPath()) ("dbxr-install-" + [Guid]::NewGuid().ToString("N"))
  New-Item -ItemType Directory -Path $tmp | Out-Null
  try {
    Write-Step "release: $url ($(if ($Version) { $Version } else { 'latest' })), target $Target"
    $sumsFile = Join-Path $tmp "SHA256SUMS"
    Get-File "$url/SHA256SUMS" $sumsFile
    $sums = @{}
    foreach ($line in Get-Content -LiteralPath $sumsFile) {
      $parts = $line.Trim() -split "\s+", 2
      if ($parts.Count -eq 2) { $sums[$parts[1].TrimStart("*")] = $parts[0].ToLowerInvariant() }
    }

    # Download and verify everything first, so a bad file leaves whatever was installed before untouched.
    foreach ($name in $names) {
      $asset = "$name-$Target$exe"
      $file = Join-Path $tmp $asset
      Get-File "$url/$asset" $file
      if (-not $sums.ContainsKey($asset)) { throw "install.ps1: SHA256SUMS has no line for $asset; nothing was installed" }
      $actual = (Get-FileHash -Algorithm SHA256 -LiteralPath $file).Hash.ToLowerInvariant()
      if ($actual -ne $sums[$asset]) {
        throw "install.ps1: checksum mismatch for ${asset}: SHA256SUMS says $($sums[$asset]), the download is $actual; nothing was installed"
      }
      Write-Step "verified $asset ($actual)"
    }

    New-Item -ItemType Directory -Force -Path $Prefix | Out-Null
    foreach ($name in $names) {
      $dest = Join-Path $Prefix "$name$exe"
      $staged = Join-Path $Prefix ".$name.install$exe"
      Copy-Item -LiteralPath (Join-Path $tmp "$name-$Target$exe") -Destination $staged -Force
      Move-Item -LiteralPath $staged -Destination $dest -Force
      Write-Step "installed $dest"
    }
  } finally {
    Remove-Item -LiteralPath $tmp -Recurse -Force -ErrorAction SilentlyContinue
  }

  $sep = [IO.Path]::PathSeparator
  $onPath = ($env:PATH -split [Regex]::Escape($sep)) | Where-Object { $_.TrimEnd("\", "/") -eq $Prefix.TrimEnd("\", "/") }
  if (-not $onPath) {
    if ($exe) {
      Write-Step "$Prefix is not on PATH; add it for your user with:"
      Write-Step "  [Environment]::SetEnvironmentVariable('Path', [Environment]::GetEnvironmentVariable('Path', 'User') + ';$Prefix', 'User')"
    } else {
      Write-Step "$Prefix is not on PATH; add it: export PATH=`"${Prefix}:`$PATH`""
    }
  }
}
