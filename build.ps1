#Requires -Version 7.4
<#
.SYNOPSIS
    Build, test, demo, benchmark and package ProcessKit.
.DESCRIPTION
    Default task: Build.  Run with the pinned PowerShell tool:
        dotnet tool restore && dotnet pwsh ./build.ps1 [Build|Test|Demo|Bench|Package] [-Configuration Release]

    Build    compile and assemble out/ProcessKit/ (exactly what ships)
    Test     Build, run xunit and Pester; the last line is "N passed, N failed"; exit 1 on any failure
    Demo     Build, run docs/demo.ps1 in a fresh pwsh
    Bench    Build, run docs/bench.ps1 in a fresh pwsh
    Package  Build, pack out/ProcessKit as out/ProcessKit.<version>.nupkg (Compress-PSResource)
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Test', 'Demo', 'Bench', 'Package')]
    [string] $Task = 'Build',
    [string] $Configuration = 'Release'
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$Root           = $PSScriptRoot
$ModuleDir      = Join-Path $Root 'out/ProcessKit'
$ModuleManifest = Join-Path $ModuleDir 'ProcessKit.psd1'
$TestResults    = Join-Path $Root 'out/TestResults'

# Runs a fresh pwsh (the same one this script runs under) with the console inherited; returns its exit code.
# The built module is only ever loaded there, so this process never locks its DLLs.
function Invoke-Pwsh {
    param([string[]] $Arguments, [hashtable] $Environment = @{})
    $psi = [System.Diagnostics.ProcessStartInfo]::new([Environment]::ProcessPath)
    if ([IO.Path]::GetFileNameWithoutExtension($psi.FileName) -eq 'dotnet') {
        # Started as `dotnet pwsh` (the local tool): the first argument is pwsh.dll.
        $psi.ArgumentList.Add([Environment]::GetCommandLineArgs()[0])
    }
    foreach ($arg in @('-NoProfile', '-NonInteractive') + $Arguments) { $psi.ArgumentList.Add($arg) }
    foreach ($name in $Environment.Keys) { $psi.Environment[$name] = [string] $Environment[$name] }
    $psi.WorkingDirectory = $Root
    $psi.UseShellExecute = $false
    $process = [System.Diagnostics.Process]::Start($psi)
    try {
        while (-not $process.WaitForExit(200)) { }   # short waits keep Ctrl+C responsive
        $process.ExitCode
    } finally { $process.Dispose() }
}

function Invoke-BuildTask {
    dotnet build src/ProcessKit/ProcessKit.csproj -c $Configuration | Out-Host
    if ($LASTEXITCODE -ne 0) { throw "dotnet build failed (exit code $LASTEXITCODE)" }

    $bin = "src/ProcessKit/bin/$Configuration/net8.0"
    if (Test-Path $ModuleDir) { Remove-Item $ModuleDir -Recurse -Force }
    $null = New-Item -ItemType Directory -Path $ModuleDir
    Copy-Item -Path ProcessKit.psd1, "$bin/ProcessKit.dll", "$bin/ProcessKit.Core.dll", LICENSE, CHANGELOG.md -Destination $ModuleDir
    Copy-Item src/ProcessKit/ProcessKit.Format.ps1xml -Destination $ModuleDir   # the manifest lists it
    Copy-Item src/ProcessKit/en-US -Destination $ModuleDir -Recurse   # MAML help: en-US/ProcessKit.dll-Help.xml for Get-Help
    Write-Host "Module assembled in out/ProcessKit ($Configuration)"
}

function New-RunResult([string] $Runner, [int] $Passed, [int] $Failed, [string] $Problem) {
    # A runner that crashed, or found nothing to run where tests are required, counts at least one failure.
    if ($Problem -and $Failed -eq 0) { $Failed = 1 }
    [pscustomobject]@{ Runner = $Runner; Passed = $Passed; Failed = $Failed; Problem = $Problem }
}

function Invoke-XunitTests {
    $trx = Join-Path $TestResults 'xunit.trx'
    dotnet test tests/ProcessKit.Tests/ProcessKit.Tests.csproj -c $Configuration `
        --logger 'trx;LogFileName=xunit.trx' --results-directory out/TestResults | Out-Host
    $exitCode = $LASTEXITCODE
    if (-not (Test-Path $trx)) { return New-RunResult 'xunit' 0 0 "no result file (dotnet test exit code $exitCode)" }

    $counters = ([xml] (Get-Content -Raw $trx)).TestRun.ResultSummary.Counters
    $count = { param($name) $value = $counters.GetAttribute($name); if ($value) { [int] $value } else { 0 } }
    $failed = (& $count failed) + (& $count error) + (& $count timeout) + (& $count aborted)
    $problem = if ($exitCode -ne 0 -and $failed -eq 0) { "dotnet test exit code $exitCode" }
    New-RunResult 'xunit' (& $count passed) $failed $problem
}

# Path of Pester.psd1: an installed Pester 5+ if there is one, else the NuGet copy tests/tools/PesterRestore.csproj pins.
function Find-Pester {
    $installed = Get-Module -ListAvailable -Name Pester | Where-Object Version -ge '5.0' |
        Sort-Object Version -Descending | Select-Object -First 1
    if ($installed) { return $installed.Path }

    dotnet restore tests/tools/PesterRestore.csproj | Out-Host
    if ($LASTEXITCODE -ne 0) { throw "dotnet restore tests/tools/PesterRestore.csproj failed (exit code $LASTEXITCODE)" }
    $version = ([xml] (Get-Content -Raw tests/tools/PesterRestore.csproj)).Project.ItemGroup.PackageDownload.Version.Trim('[]')
    $packages = $env:NUGET_PACKAGES
    if (-not $packages) {
        $line = dotnet nuget locals global-packages --list | Select-String '^global-packages:\s*(.+)$' | Select-Object -First 1
        if (-not $line) { throw 'Could not find the NuGet global packages folder.' }
        $packages = $line.Matches[0].Groups[1].Value.Trim()
    }
    Join-Path $packages "pester/$version/tools/Pester.psd1"
}

function Invoke-PesterTests {
    $summary = Join-Path $TestResults 'pester-summary.json'
    try { $pester = Find-Pester } catch { return New-RunResult 'Pester' 0 0 "Pester not found: $_" }
    Write-Host "Using Pester module: $pester"

    # Runs in the child pwsh; paths come in through the environment. The tests get default preferences.
    $runner = {
        Import-Module $env:PK_PESTER -ErrorAction Stop
        $config = New-PesterConfiguration
        $config.Run.Path = $env:PK_TESTS
        $config.Run.PassThru = $true
        $config.Output.Verbosity = 'Detailed'
        $config.TestResult.Enabled = $true
        $config.TestResult.OutputFormat = 'NUnitXml'
        $config.TestResult.OutputPath = $env:PK_RESULT
        $run = Invoke-Pester -Configuration $config
        if (-not $run) { exit 2 }   # e.g. no test files: Pester writes an error and returns nothing
        [ordered]@{
            Passed = $run.PassedCount; Failed = $run.FailedCount; Total = $run.TotalCount
            FailedBlocks = $run.FailedBlocksCount; FailedContainers = $run.FailedContainersCount; Result = $run.Result
        } | ConvertTo-Json | Set-Content -Path $env:PK_SUMMARY -ErrorAction Stop
        exit 0
    }
    $exitCode = Invoke-Pwsh -Arguments '-Command', $runner.ToString() -Environment @{
        PROCESSKIT_MODULE_PATH = $ModuleManifest
        PK_PESTER  = $pester
        PK_TESTS   = Join-Path $Root 'tests/Pester'
        PK_RESULT  = Join-Path $TestResults 'pester.xml'
        PK_SUMMARY = $summary
    }
    if (-not (Test-Path $summary)) { return New-RunResult 'Pester' 0 0 "Pester run did not complete (exit code $exitCode)" }

    $run = Get-Content -Raw $summary | ConvertFrom-Json
    $failed = [int] $run.Failed + [int] $run.FailedContainers   # a file that failed to load has no tests of its own
    $problem = if ($exitCode -ne 0) { "pwsh exit code $exitCode" }
    elseif ([int] $run.Total -eq 0) { 'no tests found' }
    elseif ($run.Result -ne 'Passed' -and $failed -eq 0) { "Pester result '$($run.Result)', $($run.FailedBlocks) failed block(s)" }
    New-RunResult 'Pester' ([int] $run.Passed) $failed $problem
}

function Invoke-TestTask {
    if (Test-Path $TestResults) { Remove-Item $TestResults -Recurse -Force }
    $null = New-Item -ItemType Directory -Path $TestResults
    $results = @(try { Invoke-BuildTask } catch { Write-Host "Build failed: $_"; New-RunResult 'build' 0 0 'build failed' })
    if (-not $results) {
        $results = @(
            try { Invoke-XunitTests } catch { New-RunResult 'xunit' 0 0 "runner error: $_" }
            try { Invoke-PesterTests } catch { New-RunResult 'Pester' 0 0 "runner error: $_" }
        )
    }

    foreach ($r in $results) {
        $note = if ($r.Problem) { " ($($r.Problem))" } else { '' }
        Write-Host ('{0,-7} {1} passed, {2} failed{3}' -f "$($r.Runner):", $r.Passed, $r.Failed, $note)
    }
    $passed = ($results | Measure-Object Passed -Sum).Sum
    $failed = ($results | Measure-Object Failed -Sum).Sum
    Write-Host "$passed passed, $failed failed"
    if ($failed -gt 0) { 1 } else { 0 }
}

function Invoke-ScriptTask([string] $Script) {
    if (-not (Test-Path $Script)) { Write-Host "$Script not found."; return 1 }
    Invoke-BuildTask
    Invoke-Pwsh -Arguments '-File', (Join-Path $Root $Script) -Environment @{ PROCESSKIT_MODULE_PATH = $ModuleManifest }
}

function Invoke-DemoTask { Invoke-ScriptTask 'docs/demo.ps1' }

function Invoke-BenchTask { Invoke-ScriptTask 'docs/bench.ps1' }

# A .nupkg, as Publish-PSResource would upload it: Install-PSResource / Save-PSResource take it from any folder
# registered as a repository (tests/Pester/Package.Tests.ps1 does exactly that).
function Invoke-PackageTask {
    Invoke-BuildTask
    $null = Test-ModuleManifest -Path $ModuleManifest -ErrorAction Stop
    $version = (Import-PowerShellDataFile $ModuleManifest).ModuleVersion
    $nupkg = Join-Path $Root "out/ProcessKit.$version.nupkg"
    if (Test-Path $nupkg) { Remove-Item $nupkg -Force }
    Compress-PSResource -Path $ModuleDir -DestinationPath (Join-Path $Root 'out')
    if (-not (Test-Path $nupkg)) { throw "Compress-PSResource did not write $nupkg" }
    Write-Host "Package: out/ProcessKit.$version.nupkg"
}

Push-Location $Root
try {
    switch ($Task) {
        'Build'   { Invoke-BuildTask }
        'Test'    { exit (Invoke-TestTask) }
        'Demo'    { exit (Invoke-DemoTask) }
        'Bench'   { exit (Invoke-BenchTask) }
        'Package' { Invoke-PackageTask }
    }
} finally {
    Pop-Location
}
