#Requires -Version 7.4
<#
.SYNOPSIS
    ProcessKit benchmark: ProcessKit side by side with its peers, measured in one run, reported as ratios.
.DESCRIPTION
    Run it with `dotnet pwsh ./build.ps1 Bench` (builds first, then runs this script in a fresh pwsh with
    $env:PROCESSKIT_MODULE_PATH set), or after a build with `pwsh -NoProfile -File docs/bench.ps1`.

    Peers (DESIGN.md, "Peers to measure against"): Start-Process -PassThru + Wait-Process, raw
    System.Diagnostics.Process, native calls, Start-Job, Start-ThreadJob, ForEach-Object -Parallel, and
    Python's subprocess and multiprocessing with the python3 on the machine. A peer whose tool is missing
    is left out of the table.

    Method: every case is warmed up once, then repeated; the value reported is the median of the
    repetitions (the machine may be small and busy). Python cases are timed inside python, so its
    interpreter start is not counted. The memory cases each run in a fresh pwsh so that no case inherits
    a heap another one grew. Nothing here asserts: the script prints a markdown table, writes the same
    table to out/bench.md, and exits 0 unless it could not run at all.

    Table: | case | ProcessKit | peer | peer value | ratio (peer / ProcessKit) |
    A ratio above 1 means ProcessKit is faster (or smaller) than that peer.

    Linux (and, with /proc missing, partly macOS): the programs used are true, sh, seq and sleep.
.PARAMETER MemoryProbe
    Internal: runs one memory case in this (fresh) process and prints its result as JSON.
#>
[CmdletBinding()]
param(
    [ValidateSet('', 'ProcessKit', 'ProcessKitScript', 'StartProcess', 'StartJob')]
    [string] $MemoryProbe = ''
)

$ErrorActionPreference = 'Stop'

$modulePath = $env:PROCESSKIT_MODULE_PATH
if (-not $modulePath) { $modulePath = Join-Path $PSScriptRoot '../out/ProcessKit/ProcessKit.psd1' }
Import-Module $modulePath

# --------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------

function Get-Median([double[]] $Values) {
    $sorted = [double[]] ($Values | Sort-Object)
    $n = $sorted.Count
    if ($n -eq 0) { return [double]::NaN }
    if ($n % 2) { return $sorted[($n - 1) / 2] }
    ($sorted[$n / 2 - 1] + $sorted[$n / 2]) / 2
}

# Full path of a program (not an alias or function of the same name, e.g. `sleep` is Start-Sleep in pwsh).
function Get-Program([string] $Name) {
    $cmd = Get-Command $Name -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    if ($cmd) { $cmd.Source }
}

# VmRSS of a process in KiB (0 when it is gone or /proc is missing).
function Get-RssKiB([int] $Id) {
    $line = Get-Content "/proc/$Id/status" -ErrorAction SilentlyContinue | Where-Object { $_ -like 'VmRSS:*' }
    if ($line) { [long] ($line -replace '[^0-9]', '') } else { 0 }
}

# Proportional set size in KiB (shared pages divided among their users; 0 when unavailable).
function Get-PssKiB([int] $Id) {
    $line = Get-Content "/proc/$Id/smaps_rollup" -ErrorAction SilentlyContinue | Where-Object { $_ -like 'Pss:*' } | Select-Object -First 1
    if ($line) { [long] ($line -replace '[^0-9]', '') } else { 0 }
}

# Parent pid of every process, from /proc/<pid>/stat (field 4, after the parenthesised command name).
function Get-ParentMap {
    $map = @{}
    foreach ($dir in [IO.Directory]::GetDirectories('/proc')) {
        $name = [IO.Path]::GetFileName($dir)
        if ($name -notmatch '^\d+$') { continue }
        try { $stat = [IO.File]::ReadAllText("$dir/stat") } catch { continue }
        $fields = $stat.Substring($stat.LastIndexOf(')') + 2).Split(' ')
        $map[[int] $name] = [int] $fields[1]
    }
    $map
}

# The given processes and all their descendants.
function Get-ProcessTree([int[]] $Roots) {
    $parents = Get-ParentMap
    $tree = [Collections.Generic.HashSet[int]]::new()
    foreach ($r in $Roots) { $null = $tree.Add($r) }
    do {
        $grew = $false
        foreach ($entry in $parents.GetEnumerator()) {
            if ($tree.Contains($entry.Value) -and $tree.Add($entry.Key)) { $grew = $true }
        }
    } while ($grew)
    [int[]] @($tree)
}

function Get-SessionMemory {
    [GC]::Collect(); [GC]::WaitForPendingFinalizers(); [GC]::Collect()
    $me = Get-Process -Id $PID
    [pscustomobject]@{ WorkingSet = $me.WorkingSet64; Private = $me.PrivateMemorySize64 }
}

# --------------------------------------------------------------------------------------------------
# Memory probe: one case in a fresh process, result as one JSON line on stdout.
# --------------------------------------------------------------------------------------------------
if ($MemoryProbe) {
    $sleepExe = Get-Program sleep
    $held = [Collections.Generic.List[object]]::new()
    $result = [ordered]@{ Kind = $MemoryProbe }
    try {
        switch ($MemoryProbe) {
            'ProcessKit' {
                foreach ($i in 1..3) { Start-ChildProcess -FilePath $sleepExe -ArgumentList 300 | Stop-ChildProcess -Force -PassThru | Remove-ChildProcess }
                $count = 100
                $before = Get-SessionMemory
                foreach ($i in 1..$count) { $held.Add((Start-ChildProcess -FilePath $sleepExe -ArgumentList 300)) }
                Start-Sleep -Milliseconds 300
                $after = Get-SessionMemory
                $ids = [int[]] @($held | ForEach-Object Id)
            }
            'StartProcess' {
                foreach ($i in 1..3) { $p = Start-Process $sleepExe -ArgumentList 300 -PassThru; $p.Kill(); $p.WaitForExit(); $p.Dispose() }
                $count = 100
                $before = Get-SessionMemory
                foreach ($i in 1..$count) { $held.Add((Start-Process $sleepExe -ArgumentList 300 -PassThru)) }
                Start-Sleep -Milliseconds 300
                $after = Get-SessionMemory
                $ids = [int[]] @($held | ForEach-Object Id)
            }
            'ProcessKitScript' {
                $warm = Start-ChildProcess { 'up' }; $null = $warm | Receive-ChildProcess -Wait; $warm | Remove-ChildProcess
                $count = 10
                $before = Get-SessionMemory
                foreach ($i in 1..$count) { $held.Add((Start-ChildProcess { 'up'; Start-Sleep 300 })) }
                # Count a child once its pwsh is up and running the scriptblock.
                $deadline = [DateTime]::UtcNow.AddSeconds(60)
                $up = @{}
                while ($up.Count -lt $count -and [DateTime]::UtcNow -lt $deadline) {
                    foreach ($c in $held) { if (-not $up[$c.Id] -and (Receive-ChildProcess $c -Keep) -contains 'up') { $up[$c.Id] = $true } }
                    Start-Sleep -Milliseconds 100
                }
                $result.Up = $up.Count
                Start-Sleep -Milliseconds 300
                $after = Get-SessionMemory
                $ids = [int[]] @($held | ForEach-Object Id)
            }
            'StartJob' {
                $warm = Start-Job { 'up' }; $null = $warm | Receive-Job -Wait -AutoRemoveJob
                $count = 10
                $existing = (Get-ParentMap).GetEnumerator() | Where-Object Value -eq $PID | ForEach-Object Key
                $before = Get-SessionMemory
                foreach ($i in 1..$count) { $held.Add((Start-Job { 'up'; Start-Sleep 300 })) }
                $deadline = [DateTime]::UtcNow.AddSeconds(60)
                $up = @{}
                while ($up.Count -lt $count -and [DateTime]::UtcNow -lt $deadline) {
                    foreach ($j in $held) { if (-not $up[$j.Id] -and (Receive-Job $j -Keep) -contains 'up') { $up[$j.Id] = $true } }
                    Start-Sleep -Milliseconds 100
                }
                $result.Up = $up.Count
                Start-Sleep -Milliseconds 300
                $after = Get-SessionMemory
                # A job's process is a direct child of this session (pwsh -s); take the ones that are new.
                $ids = [int[]] @((Get-ParentMap).GetEnumerator() | Where-Object { $_.Value -eq $PID -and $_.Key -notin $existing } | ForEach-Object Key)
            }
        }
        $tree = Get-ProcessTree $ids
        $result.Count = $count
        $result.Processes = $ids.Count
        $result.WorkingSetDelta = $after.WorkingSet - $before.WorkingSet
        $result.PrivateDelta = $after.Private - $before.Private
        $result.ChildRssKiB = ($tree | ForEach-Object { Get-RssKiB $_ } | Measure-Object -Sum).Sum
    } catch {
        $result.Error = "$_"
    } finally {
        switch ($MemoryProbe) {
            { $_ -in 'ProcessKit', 'ProcessKitScript' } {
                Get-ChildProcess | Stop-ChildProcess -Force -ErrorAction SilentlyContinue
                Get-ChildProcess | Remove-ChildProcess -Force -ErrorAction SilentlyContinue
            }
            'StartProcess' {
                foreach ($p in $held) { try { $p.Kill(); $p.WaitForExit(5000); $p.Dispose() } catch { <# already exited: nothing to end #> } }
            }
            'StartJob' { Get-Job | Remove-Job -Force -ErrorAction SilentlyContinue }
        }
    }
    [pscustomobject] $result | ConvertTo-Json -Compress
    exit 0
}

# --------------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------------

$runClock = [Diagnostics.Stopwatch]::StartNew()
$rows = [Collections.Generic.List[object]]::new()
$notes = [Collections.Generic.List[string]]::new()
$peerProcesses = [Collections.Generic.List[Diagnostics.Process]]::new()

$trueExe = Get-Program true
$sleepExe = Get-Program sleep
$shExe = Get-Program sh
$python = Get-Program python3
if (-not $python) { $notes.Add('python3 not found: its rows are left out.') }
$haveThreadJob = [bool] (Get-Command Start-ThreadJob -ErrorAction SilentlyContinue)
if (-not $haveThreadJob) { $notes.Add('Start-ThreadJob not available: its row is left out.') }

function Format-Ms([double] $Ms) {
    if ([double]::IsNaN($Ms)) { return 'n/a' }
    if ($Ms -ge 100) { '{0:N0} ms' -f $Ms } elseif ($Ms -ge 10) { '{0:N1} ms' -f $Ms } else { '{0:N2} ms' -f $Ms }
}

function Format-Bytes([double] $Bytes) {
    if ([double]::IsNaN($Bytes)) { return 'n/a' }
    $abs = [Math]::Abs($Bytes)
    if ($abs -ge 1MB) { '{0:N1} MiB' -f ($Bytes / 1MB) } else { '{0:N0} KiB' -f ($Bytes / 1KB) }
}

# One table row. $PkValue/$PeerValue are numbers (ratio source); $PkText/$PeerText what the table shows.
# $RatioOf, when given, is the pair the ratio is computed from instead (e.g. the overhead above a floor).
function Add-Row {
    param(
        [string] $Case, [double] $PkValue, [string] $PkText, [string] $Peer, [double] $PeerValue, [string] $PeerText,
        [double[]] $RatioOf
    )
    $a, $b = if ($RatioOf) { $RatioOf[0], $RatioOf[1] } else { $PkValue, $PeerValue }
    $ratio = if ($a -gt 0 -and $b -ge 0 -and -not [double]::IsNaN($a) -and -not [double]::IsNaN($b)) { '{0:N2}' -f ($b / $a) } else { 'n/a' }
    $script:rows.Add([pscustomobject]@{ Case = $Case; ProcessKit = $PkText; Peer = $Peer; PeerValue = $PeerText; Ratio = $ratio })
}

function Add-Failure([string] $Case, [string] $Peer, $ErrorRecord) {
    $message = "$ErrorRecord" -replace '\s+', ' '
    if ($message.Length -gt 160) { $message = $message.Substring(0, 160) + '...' }
    $script:notes.Add("$Case / ${Peer}: failed: $message")
    Write-Host "  FAILED: $Peer : $message"
}

# Ends everything a case may have left: ProcessKit children, jobs, peer processes.
function Clear-Bench {
    try { Get-ChildProcess | Stop-ChildProcess -Force -ErrorAction SilentlyContinue } catch { <# cleanup between cases is best effort; a failure shows in the next case #> }
    try { Get-ChildProcess | Remove-ChildProcess -Force -ErrorAction SilentlyContinue } catch { <# cleanup between cases is best effort; a failure shows in the next case #> }
    try { Get-Job | Remove-Job -Force -ErrorAction SilentlyContinue } catch { <# cleanup between cases is best effort; a failure shows in the next case #> }
    foreach ($p in $script:peerProcesses) {
        try { if (-not $p.HasExited) { $p.Kill($true); $null = $p.WaitForExit(5000) } } catch { <# cleanup between cases is best effort; a failure shows in the next case #> }
        try { $p.Dispose() } catch { <# cleanup between cases is best effort; a failure shows in the next case #> }
    }
    $script:peerProcesses.Clear()
}

# Times the contenders round-robin, one round after another, so that a change in the machine's load hits all
# of them alike; the first round is the warm-up, and the order rotates each round. A body is a scriptblock
# (timed whole) or @{ Start = {...}; Stop = { param($target) ... } } (Start untimed, then Stop timed).
# Returns an ordered name -> median ms (divided by $PerRun); a contender that fails is dropped with a note.
function Measure-Interleaved([System.Collections.Specialized.OrderedDictionary] $Bodies, [int] $Reps, [int] $PerRun = 1, [string] $Case) {
    $names = @($Bodies.Keys)
    $times = @{}
    foreach ($name in $names) { $times[$name] = [Collections.Generic.List[double]]::new() }
    $failed = [Collections.Generic.HashSet[string]]::new()
    try {
        foreach ($round in 0..$Reps) {
            $order = @($names[($round % $names.Count)..($names.Count - 1)]) + @(if ($round % $names.Count) { $names[0..(($round % $names.Count) - 1)] })
            foreach ($name in $order) {
                if ($failed.Contains($name)) { continue }
                $body = $Bodies[$name]
                try {
                    if ($body -is [scriptblock]) {
                        $clock = [Diagnostics.Stopwatch]::StartNew()
                        $null = & $body
                    } else {
                        $target = & $body.Start
                        Start-Sleep -Milliseconds 50
                        $clock = [Diagnostics.Stopwatch]::StartNew()
                        $null = & $body.Stop $target
                    }
                    $clock.Stop()
                    if ($round) { $times[$name].Add($clock.Elapsed.TotalMilliseconds / $PerRun) }
                } catch {
                    $null = $failed.Add($name)
                    Add-Failure $Case $name $_
                    Clear-Bench
                }
            }
        }
    } finally { Clear-Bench }
    $result = [ordered]@{}
    foreach ($name in $names) { if (-not $failed.Contains($name)) { $result[$name] = Get-Median $times[$name] } }
    $result
}

# Table rows for one timed case: ProcessKit against each other contender. With -Floor, the ratio is taken on
# the time above that floor (the part each contender adds to work that takes the floor anyway).
function Add-TimeRows([string] $Case, [System.Collections.Specialized.OrderedDictionary] $Times, [double] $Floor = 0) {
    if (-not $Times.Contains('ProcessKit')) { return }
    $pk = $Times['ProcessKit']
    $fmt = { param($ms) if ($Floor) { '{0} (+{1:N0})' -f (Format-Ms $ms), ($ms - $Floor) } else { Format-Ms $ms } }
    foreach ($name in @($Times.Keys)) {
        if ($name -eq 'ProcessKit') { continue }
        $v = $Times[$name]
        if ($Floor) { Add-Row $Case $pk (& $fmt $pk) $name $v (& $fmt $v) -RatioOf ($pk - $Floor), ($v - $Floor) }
        else { Add-Row $Case $pk (& $fmt $pk) $name $v (& $fmt $v) }
    }
}

# The python side, timed inside python (interpreter start not counted). Prints one JSON object.
$pythonHarness = @'
import json, statistics, subprocess, sys, time
import multiprocessing as mp

def median_ms(body, reps, per=1):
    body()  # warm-up
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        body()
        times.append((time.perf_counter() - t) * 1000.0 / per)
    return statistics.median(times)

def produce(q):
    q.put(list(range(1, 1001)))

def case1(n, reps):
    def body():
        for _ in range(n):
            subprocess.run(['true'])
    return {'run': median_ms(body, reps, n)}

def case2(reps):
    lines = []
    def body():
        r = subprocess.run(['sh', '-c', 'seq 1 20000'], capture_output=True)
        lines.append(r.stdout.count(b'\n'))
    return {'run': median_ms(body, reps), 'lines': lines[-1]}

def case3(reps):
    out = {}
    for method in ('fork', 'spawn'):
        ctx = mp.get_context(method)
        got = []
        def body():
            q = ctx.Queue()
            p = ctx.Process(target=produce, args=(q,))
            p.start()
            got.append(len(q.get()))
            p.join()
        out[method] = median_ms(body, reps)
        out[method + '_items'] = got[-1]
    return out

def case4(reps):
    def popen():
        ps = [subprocess.Popen(['sleep', '0.5']) for _ in range(20)]
        for p in ps:
            p.wait()
    def pool():
        with mp.get_context('fork').Pool(20) as pl:
            pl.map(time.sleep, [0.5] * 20)
    return {'popen': median_ms(popen, reps), 'pool': median_ms(pool, reps)}

def stop_ms(start, stop, reps):
    times = []
    for i in range(reps + 1):  # the first one is the warm-up
        p = start()
        time.sleep(0.05)
        t = time.perf_counter()
        stop(p)
        if i:
            times.append((time.perf_counter() - t) * 1000.0)
    return statistics.median(times)

def case5(reps):
    ctx = mp.get_context('fork')
    def popen():
        return subprocess.Popen(['sleep', '300'])
    def process():
        p = ctx.Process(target=time.sleep, args=(300,))
        p.start()
        return p
    return {
        'popen_terminate': stop_ms(popen, lambda p: (p.terminate(), p.wait()), reps),
        'popen_kill': stop_ms(popen, lambda p: (p.kill(), p.wait()), reps),
        'process_terminate': stop_ms(process, lambda p: (p.terminate(), p.join()), reps),
        'process_kill': stop_ms(process, lambda p: (p.kill(), p.join()), reps),
    }

def trivial():
    pass

def case7(reps):
    out = {}
    for method in ('spawn', 'forkserver'):
        ctx = mp.get_context(method)
        def body():
            p = ctx.Process(target=trivial)
            p.start()
            p.join()
        out[method] = median_ms(body, reps)
    return out

def double(x):
    return x * 2

def case8(n, reps):
    def body():
        with mp.get_context('spawn').Pool(2) as pl:
            pl.map(double, range(n), chunksize=1)
    return {'map': median_ms(body, reps, n)}

if __name__ == '__main__':
    case, args = sys.argv[1], [int(a) for a in sys.argv[2:]]
    result = {'case1': case1, 'case2': case2, 'case3': case3, 'case4': case4, 'case5': case5, 'case7': case7, 'case8': case8}[case](*args)
    print(json.dumps(result))
'@
$pythonFile = Join-Path ([IO.Path]::GetTempPath()) "processkit-bench-$PID.py"
if ($python) { Set-Content -Path $pythonFile -Value $pythonHarness -Encoding utf8NoBOM }

# Runs one python case; returns its result object, or $null (with a note) when it failed.
function Invoke-PythonCase([string] $Case, [int[]] $Arguments) {
    if (-not $python) { return $null }
    $psi = [Diagnostics.ProcessStartInfo]::new($python)
    $psi.ArgumentList.Add($pythonFile); $psi.ArgumentList.Add($Case)
    foreach ($a in $Arguments) { $psi.ArgumentList.Add([string] $a) }
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $psi.UseShellExecute = $false
    $p = [Diagnostics.Process]::Start($psi)
    try {
        $errTask = $p.StandardError.ReadToEndAsync()
        $outTask = $p.StandardOutput.ReadToEndAsync()
        if (-not $p.WaitForExit(120000)) { $p.Kill($true); throw "python $Case timed out" }
        $p.WaitForExit()
        if ($p.ExitCode -ne 0) { throw "python $Case exit code $($p.ExitCode): $($errTask.Result)" }
        $outTask.Result | ConvertFrom-Json
    } catch {
        Add-Failure "python $Case" 'python3' $_
        $null
    } finally {
        if (-not $p.HasExited) { try { $p.Kill($true) } catch { <# cleanup between cases is best effort; a failure shows in the next case #> } }
        $p.Dispose()
    }
}

function Write-Case([string] $Title) {
    Write-Host ("[{0,5:N1}s] {1}" -f $runClock.Elapsed.TotalSeconds, $Title)
}

$loadBefore = if (Test-Path /proc/loadavg) { (Get-Content /proc/loadavg).Split(' ')[0..2] -join ' ' } else { 'n/a' }

try {
    # ----------------------------------------------------------------------------------------------
    # 1. Start + wait a trivial program, N = 40 sequentially, per-op median of 7 rounds.
    # ----------------------------------------------------------------------------------------------
    $case = '1. start + wait `true` (per op, N=40)'
    Write-Case $case
    $n = 40
    $t = Measure-Interleaved -Reps 7 -PerRun $n -Case $case -Bodies ([ordered]@{
        'ProcessKit' = { for ($i = 0; $i -lt $n; $i++) { Start-ChildProcess -FilePath $trueExe | Wait-ChildProcess -PassThru | Remove-ChildProcess } }
        'Start-Process -PassThru \| Wait-Process' = { for ($i = 0; $i -lt $n; $i++) { Start-Process $trueExe -PassThru | Wait-Process } }
        '[Diagnostics.Process]::Start + WaitForExit' = { for ($i = 0; $i -lt $n; $i++) { $p = [Diagnostics.Process]::Start($trueExe); $p.WaitForExit(); $p.Dispose() } }
        '`& true` (native call)' = { for ($i = 0; $i -lt $n; $i++) { & $trueExe } }
    })
    $py = Invoke-PythonCase case1 $n, 7
    if ($py) { $t['python `subprocess.run([''true''])`'] = $py.run }
    Add-TimeRows $case $t

    # ----------------------------------------------------------------------------------------------
    # 2. Captured output: sh -c 'seq 1 20000', read back. Median of 11 rounds.
    # ----------------------------------------------------------------------------------------------
    $case = '2. capture `sh -c ''seq 1 20000''` (per op)'
    Write-Case $case
    $script:lineCount = @{}
    $t = Measure-Interleaved -Reps 11 -Case $case -Bodies ([ordered]@{
        'ProcessKit' = {
            $c = Start-ChildProcess -FilePath $shExe -ArgumentList '-c', 'seq 1 20000'
            $lines = $c | Receive-ChildProcess -Wait
            $c | Remove-ChildProcess
            $script:lineCount['ProcessKit'] = @($lines).Count
        }
        '`& sh -c ...` (native call capture)' = { $lines = & $shExe -c 'seq 1 20000'; $script:lineCount['native call'] = @($lines).Count }
        'Diagnostics.Process, redirected ReadToEnd (one string)' = {
            $psi = [Diagnostics.ProcessStartInfo]::new($shExe)
            $psi.ArgumentList.Add('-c'); $psi.ArgumentList.Add('seq 1 20000')
            $psi.RedirectStandardOutput = $true; $psi.UseShellExecute = $false
            $p = [Diagnostics.Process]::Start($psi)
            $text = $p.StandardOutput.ReadToEnd(); $p.WaitForExit(); $p.Dispose()
            $script:lineCount['ReadToEnd'] = $text.Split("`n").Count - 1
        }
        'Diagnostics.Process, ReadToEnd split into lines' = {
            $psi = [Diagnostics.ProcessStartInfo]::new($shExe)
            $psi.ArgumentList.Add('-c'); $psi.ArgumentList.Add('seq 1 20000')
            $psi.RedirectStandardOutput = $true; $psi.UseShellExecute = $false
            $p = [Diagnostics.Process]::Start($psi)
            $lines = $p.StandardOutput.ReadToEnd().TrimEnd("`n").Split("`n"); $p.WaitForExit(); $p.Dispose()
            $script:lineCount['split lines'] = $lines.Count
        }
    })
    $py = Invoke-PythonCase case2 11
    if ($py) { $t['python `subprocess.run(..., capture_output=True)` (bytes)'] = $py.run; $script:lineCount['python'] = $py.lines }
    Add-TimeRows $case $t
    foreach ($k in $script:lineCount.Keys) {
        if ($script:lineCount[$k] -ne 20000) { $notes.Add("Case 2: $k read $($script:lineCount[$k]) lines, not 20000.") }
    }

    # ----------------------------------------------------------------------------------------------
    # 3. Scriptblock child round trip { 1..1000 }: objects back in the session. Median of 5 rounds.
    # ----------------------------------------------------------------------------------------------
    $case = '3. scriptblock `{ 1..1000 }` round trip (per op)'
    Write-Case $case
    $script:itemCount = @{}
    $bodies = [ordered]@{
        'ProcessKit' = {
            $c = Start-ChildProcess { 1..1000 }
            $items = $c | Receive-ChildProcess -Wait
            $c | Remove-ChildProcess
            $script:itemCount['ProcessKit'] = @($items).Count
        }
        'Start-Job \| Receive-Job -Wait -AutoRemoveJob' = { $items = Start-Job { 1..1000 } | Receive-Job -Wait -AutoRemoveJob; $script:itemCount['Start-Job'] = @($items).Count }
    }
    if ($haveThreadJob) {
        $bodies['Start-ThreadJob (in-process, reference only)'] = { $items = Start-ThreadJob { 1..1000 } | Receive-Job -Wait -AutoRemoveJob; $script:itemCount['ThreadJob'] = @($items).Count }
    }
    $t = Measure-Interleaved -Reps 5 -Case $case -Bodies $bodies
    $py = Invoke-PythonCase case3 5
    if ($py) {
        $t['python `multiprocessing.Process` + Queue, fork (not alike: copies the running interpreter)'] = $py.fork
        $t['python `multiprocessing.Process` + Queue, spawn (a new interpreter)'] = $py.spawn
        $script:itemCount['python fork'] = $py.fork_items; $script:itemCount['python spawn'] = $py.spawn_items
    }
    Add-TimeRows $case $t
    foreach ($k in $script:itemCount.Keys) {
        if ($script:itemCount[$k] -ne 1000) { $notes.Add("Case 3: $k returned $($script:itemCount[$k]) objects, not 1000.") }
    }

    # ----------------------------------------------------------------------------------------------
    # 4. Fan-out: 20 children that each sleep 0.5 s, wait for all. Median of 5 rounds.
    #    The ratio is taken on the time beyond the 0.5 s every contender must spend (its own overhead).
    # ----------------------------------------------------------------------------------------------
    $case = '4. fan-out 20 × `sleep 0.5`, wait all (wall; ratio on time beyond 0.5 s)'
    Write-Case $case
    $t = Measure-Interleaved -Reps 5 -Case $case -Bodies ([ordered]@{
        'ProcessKit' = {
            $cs = foreach ($i in 1..20) { Start-ChildProcess -FilePath $sleepExe -ArgumentList 0.5 }
            $cs | Wait-ChildProcess
            $cs | Remove-ChildProcess
        }
        'Start-Process -PassThru ×20 + Wait-Process' = {
            $ps = foreach ($i in 1..20) { Start-Process $sleepExe -ArgumentList 0.5 -PassThru }
            $script:peerProcesses.AddRange([Diagnostics.Process[]] $ps)
            $ps | Wait-Process
        }
        'ForEach-Object -Parallel -ThrottleLimit 20 (native sleep)' = {
            1..20 | ForEach-Object -Parallel { & $using:sleepExe 0.5 } -ThrottleLimit 20
        }
    })
    $py = Invoke-PythonCase case4 5
    if ($py) {
        $t['python `subprocess.Popen` ×20 + wait'] = $py.popen
        $t['python `Pool(20).map(time.sleep)` (fork, pool start included)'] = $py.pool
    }
    Add-TimeRows $case $t -Floor 500

    # ----------------------------------------------------------------------------------------------
    # 5. Stop latency: start `sleep 300` (untimed), time the stop until the exit is observed. Median of 11.
    # ----------------------------------------------------------------------------------------------
    $startPk = { Start-ChildProcess -FilePath $sleepExe -ArgumentList 300 }
    $startPeer = { $p = Start-Process $sleepExe -ArgumentList 300 -PassThru; $script:peerProcesses.Add($p); $p }

    $case = '5a. stop, graceful (SIGTERM) until exit seen'
    Write-Case $case
    $t = Measure-Interleaved -Reps 11 -Case $case -Bodies ([ordered]@{
        'ProcessKit' = @{ Start = $startPk; Stop = { param($c) Stop-ChildProcess $c } }
    })
    $py = Invoke-PythonCase case5 11
    if ($py) {
        $t['python `Popen.terminate(); wait()`'] = $py.popen_terminate
        $t['python `Process.terminate(); join()` (fork)'] = $py.process_terminate
    }
    Add-TimeRows $case $t

    $case = '5b. stop, forced (SIGKILL) until exit seen'
    Write-Case $case
    $t = Measure-Interleaved -Reps 11 -Case $case -Bodies ([ordered]@{
        'ProcessKit' = @{ Start = $startPk; Stop = { param($c) Stop-ChildProcess $c -Force } }
        'Stop-Process -Id + Wait-Process (SIGKILL)' = @{ Start = $startPeer; Stop = { param($p) Stop-Process -Id $p.Id; Wait-Process -InputObject $p } }
        '[Diagnostics.Process].Kill() + WaitForExit' = @{ Start = $startPeer; Stop = { param($p) $p.Kill(); $p.WaitForExit() } }
    })
    if ($py) {
        $t['python `Popen.kill(); wait()`'] = $py.popen_kill
        $t['python `Process.kill(); join()` (fork)'] = $py.process_kill
    }
    Add-TimeRows $case $t

    # ----------------------------------------------------------------------------------------------
    # 7. Warm starts (issue 10): a scriptblock `{ 1 }` round trip with a warm host ready (waiting for it is untimed),
    #    and cold (WarmHostCount 0), against Start-Job and python's multiprocessing spawn / forkserver.
    # ----------------------------------------------------------------------------------------------
    $roundTrip = { $c = Start-ChildProcess { 1 }; $null = $c | Receive-ChildProcess -Wait; $c | Remove-ChildProcess }
    $jobTrip = { $null = Start-Job { 1 } | Receive-Job -Wait -AutoRemoveJob }
    $case = '7a. scriptblock `{ 1 }` round trip, warm host ready (per op)'
    Write-Case $case
    $waitReady = {
        Set-ChildProcessOption -WarmHostCount 1
        $deadline = [DateTime]::UtcNow.AddSeconds(60)
        while ((Get-ChildProcessOption).ReadyWarmHostCount -lt 1 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
        if ((Get-ChildProcessOption).ReadyWarmHostCount -lt 1) { throw 'no warm host became ready within 60 s' }
    }
    & $roundTrip   # the session's first scriptblock child: warm hosts start from here on
    $t = Measure-Interleaved -Reps 7 -Case $case -Bodies ([ordered]@{
        'ProcessKit' = @{ Start = $waitReady; Stop = { param($x) & $roundTrip } }
        'Start-Job \| Receive-Job -Wait -AutoRemoveJob' = $jobTrip
    })
    $py7 = Invoke-PythonCase case7 7
    if ($py7) {
        $t['python `multiprocessing.Process(target=f)` start + join, spawn'] = $py7.spawn
        $t['python `multiprocessing.Process(target=f)` start + join, forkserver'] = $py7.forkserver
    }
    Add-TimeRows $case $t

    $case = '7b. scriptblock `{ 1 }` round trip, cold (WarmHostCount 0) (per op)'
    Write-Case $case
    # A module without warm hosts (an older build measured side by side) has no option: every child is cold there.
    $haveOptions = [bool] (Get-Command Set-ChildProcessOption -ErrorAction SilentlyContinue)
    if ($haveOptions) { Set-ChildProcessOption -WarmHostCount 0 }
    try {
        $t = Measure-Interleaved -Reps 5 -Case $case -Bodies ([ordered]@{
            'ProcessKit' = $roundTrip
            'Start-Job \| Receive-Job -Wait -AutoRemoveJob' = $jobTrip
        })
    } finally { if ($haveOptions) { Set-ChildProcessOption -WarmHostCount 1 } }
    Add-TimeRows $case $t

    # 7c. Fan-out rate: 1,000 `sleep 30` children started back to back (then killed, untimed).
    $case = '7c. 1,000 program children started (per start)'
    Write-Case $case
    $t = Measure-Interleaved -Reps 1 -PerRun 1000 -Case $case -Bodies ([ordered]@{
        'ProcessKit' = @{ Start = { Clear-Bench }; Stop = { param($x) $script:fan = foreach ($i in 1..1000) { Start-ChildProcess -FilePath $sleepExe -ArgumentList 30 } } }
        '[Diagnostics.Process]::Start' = @{ Start = { Clear-Bench }; Stop = { param($x) foreach ($i in 1..1000) { $script:peerProcesses.Add([Diagnostics.Process]::Start($sleepExe, '30')) } } }
    })
    Clear-Bench
    if ($t.Contains('ProcessKit')) {
        $pk = $t['ProcessKit']
        foreach ($name in @($t.Keys)) {
            if ($name -ne 'ProcessKit') { Add-Row $case $pk ('{0} ({1:N0}/s)' -f (Format-Ms $pk), (1000 / $pk)) $name $t[$name] ('{0} ({1:N0}/s)' -f (Format-Ms $t[$name]), (1000 / $t[$name])) }
        }
    }

    # 7d. Module import in a fresh pwsh (nothing started, nothing scanned), median of 5; the target is 150 ms.
    $case = '7d. Import-Module ProcessKit in a fresh pwsh'
    Write-Case $case
    try {
        $pwshExe7 = [Environment]::ProcessPath
        $prefix7 = @()
        if ([IO.Path]::GetFileNameWithoutExtension($pwshExe7) -eq 'dotnet') { $prefix7 = @([Environment]::GetCommandLineArgs()[0]) }
        $importMs = foreach ($i in 1..5) {
            $out = & $pwshExe7 @prefix7 -NoProfile -NonInteractive -Command "`$sw = [Diagnostics.Stopwatch]::StartNew(); Import-Module '$modulePath'; `$sw.Elapsed.TotalMilliseconds"
            [double] (@($out)[-1])
        }
        $im = Get-Median $importMs
        Add-Row $case $im (Format-Ms $im) 'target (issue 10)' 150 '150 ms'
    } catch { Add-Failure $case 'ProcessKit' $_ }

    # ----------------------------------------------------------------------------------------------
    # 6. Memory, each case in a fresh pwsh: session growth while holding running children, child RSS.
    # ----------------------------------------------------------------------------------------------
    Write-Case '6. memory (fresh pwsh per case)'
    $pwshExe = [Environment]::ProcessPath
    $pwshPrefix = @()
    if ([IO.Path]::GetFileNameWithoutExtension($pwshExe) -eq 'dotnet') { $pwshPrefix = @([Environment]::GetCommandLineArgs()[0]) }
    # Each probe runs in its own fresh pwsh; the cheap ones 3 times, the ones that start 10 pwsh children twice.
    # Per metric the median over those runs is kept.
    $mem = @{}
    $probeRuns = [ordered]@{ ProcessKit = 3; StartProcess = 3; ProcessKitScript = 2; StartJob = 2 }
    foreach ($kind in $probeRuns.Keys) {
        $runs = [Collections.Generic.List[object]]::new()
        $attempts = 0
        while ($runs.Count -lt $probeRuns[$kind] -and $attempts -le $probeRuns[$kind]) {   # one retry at most
            $attempts++; $run = $attempts
            try {
                $out = & $pwshExe @pwshPrefix -NoProfile -NonInteractive -File $PSCommandPath -MemoryProbe $kind
                $json = @($out) | Where-Object { $_ -like '{*' } | Select-Object -Last 1
                if (-not $json) { throw "no result (exit code $LASTEXITCODE): $out" }
                $r = $json | ConvertFrom-Json
                if ($r.PSObject.Properties['Error']) { throw $r.Error }
                if ($r.PSObject.Properties['Up'] -and $r.Up -lt $r.Count) { $notes.Add("Memory/${kind}: only $($r.Up) of $($r.Count) children were up when measured.") }
                $runs.Add($r)
                Write-Host ("  {0} #{1}: {2} children, session WS +{3}, private +{4}, child RSS {5:N0} KiB" -f $kind, $run, $r.Count,
                    (Format-Bytes $r.WorkingSetDelta), (Format-Bytes $r.PrivateDelta), $r.ChildRssKiB)
            } catch { Add-Failure '6. memory' "$kind (run $run)" $_ }
        }
        if ($runs.Count) {
            $mem[$kind] = [pscustomobject]@{
                Count           = $runs[0].Count
                WorkingSetDelta = Get-Median ($runs | ForEach-Object WorkingSetDelta)
                PrivateDelta    = Get-Median ($runs | ForEach-Object PrivateDelta)
                ChildRssKiB     = Get-Median ($runs | ForEach-Object ChildRssKiB)
            }
        }
    }
    $per = { param($r, [string] $what) $r.$what / $r.Count }
    $memRows = @(
        @{ Metric = 'WorkingSetDelta'; Label = '6a. session working set growth per child' }
        @{ Metric = 'PrivateDelta'; Label = '6b. session private memory growth per child' }
    )
    foreach ($m in $memRows) {
        if ($mem['ProcessKit']) {
            $pkv = & $per $mem['ProcessKit'] $m.Metric
            $pkText = "$(Format-Bytes $pkv) (100 × sleep)"
            if ($mem['StartProcess']) {
                $v = & $per $mem['StartProcess'] $m.Metric
                Add-Row $m.Label $pkv $pkText 'Start-Process -PassThru, Process objects held (100 × sleep)' $v (Format-Bytes $v)
            }
            if ($mem['StartJob']) {
                $v = & $per $mem['StartJob'] $m.Metric
                Add-Row $m.Label $pkv $pkText 'Start-Job (10 jobs, per job)' $v (Format-Bytes $v)
            }
        }
        if ($mem['ProcessKitScript'] -and $mem['StartJob']) {
            $pkv = & $per $mem['ProcessKitScript'] $m.Metric
            $v = & $per $mem['StartJob'] $m.Metric
            Add-Row $m.Label $pkv "$(Format-Bytes $pkv) (10 × scriptblock)" 'Start-Job (10 jobs, per job)' $v (Format-Bytes $v)
        }
    }
    $case = '6c. child RSS per child (VmRSS of its process tree)'
    if ($mem['StartJob']) {
        $jobRss = $mem['StartJob'].ChildRssKiB * 1KB / $mem['StartJob'].Count
        $jobText = '{0} (sum of 10: {1})' -f (Format-Bytes $jobRss), (Format-Bytes ($mem['StartJob'].ChildRssKiB * 1KB))
        if ($mem['ProcessKit']) {
            $pkv = $mem['ProcessKit'].ChildRssKiB * 1KB / $mem['ProcessKit'].Count
            Add-Row $case $pkv "$(Format-Bytes $pkv) (sleep program)" 'Start-Job (a pwsh per job)' $jobRss $jobText
        }
        if ($mem['ProcessKitScript']) {
            $pkv = $mem['ProcessKitScript'].ChildRssKiB * 1KB / $mem['ProcessKitScript'].Count
            $pkText = '{0} (scriptblock; sum of 10: {1})' -f (Format-Bytes $pkv), (Format-Bytes ($mem['ProcessKitScript'].ChildRssKiB * 1KB))
            Add-Row $case $pkv $pkText 'Start-Job (a pwsh per job)' $jobRss $jobText
        }
    }

    # ----------------------------------------------------------------------------------------------
    # 6d/6e. Daemons: start latency with and without -Daemon (N=40, interleaved, per-call median),
    #        then the lifeline guardian's RSS while they run.
    # ----------------------------------------------------------------------------------------------
    $case = '6e. start latency, `-Daemon` vs not (per call, N=40)'
    Write-Case '6d/6e. daemons: guardian RSS, -Daemon start latency'
    try {
        $null = Start-ChildProcess -FilePath $sleepExe -ArgumentList 300 -Daemon   # warm-up; starts the guardian
        $null = Start-ChildProcess -FilePath $sleepExe -ArgumentList 300
        $daemonMs = [Collections.Generic.List[double]]::new()
        $plainMs = [Collections.Generic.List[double]]::new()
        foreach ($i in 1..40) {
            $clock = [Diagnostics.Stopwatch]::StartNew()
            $null = Start-ChildProcess -FilePath $sleepExe -ArgumentList 300 -Daemon
            $daemonMs.Add($clock.Elapsed.TotalMilliseconds)
            $clock.Restart()
            $null = Start-ChildProcess -FilePath $sleepExe -ArgumentList 300
            $plainMs.Add($clock.Elapsed.TotalMilliseconds)
        }
        $d = Get-Median $daemonMs; $p = Get-Median $plainMs

        # Our guardian: argv[0] processkit-guardian, started by this session.
        $guardians = @(ps -eo pid=,ppid=,args= | Where-Object { $_ -match 'processkit-guardian' -and $_ -notmatch 'grep' } | ForEach-Object {
            $f = $_.Trim() -split '\s+', 3
            [pscustomobject]@{ Id = [int] $f[0]; ParentId = [int] $f[1] }
        })
        $mine = @($guardians | Where-Object ParentId -eq $PID)
        if ($mine.Count -gt 0) {
            # One guardian per running daemon: report the median RSS and PSS (its shell pages are shared).
            $rss = (Get-Median @($mine | ForEach-Object { Get-RssKiB $_.Id })) * 1KB
            $pss = (Get-Median @($mine | ForEach-Object { Get-PssKiB $_.Id })) * 1KB
            Add-Row "6d. lifeline guardian per daemon ($($mine.Count) running): RSS, PSS" $rss ('{0} RSS, {1} PSS' -f (Format-Bytes $rss), (Format-Bytes $pss)) '— (no peer; python''s resource_tracker is a whole python process)' ([double]::NaN) '—'
        } else {
            $notes.Add("6d: no processkit-guardian whose parent is this session ($PID) was found (found $($guardians.Count) others).")
        }
        Add-Row $case $d ('{0} (+{1:N2} ms)' -f (Format-Ms $d), ($d - $p)) 'Start-ChildProcess without -Daemon' $p (Format-Ms $p)
    } catch { Add-Failure $case 'ProcessKit' $_ } finally { Clear-Bench }

    # ----------------------------------------------------------------------------------------------
    # 8. The pool: Python's Pool.map for PowerShell
    # ----------------------------------------------------------------------------------------------
    $case = '8a. pool: 2,000 trivial items on 2 workers, start-up included (per item)'
    Write-Case $case
    try {
        $items = 1..2000
        $times = Measure-Interleaved ([ordered]@{
            'ProcessKit' = { $null = $items | Invoke-ChildProcessPool { $_ * 2 } -ThrottleLimit 2 }
            'ForEach-Object -Parallel -ThrottleLimit 2' = { $null = $items | ForEach-Object -Parallel { $_ * 2 } -ThrottleLimit 2 }
        }) -Reps 3 -PerRun $items.Count -Case $case
        Add-TimeRows $case $times
        $py = Invoke-PythonCase 'case8' @(2000, 3)
        if ($py -and $times.Contains('ProcessKit')) {
            Add-Row $case $times['ProcessKit'] (Format-Ms $times['ProcessKit']) 'python Pool(2).map(f, items, chunksize=1) (spawn, start-up included)' $py.map (Format-Ms $py.map)
        }
    } catch { Add-Failure $case 'ProcessKit' $_ } finally { Clear-Bench }

    $case = '8b. pool: 2,000 trivial items on a warm pool of 2 (per item)'
    Write-Case $case
    try {
        $warm = New-ChildProcessPool -ThrottleLimit 2
        $null = 1..2 | Invoke-ChildProcessPool { Start-Sleep -Milliseconds 200 } -Pool $warm -BatchSize 1
        $times = Measure-Interleaved ([ordered]@{
            'ProcessKit' = { $null = $items | Invoke-ChildProcessPool { $_ * 2 } -Pool $warm }
            'ForEach-Object -Parallel -ThrottleLimit 2' = { $null = $items | ForEach-Object -Parallel { $_ * 2 } -ThrottleLimit 2 }
        }) -Reps 3 -PerRun $items.Count -Case $case
        Add-TimeRows $case $times
    } catch { Add-Failure $case 'ProcessKit' $_ } finally { if ($warm) { Remove-ChildProcessPool $warm -Force }; Clear-Bench }

    $case = '8c. pool: 4 CPU-heavy items (~1 s of CPU each), 2 workers vs 1'
    Write-Case $case
    try {
        $burn = { param($x, $n) $s = 0; foreach ($i in 1..$n) { $s += $i }; $s }
        $one = New-ChildProcessPool -ThrottleLimit 1
        $two = New-ChildProcessPool -ThrottleLimit 2
        $null = 1..2 | Invoke-ChildProcessPool { Start-Sleep -Milliseconds 200 } -Pool $two -BatchSize 1
        # Calibrated in a worker, where the item runs (the same loop is much slower at a script's top level here): the
        # loop count that takes about one second of this machine's CPU.
        $probeMs = @(1..3 | Invoke-ChildProcessPool { param($x, $n) $sw = [Diagnostics.Stopwatch]::StartNew(); $s = 0; foreach ($i in 1..$n) { $s += $i }; $sw.Elapsed.TotalMilliseconds } -ArgumentList 1000000 -Pool $one)[-1]
        $n = [int] (1000000 * 1000 / [Math]::Max(1, $probeMs))
        $times = Measure-Interleaved ([ordered]@{
            'ProcessKit' = { $null = 1..4 | Invoke-ChildProcessPool $burn -ArgumentList $n -Pool $two -BatchSize 1 }
            '1 worker (the same pool code)' = { $null = 1..4 | Invoke-ChildProcessPool $burn -ArgumentList $n -Pool $one -BatchSize 1 }
        }) -Reps 2 -Case $case
        Add-TimeRows $case $times
    } catch { Add-Failure $case 'ProcessKit' $_ } finally { foreach ($x in $one, $two) { if ($x) { Remove-ChildProcessPool $x -Force } }; Clear-Bench }

    $case = '8d. pool: session memory per worker and per queued item'
    Write-Case $case
    try {
        [GC]::Collect(); [GC]::WaitForPendingFinalizers(); [GC]::Collect()
        $heap0 = [GC]::GetTotalMemory($true); $rss0 = (Get-RssKiB $PID) * 1KB
        $mem = New-ChildProcessPool -ThrottleLimit 2
        $null = 1..2 | Invoke-ChildProcessPool { Start-Sleep -Milliseconds 200 } -Pool $mem -BatchSize 1
        [GC]::Collect(); [GC]::WaitForPendingFinalizers(); [GC]::Collect()
        $perWorker = ([GC]::GetTotalMemory($true) - $heap0) / 2
        $workerRss = (Get-Median @($mem.Workers | ForEach-Object { Get-RssKiB $_.Id })) * 1KB
        Add-Row "$case`: session heap per worker; the worker's own RSS" $perWorker ('{0} in the session; {1} RSS each worker' -f (Format-Bytes $perWorker), (Format-Bytes $workerRss)) '— (ForEach-Object -Parallel: a runspace per item, in the session)' ([double]::NaN) '—'
        Remove-ChildProcessPool $mem -Force
        # Queued items: the one worker sits on item 1 while the producer queues the rest; the heap is read when the
        # last item is produced (the queue then holds all the others).
        $q = New-ChildProcessPool -ThrottleLimit 1
        $null = 1 | Invoke-ChildProcessPool { 1 } -Pool $q
        $count = 4000
        [GC]::Collect(); $h0 = [GC]::GetTotalMemory($true)
        $script:peakHeap = 0
        $null = 1..$count | ForEach-Object { if ($_ -eq $count) { $script:peakHeap = [GC]::GetTotalMemory($true) }; $_ } |
            Invoke-ChildProcessPool { if ($_ -eq 1) { Start-Sleep 2 }; $_ } -Pool $q -BatchSize 1
        $perItem = ($script:peakHeap - $h0) / ($count - 1)
        Add-Row "8e. pool: session memory per queued item (an int)" $perItem ('{0:N0} bytes' -f $perItem) '— (the queue holds at most 4,096 items)' ([double]::NaN) '—'
        Remove-ChildProcessPool $q -Force
    } catch { Add-Failure $case 'ProcessKit' $_ } finally { Clear-Bench }
} finally {
    Clear-Bench
    if ($python) { Remove-Item $pythonFile -ErrorAction SilentlyContinue }
}

# --------------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------------
$loadAfter = if (Test-Path /proc/loadavg) { (Get-Content /proc/loadavg).Split(' ')[0..2] -join ' ' } else { 'n/a' }
$cores = try { "$(nproc)".Trim() } catch { [Environment]::ProcessorCount }
$kernel = try { (uname -sr) } catch { [Runtime.InteropServices.RuntimeInformation]::OSDescription }
$pyVersion = if ($python) { (& $python --version 2>&1) -join ' ' } else { 'no python3' }

$lines = [Collections.Generic.List[string]]::new()
$lines.Add('| case | ProcessKit | peer | peer value | ratio (peer / ProcessKit) |')
$lines.Add('| --- | --- | --- | --- | --- |')
foreach ($r in $rows) { $lines.Add("| $($r.Case) | $($r.ProcessKit) | $($r.Peer) | $($r.PeerValue) | $($r.Ratio) |") }
$lines.Add('')
$footer = ('{0:yyyy-MM-dd HH:mm} UTC; {1} cores (nproc), {2}; pwsh {3}; {4}; load average {5} before, {6} after; run took {7:N0} s. ' +
    'Medians of 5-11 repetitions after one warm-up (memory: of 2-3 fresh sessions); ratios above 1 mean ProcessKit is faster or smaller.') -f
    [DateTime]::UtcNow, $cores, $kernel, $PSVersionTable.PSVersion, $pyVersion, $loadBefore, $loadAfter, $runClock.Elapsed.TotalSeconds
$lines.Add($footer)
$lines.Add('')
$lines.Add('Notes: python cases are timed inside python (interpreter start not counted). Python''s multiprocessing `fork` copies ' +
    'the running interpreter, so it is not the same kind of work as a fresh pwsh (`spawn` is the closer match). ' +
    'Start-ThreadJob runs in this process, for reference only. On Linux, .NET''s PrivateMemorySize64 is VmData (address space reserved, not touched). ' +
    'The memory cases each run in a fresh pwsh. Case 2: ProcessKit and the native call emit 20000 strings into the pipeline one by one; ' +
    'Diagnostics.Process and python return one buffer (the split row turns it into a string array in one call). ' +
    'Case 4''s ratios compare a few milliseconds of overhead each and move with the load. ' +
    'In the timed cases the PowerShell contenders run round-robin (one round each, then the next) so load changes hit them alike; python runs right after.')
foreach ($n in $notes) { $lines.Add("- $n") }

$report = $lines -join [Environment]::NewLine
Write-Host ''
Write-Host $report
$outDir = Join-Path $PSScriptRoot '../out'
if (-not (Test-Path $outDir)) { $null = New-Item -ItemType Directory -Path $outDir }
Set-Content -Path (Join-Path $outDir 'bench.md') -Value $report -Encoding utf8NoBOM
Write-Host ''
Write-Host "Written to out/bench.md ($('{0:N0}' -f $runClock.Elapsed.TotalSeconds) s)."
exit 0
