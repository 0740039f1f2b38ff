#Requires -Version 7.4
# Shared helpers for the ProcessKit Pester tests (Linux).
# Import with: Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force

Set-StrictMode -Version Latest

$script:ExtraPids = [System.Collections.Generic.List[int]]::new()

function Get-ProcessKitModulePath {
    <# The built module manifest: $env:PROCESSKIT_MODULE_PATH (set by build.ps1) or out/ProcessKit/ProcessKit.psd1. Always absolute. #>
    $path = if ($env:PROCESSKIT_MODULE_PATH) { $env:PROCESSKIT_MODULE_PATH } else { Join-Path $PSScriptRoot '../../out/ProcessKit/ProcessKit.psd1' }
    if (-not (Test-Path -LiteralPath $path)) {
        throw "ProcessKit module not found at '$path'. Build it first (./build.ps1) or set PROCESSKIT_MODULE_PATH."
    }
    (Resolve-Path -LiteralPath $path).ProviderPath
}

function Get-PidStat {
    <# Parses /proc/<pid>/stat. Returns $null when the pid does not exist. State 'Z' = zombie. #>
    param([Parameter(Mandatory)][int] $Id)
    try { $text = [System.IO.File]::ReadAllText("/proc/$Id/stat") } catch { return $null }
    # The comm field is in parentheses and may hold spaces: parse after the last ')'.
    $close = $text.LastIndexOf(')')
    if ($close -lt 0) { return $null }
    $rest = $text.Substring($close + 2).Split(' ')
    [pscustomobject]@{
        Id             = $Id
        Comm           = $text.Substring($text.IndexOf('(') + 1, $close - $text.IndexOf('(') - 1)
        State          = $rest[0]
        ParentId       = [int]$rest[1]
        ProcessGroupId = [int]$rest[2]
        SessionId      = [int]$rest[3]
        StartTicks     = [uint64]$rest[19]
    }
}

function Test-PidAlive {
    <# $true when the pid exists and is not a zombie. With -StartTicks, a pid reused by another process counts as dead. #>
    param([Parameter(Mandatory)][int] $Id, [uint64] $StartTicks = 0)
    $stat = Get-PidStat -Id $Id
    if ($null -eq $stat) { return $false }
    if ($stat.State -eq 'Z' -or $stat.State -eq 'X') { return $false }
    if ($StartTicks -ne 0 -and $stat.StartTicks -ne $StartTicks) { return $false }
    $true
}

function Test-ZombieOfSession {
    <# $true when the pid is a zombie whose parent is this PowerShell process (an unreaped child). #>
    param([Parameter(Mandatory)][int] $Id)
    $stat = Get-PidStat -Id $Id
    ($null -ne $stat) -and ($stat.State -eq 'Z') -and ($stat.ParentId -eq $PID)
}

function Wait-Until {
    <# Polls $Condition every $IntervalMs until it is truthy (returns $true) or $Timeout seconds pass (returns $false). #>
    param(
        [Parameter(Mandatory, Position = 0)][scriptblock] $Condition,
        [double] $Timeout = 10,
        [int] $IntervalMs = 50
    )
    $sw = [System.Diagnostics.Stopwatch]::StartNew()
    while ($true) {
        if (& $Condition) { return $true }
        if ($sw.Elapsed.TotalSeconds -ge $Timeout) { return $false }
        Start-Sleep -Milliseconds $IntervalMs
    }
}

function Send-Signal {
    <# Sends a signal (name without SIG, e.g. TERM, KILL) to a pid from outside ProcessKit. #>
    param([Parameter(Mandatory)][int] $Id, [string] $Signal = 'TERM')
    & /bin/sh -c 'kill -s "$1" "$2" 2>/dev/null' sh $Signal $Id
}

function Register-ExtraPid {
    <# Remembers a pid (a grandchild, a child of another session, ...) that Clear-TestProcess kills with SIGKILL. #>
    param([Parameter(Mandatory, ValueFromPipeline)][int[]] $Id)
    process { foreach ($i in $Id) { if ($i -gt 1 -and $i -ne $PID) { $script:ExtraPids.Add($i) } } }
}

function Read-PidFile {
    <# Waits until $Path holds whitespace-separated pids (a complete line), registers them for cleanup and returns them. #>
    param([Parameter(Mandatory)][string] $Path, [double] $Timeout = 60, [int] $Count = 1)
    $script:__pids = $null
    $ok = Wait-Until -Timeout $Timeout -Condition {
        if (-not (Test-Path -LiteralPath $Path)) { return $false }
        $raw = [System.IO.File]::ReadAllText($Path)
        if ($raw -notmatch '\n$') { return $false }
        $parts = @(-split $raw)
        if ($parts.Count -lt $Count) { return $false }
        $script:__pids = [int[]]$parts
        $true
    }
    if (-not $ok) { throw "Timed out after $Timeout s waiting for $Count pid(s) in '$Path'." }
    $script:__pids | Register-ExtraPid
    $script:__pids
}

function Register-PidFile {
    <# Registers for cleanup whatever pids $Path holds right now (no waiting); for finally blocks after a failure. #>
    param([Parameter(Mandatory)][string[]] $Path)
    foreach ($p in $Path) {
        if (-not (Test-Path -LiteralPath $p)) { continue }
        foreach ($token in -split [System.IO.File]::ReadAllText($p)) {
            $n = 0
            if ([int]::TryParse($token, [ref]$n)) { Register-ExtraPid -Id $n }
        }
    }
}

function Clear-TestProcess {
    <# Stops and forgets every tracked child of this session and SIGKILLs every registered extra pid. Never throws. #>
    try {
        $all = @(ProcessKit\Get-ChildProcess -ErrorAction SilentlyContinue)
        if ($all.Count) {
            ProcessKit\Stop-ChildProcess -InputObject $all -Force -ErrorAction SilentlyContinue
            ProcessKit\Remove-ChildProcess -InputObject $all -Force -ErrorAction SilentlyContinue
        }
    } catch {
        Write-Warning "Clear-TestProcess: ProcessKit cleanup failed: $_"
    }
    # Also with the pipeline form the brief asks for (covers anything the array form missed).
    try {
        ProcessKit\Get-ChildProcess -ErrorAction SilentlyContinue | ProcessKit\Stop-ChildProcess -Force -ErrorAction SilentlyContinue
        ProcessKit\Get-ChildProcess -ErrorAction SilentlyContinue | ProcessKit\Remove-ChildProcess -Force -ErrorAction SilentlyContinue
    } catch { <# the array form above already reported its failure; this pass is best effort #> }
    foreach ($id in $script:ExtraPids) {
        if (Test-PidAlive -Id $id) { & /bin/sh -c 'kill -9 "$1" 2>/dev/null' sh $id }
    }
    $script:ExtraPids.Clear()
}

function Get-PwshCommand {
    <# The command line (array) that starts this same PowerShell: pwsh, or dotnet + pwsh.dll for a tool install. #>
    if ([System.IO.Path]::GetFileNameWithoutExtension([Environment]::ProcessPath) -eq 'dotnet') {
        @([Environment]::ProcessPath, [Environment]::GetCommandLineArgs()[0])
    } else {
        @([Environment]::ProcessPath)
    }
}

function Start-PwshScript {
    <#
    Starts a separate PowerShell process running $ScriptPath with $ArgumentList, stdout+stderr going to $LogPath.
    Returns the System.Diagnostics.Process (its Id is the pwsh process: the /bin/sh wrapper execs it).
    #>
    param(
        [Parameter(Mandatory)][string] $ScriptPath,
        [string[]] $ArgumentList = @(),
        [Parameter(Mandatory)][string] $LogPath
    )
    $psi = [System.Diagnostics.ProcessStartInfo]::new('/bin/sh')
    $psi.UseShellExecute = $false
    foreach ($a in @('-c', 'log=$1; shift; exec "$@" >"$log" 2>&1 </dev/null', 'sh', $LogPath)) { $psi.ArgumentList.Add($a) }
    foreach ($a in (Get-PwshCommand)) { $psi.ArgumentList.Add($a) }
    foreach ($a in @('-NoProfile', '-NonInteractive', '-File', $ScriptPath)) { $psi.ArgumentList.Add($a) }
    foreach ($a in $ArgumentList) { $psi.ArgumentList.Add($a) }
    $proc = [System.Diagnostics.Process]::Start($psi)
    Register-ExtraPid -Id $proc.Id
    $proc
}

function New-TestName {
    <# A unique child name with a readable prefix, e.g. 'wc-3f9a1c2b'. #>
    param([string] $Prefix = 'pk')
    '{0}-{1}' -f $Prefix, [guid]::NewGuid().ToString('N').Substring(0, 8)
}

Export-ModuleMember -Function Get-ProcessKitModulePath, Get-PidStat, Test-PidAlive, Test-ZombieOfSession, Wait-Until,
    Send-Signal, Register-ExtraPid, Read-PidFile, Register-PidFile, Clear-TestProcess, Get-PwshCommand, Start-PwshScript, New-TestName
