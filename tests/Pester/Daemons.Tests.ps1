#Requires -Version 7.4
# Daemons never outlive their session: however the session's process ends (exit, end of script, SIGTERM, SIGHUP,
# SIGINT, SIGKILL, a crash), when its runspace closes, or on Remove-Module ProcessKit. Graceful first (SIGTERM,
# then SIGKILL after -GracePeriod), non-daemons untouched, no leaked descriptors, Info log records.
#
# Each process-ending case runs a separate session pwsh (started with Start-ChildProcess, so it has default signal
# dispositions: a pwsh started in the background by a non-interactive shell would have SIGINT ignored). The session
# writes its own $PID, which is the pid the tests signal.

Describe 'Daemons end with their session' {
    BeforeAll {
        Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
        $ModulePath = Get-ProcessKitModulePath
        Import-Module $ModulePath -Force

        # Seconds allowed between "the session process is gone" and "nothing of its daemons is left". SPEC says 2;
        # the extra half second absorbs polling and scheduling jitter on a loaded 2-core machine.
        $GoneBound = 2.5
        $Timings = [System.Collections.Generic.List[object]]::new()

        $SessionScript = Join-Path $TestDrive 'daemon-session.ps1'
        Set-Content -LiteralPath $SessionScript -Value @'
param([string] $ModulePath, [string] $Dir, [string] $Mode, [string] $Extra = '')
$ErrorActionPreference = 'Stop'
$pidFile = Join-Path $Dir 'pids'
function Write-Pids([string] $Text) {
    [System.IO.File]::WriteAllText("$pidFile.tmp", "$Text`n")
    [System.IO.File]::Move("$pidFile.tmp", $pidFile)
}
try {
    # A top-level session (as a user's pwsh is), not a ProcessKit child: it logs as MainProcess.
    Remove-Item -Path Env:PROCESSKIT_NAME, Env:PROCESSKIT_PARENT_ID -ErrorAction SilentlyContinue
    Import-Module $ModulePath
    Enable-ChildProcessLog -Level Info -Path (Join-Path $Dir 'session.log')
    if ($Mode -eq 'stale') {
        # A daemon that exits on its own (and is reaped) before the session dies, then a live one.
        $stale = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'exit 0' -Daemon -Name daemon-stale
        $null = Wait-ChildProcess $stale -Timeout 30
        if ($stale.IsAlive) { throw 'the stale daemon did not exit' }
        $live = Start-ChildProcess -FilePath sleep -ArgumentList 300 -Daemon -Name daemon-live
        Write-Pids "$($stale.Id) $($live.Id) $PID"
        Start-Sleep -Seconds 300
        exit 0
    }
    $grandFile = Join-Path $Dir 'grand.pid'
    $flushFile = Join-Path $Dir 'flushed'
    # A daemon whose program starts a grandchild in its process group.
    $tree = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'sleep 300 & echo $! > "$1.tmp"; mv "$1.tmp" "$1"; wait', 'sh', $grandFile -Daemon -Name daemon-tree
    # A daemon that flushes on SIGTERM: the file proves the graceful step happened. Its stderr goes to /dev/null:
    # dash reports "Terminated" on stderr when SIGTERM kills its foreground sleep, and once a killed session no
    # longer reads the capture pipe that write would end it by SIGPIPE before its trap runs (the 'talker' case
    # below tests exactly that, separately).
    $graceful = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'exec 2>/dev/null; F=$1; trap ''echo flushed > "$F"; exit 0'' TERM; while :; do sleep 0.1; done', 'sh', $flushFile -Daemon -Name daemon-graceful
    # A daemon whose whole group ignores SIGTERM: only the SIGKILL after the (default, 1 s) grace period ends it.
    $stubborn = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'trap "" TERM; while :; do sleep 0.1; done' -Daemon -Name daemon-stubborn
    $plain = Start-ChildProcess -FilePath sleep -ArgumentList 300 -Name plain
    $sb = 0
    if ($Extra -eq 'scriptblock') {
        $sb = (Start-ChildProcess -Daemon -Name daemon-sb { Start-Sleep -Seconds 300 }).Id
    }
    if ($Extra -eq 'talker') {
        # The issue's graceful daemon, output captured as by default, which also says so on stderr when it stops
        # (as real daemons log their shutdown; dash itself prints "Terminated" there when SIGTERM kills its
        # foreground sleep).
        $sb = (Start-ChildProcess -FilePath sh -ArgumentList '-c', 'F=$1; trap ''echo stopping >&2; echo flushed > "$F"; exit 0'' TERM; while :; do sleep 0.1; done', 'sh', (Join-Path $Dir 'talker-flushed') -Daemon -Name daemon-talker).Id
    }
    $deadline = [datetime]::UtcNow.AddSeconds(60)
    while (-not (Test-Path -LiteralPath $grandFile)) {
        if ([datetime]::UtcNow -gt $deadline) { throw 'grandchild pid file did not appear' }
        Start-Sleep -Milliseconds 20
    }
    $grand = [int](Get-Content -LiteralPath $grandFile -Raw).Trim()
    Write-Pids "$($tree.Id) $grand $($graceful.Id) $($stubborn.Id) $($plain.Id) $sb $PID"
} catch {
    [Console]::Error.WriteLine("SESSION SCRIPT FAILED: $_")
    exit 99
}
switch ($Mode) {
    'exit' { exit 0 }
    'end' { }
    'failfast' { [Environment]::FailFast('x') }
    'removemodule' {
        Remove-Module ProcessKit
        [System.IO.File]::WriteAllText((Join-Path $Dir 'removed'), "removed`n")
        Start-Sleep -Seconds 300
    }
    default { Start-Sleep -Seconds 300 }
}
'@

        $PwshCommand = @(Get-PwshCommand)

        function Test-Gone([int] $Id, [uint64] $StartTicks = 0) {
            # Absent, a zombie, or (with StartTicks) a different process under a reused pid.
            -not (Test-PidAlive -Id $Id -StartTicks $StartTicks)
        }

        function Get-SessionOutput($Session) {
            try { (@(Receive-ChildProcess $Session -Keep -ErrorAction SilentlyContinue 2>&1) | Out-String).Trim() } catch { "<no output: $_>" }
        }

        function Start-Session {
            # Starts the session script in a new pwsh as a non-daemon child of this test process (so it has default
            # signal dispositions); the script drops the PROCESSKIT_* variables to act as a top-level session.
            param([Parameter(Mandatory)][string] $Dir, [Parameter(Mandatory)][string] $Mode, [string] $Extra = '')
            $null = New-Item -ItemType Directory -Path $Dir -Force
            $argList = @($PwshCommand | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-File', $SessionScript, $ModulePath, $Dir, $Mode, $Extra)
            $s = Start-ChildProcess -FilePath $PwshCommand[0] -ArgumentList $argList -Name "session-$Mode"
            Register-ExtraPid -Id $s.Id
            $s
        }

        function Read-SessionPids {
            # Waits for the session's pid file; fails early, with the session's output, if the session exits first.
            param([Parameter(Mandatory)] $Session, [Parameter(Mandatory)][string] $Dir, [int] $Count = 7)
            $file = Join-Path $Dir 'pids'
            $ok = Wait-Until -Timeout 90 -IntervalMs 50 { (Test-Path -LiteralPath $file) -or -not $Session.IsAlive }
            if (-not (Test-Path -LiteralPath $file)) {
                throw "The session script did not write its pids (ok=$ok, alive=$($Session.IsAlive), exit=$($Session.ExitCode)). Output: $(Get-SessionOutput $Session)"
            }
            $ids = @(Read-PidFile -Path $file -Count $Count -Timeout 5)
            $ids
        }

        function Get-Tree {
            # Names the pids of a standard session (see the session script).
            param([int[]] $Ids)
            $t = [ordered]@{
                Tree = $Ids[0]; Grand = $Ids[1]; Graceful = $Ids[2]; Stubborn = $Ids[3]; Plain = $Ids[4]; ScriptBlock = $Ids[5]; Session = $Ids[6]
            }
            $t.GrandTicks = (Get-PidStat -Id $t.Grand).StartTicks
            $t
        }

        function Get-DaemonPids($T) {
            $d = [ordered]@{ 'daemon-tree' = $T.Tree; 'grandchild' = $T.Grand; 'daemon-graceful' = $T.Graceful; 'daemon-stubborn' = $T.Stubborn }
            if ($T.ScriptBlock) { $d['extra-daemon'] = $T.ScriptBlock }
            $d
        }

        function Wait-ProcessGone {
            # Polls every 50 ms (bound $Timeout s) until $Id is gone (absent or zombie). Returns $true when gone.
            param([int] $Id, [double] $Timeout = 10)
            Wait-Until -Timeout $Timeout -IntervalMs 50 { Test-Gone -Id $Id }
        }

        function Measure-Gone {
            # From now (the moment the session was observed gone), polls every 20 ms up to $Bound s; returns, per
            # name, the ms after which that pid was first seen gone, or $null if it was still alive at the bound.
            param([System.Collections.IDictionary] $Pids, [hashtable] $Ticks = @{}, [double] $Bound = $GoneBound)
            $sw = [System.Diagnostics.Stopwatch]::StartNew()
            $result = [ordered]@{}
            foreach ($k in $Pids.Keys) { $result[$k] = $null }
            while ($true) {
                foreach ($k in $Pids.Keys) {
                    if ($null -eq $result[$k]) {
                        $t = if ($Ticks.ContainsKey($k)) { [uint64]$Ticks[$k] } else { [uint64]0 }
                        if (Test-Gone -Id $Pids[$k] -StartTicks $t) { $result[$k] = [int]$sw.ElapsedMilliseconds }
                    }
                }
                if (@($result.Values | Where-Object { $null -eq $_ }).Count -eq 0) { break }
                if ($sw.Elapsed.TotalSeconds -ge $Bound) { break }
                Start-Sleep -Milliseconds 20
            }
            $result
        }

        function Get-Leftovers($Measured, $Pids) {
            # "name pid (comm, state)" for everything still alive, for failure messages.
            @(foreach ($k in $Measured.Keys) {
                    if ($null -eq $Measured[$k]) {
                        $st = Get-PidStat -Id $Pids[$k]
                        if ($st) { "$k pid $($Pids[$k]) ($($st.Comm), state $($st.State))" } else { "$k pid $($Pids[$k])" }
                    }
                }) -join '; '
        }

        function Assert-DaemonsEnded {
            # The shared assertions after a session ended: every daemon and the grandchild gone within $GoneBound s
            # of the session being gone, the non-daemon alive, the graceful step taken.
            param($T, [string] $Dir, [string] $Ending, [int] $SessionGoneMs = -1)
            $pids = Get-DaemonPids $T
            $measured = Measure-Gone -Pids $pids -Ticks @{ grandchild = $T.GrandTicks }
            $Timings.Add([pscustomobject]@{ Ending = $Ending; SessionEndMs = $SessionGoneMs; Gone = $measured })
            $left = Get-Leftovers $measured $pids
            $left | Should -BeNullOrEmpty -Because "nothing of a daemon may be left $GoneBound s after its session process is gone ($Ending)"
            Test-PidAlive -Id $T.Plain | Should -BeTrue -Because "a non-daemon child is left running when its session ends ($Ending)"
            $flush = Join-Path $Dir 'flushed'
            Test-Path -LiteralPath $flush | Should -BeTrue -Because "daemons get SIGTERM (and a grace period) before SIGKILL ($Ending)"
            (Get-Content -LiteralPath $flush -Raw).Trim() | Should -Be 'flushed'
        }

        function Get-SessionLog([string] $Dir) {
            $f = Join-Path $Dir 'session.log'
            if (Test-Path -LiteralPath $f) { Get-Content -LiteralPath $f -Raw } else { '' }
        }

        function Get-SigIgnMask([int] $Id) {
            $line = Get-Content -LiteralPath "/proc/$Id/status" | Where-Object { $_ -like 'SigIgn:*' }
            [Convert]::ToUInt64(($line -split '\s+')[1], 16)
        }
    }

    AfterEach { Clear-TestProcess }
    AfterAll {
        Clear-TestProcess
        if ($Timings.Count) {
            Write-Host 'Daemon end timings, ms after the session process was observed gone ("session" = ms from the ending action until then):'
            foreach ($row in $Timings) {
                $gone = @($row.Gone.GetEnumerator() | ForEach-Object { '{0} {1}' -f $_.Key, $(if ($null -eq $_.Value) { 'LEFT' } else { $_.Value }) }) -join ', '
                Write-Host ('  {0,-42} session {1,5}; {2}' -f $row.Ending, $row.SessionEndMs, $gone)
            }
        }
    }

    Context 'the session process ends' {
        It 'session process ends by <Ending>: daemons and their groups are gone within 2 s, the non-daemon keeps running' -ForEach @(
            @{ Ending = 'exit'; Mode = 'exit'; Signal = $null; Extra = '' }
            @{ Ending = 'end of a -File script'; Mode = 'end'; Signal = $null; Extra = '' }
            @{ Ending = 'SIGTERM'; Mode = 'block'; Signal = 'TERM'; Extra = '' }
            @{ Ending = 'SIGHUP'; Mode = 'block'; Signal = 'HUP'; Extra = '' }
            @{ Ending = 'SIGINT'; Mode = 'block'; Signal = 'INT'; Extra = '' }
            @{ Ending = 'SIGKILL'; Mode = 'block'; Signal = 'KILL'; Extra = 'scriptblock' }
            @{ Ending = 'a crash (FailFast)'; Mode = 'failfast'; Signal = $null; Extra = '' }
        ) {
            $dir = Join-Path $TestDrive (New-TestName 'end')
            $session = Start-Session -Dir $dir -Mode $Mode -Extra $Extra
            $t = Get-Tree (Read-SessionPids -Session $session -Dir $dir)
            $t.Session | Should -Be $session.Id -Because 'pwsh.dll runs in the process Start-ChildProcess started'
            $sw = [System.Diagnostics.Stopwatch]::StartNew()
            if ($Signal) {
                foreach ($id in $t.Tree, $t.Grand, $t.Graceful, $t.Stubborn, $t.Plain) { Test-PidAlive -Id $id | Should -BeTrue }
                if ($t.ScriptBlock) { Test-PidAlive -Id $t.ScriptBlock | Should -BeTrue }
                if ($Signal -eq 'INT') {
                    ((Get-SigIgnMask $t.Session) -band 2) | Should -Be 0 -Because 'the session must have SIGINT at its default disposition for this test to mean anything'
                }
                Send-Signal -Id $t.Session -Signal $Signal
            }
            Wait-ProcessGone -Id $t.Session -Timeout 10 | Should -BeTrue -Because "the session pwsh must end by $Ending. Output: $(Get-SessionOutput $session)"
            $sessionGoneMs = [int]$sw.ElapsedMilliseconds

            Assert-DaemonsEnded -T $t -Dir $dir -Ending $Ending -SessionGoneMs $sessionGoneMs

            $log = Get-SessionLog $dir
            switch ($Ending) {
                'exit' {
                    $log | Should -Match ([regex]::Escape("[INFO/MainProcess] ending daemon daemon-tree (pid $($t.Tree)) because")) -Because "the session logs ending its daemons at Info. Log:`n$log"
                }
                'SIGKILL' {
                    $log | Should -Match ([regex]::Escape("[INFO/MainProcess] session process $($t.Session) is gone; sending SIGTERM to daemon process group $($t.Tree)")) -Because "the guardian logs ending the daemons of a killed session. Log:`n$log"
                }
                default {
                    # Either path (in-process or the guardian) must have logged ending the tree daemon.
                    $log | Should -Match ("\[INFO/MainProcess\] (ending daemon daemon-tree \(pid $($t.Tree)\) because|session process $($t.Session) is gone; sending SIGTERM to daemon process group $($t.Tree)\b)") -Because "ending daemons at session end is logged at Info. Log:`n$log"
                }
            }
        }

        It '<Ending>: a daemon that writes to its captured stderr while handling SIGTERM still completes its graceful step' -ForEach @(
            @{ Ending = 'exit'; Mode = 'exit'; Signal = $null }   # control: the session still reads the pipe
            @{ Ending = 'SIGKILL'; Mode = 'block'; Signal = 'KILL' }
            @{ Ending = 'SIGTERM'; Mode = 'block'; Signal = 'TERM' }
        ) {
            # The issue's example daemon, with default capture, that writes to stderr on its way out. Once the
            # session process is gone nobody reads that pipe, and the write raises SIGPIPE (default disposition in
            # children), which ends the daemon before its handler completes: its graceful step is lost.
            $dir = Join-Path $TestDrive (New-TestName 'talk')
            $session = Start-Session -Dir $dir -Mode $Mode -Extra 'talker'
            $t = Get-Tree (Read-SessionPids -Session $session -Dir $dir)
            if ($Signal) {
                Test-PidAlive -Id $t.ScriptBlock | Should -BeTrue
                Send-Signal -Id $t.Session -Signal $Signal
            }
            Wait-ProcessGone -Id $t.Session -Timeout 10 | Should -BeTrue
            $pids = [ordered]@{ 'daemon-talker' = $t.ScriptBlock; 'daemon-tree' = $t.Tree; 'grandchild' = $t.Grand }
            $measured = Measure-Gone -Pids $pids -Ticks @{ grandchild = $t.GrandTicks }
            $Timings.Add([pscustomobject]@{ Ending = "$Ending (talker)"; SessionEndMs = -1; Gone = $measured })
            Get-Leftovers $measured $pids | Should -BeNullOrEmpty
            Test-PidAlive -Id $t.Plain | Should -BeTrue
            Test-Path -LiteralPath (Join-Path $dir 'talker-flushed') | Should -BeTrue -Because ("the daemon must get to run its SIGTERM handler (session ended by $Ending); it writes to its " +
                'captured stderr first, and with the session no longer reading that pipe the write raises SIGPIPE, which ends it before the handler completes')
        }

        It 'Remove-Module ProcessKit ends the daemons while the session process lives on; the non-daemon keeps running' {
            $dir = Join-Path $TestDrive (New-TestName 'rm')
            $session = Start-Session -Dir $dir -Mode 'removemodule'
            $t = Get-Tree (Read-SessionPids -Session $session -Dir $dir)
            $marker = Join-Path $dir 'removed'
            $sw = [System.Diagnostics.Stopwatch]::StartNew()
            Wait-Until -Timeout 30 -IntervalMs 20 { (Test-Path -LiteralPath $marker) -or -not $session.IsAlive } | Should -BeTrue
            Test-Path -LiteralPath $marker | Should -BeTrue -Because "Remove-Module ProcessKit must complete in the session. Output: $(Get-SessionOutput $session)"
            $removeMs = [int]$sw.ElapsedMilliseconds

            Assert-DaemonsEnded -T $t -Dir $dir -Ending 'Remove-Module' -SessionGoneMs $removeMs
            Test-PidAlive -Id $t.Session | Should -BeTrue -Because 'the session process itself keeps running after Remove-Module'
            $log = Get-SessionLog $dir
            $log | Should -Match ([regex]::Escape("[INFO/MainProcess] ending daemon daemon-tree (pid $($t.Tree)) because")) -Because "Log:`n$log"
        }
    }

    Context 'the runspace that started them closes' {
        It 'closing the runspace (process lives on) ends daemons gracefully within 2 s, honours -GracePeriod, logs at Info, leaves the non-daemon' {
            $dir = Join-Path $TestDrive (New-TestName 'rs')
            $null = New-Item -ItemType Directory -Path $dir -Force
            $logFile = Join-Path $dir 'rs.log'
            $grandFile = Join-Path $dir 'grand.pid'
            $flushFile = Join-Path $dir 'flushed'
            $rs = [runspacefactory]::CreateRunspace()
            $rs.Open()
            $ps = [powershell]::Create()
            $ps.Runspace = $rs
            $closed = $false
            try {
                $null = $ps.AddScript({
                        param($ModulePath, $LogFile, $GrandFile, $FlushFile)
                        Import-Module $ModulePath
                        Enable-ChildProcessLog -Level Info -Path $LogFile
                        Start-ChildProcess -FilePath sh -ArgumentList '-c', 'sleep 300 & echo $! > "$1.tmp"; mv "$1.tmp" "$1"; wait', 'sh', $GrandFile -Daemon -Name daemon-tree
                        Start-ChildProcess -FilePath sh -ArgumentList '-c', 'F=$1; trap ''echo flushed > "$F"; exit 0'' TERM; while :; do sleep 0.1; done', 'sh', $FlushFile -Daemon -Name daemon-graceful
                        Start-ChildProcess -FilePath sh -ArgumentList '-c', 'trap "" TERM; while :; do sleep 0.1; done' -Daemon -Name daemon-stubborn -GracePeriod 0.5
                        Start-ChildProcess -FilePath sleep -ArgumentList 300 -Name plain
                    }).AddArgument($ModulePath).AddArgument($logFile).AddArgument($grandFile).AddArgument($flushFile)
                $kids = @($ps.Invoke())
                $ps.Streams.Error.Count | Should -Be 0 -Because "the inner runspace must start its children: $($ps.Streams.Error | Out-String)"
                $kids.Count | Should -Be 4
                $tree, $graceful, $stubborn, $plain = $kids
                Register-ExtraPid -Id $tree.Id, $graceful.Id, $stubborn.Id, $plain.Id
                $grand = (Read-PidFile -Path $grandFile -Timeout 30)[0]
                $t = @{ Tree = $tree.Id; Grand = $grand; Graceful = $graceful.Id; Stubborn = $stubborn.Id; Plain = $plain.Id; ScriptBlock = 0 }
                $t.GrandTicks = (Get-PidStat -Id $grand).StartTicks
                foreach ($id in $t.Tree, $t.Grand, $t.Graceful, $t.Stubborn, $t.Plain) { Test-PidAlive -Id $id | Should -BeTrue }

                $sw = [System.Diagnostics.Stopwatch]::StartNew()
                $rs.Close()
                $closed = $true
                $closeMs = [int]$sw.ElapsedMilliseconds
                # Measured from the start of Close(): the bound applies to the runspace ending.
                $pids = Get-DaemonPids $t
                $measured = Measure-Gone -Pids $pids -Ticks @{ grandchild = $t.GrandTicks } -Bound ($GoneBound - $sw.Elapsed.TotalSeconds)
                foreach ($k in @($measured.Keys)) { if ($null -ne $measured[$k]) { $measured[$k] += $closeMs } }
                $Timings.Add([pscustomobject]@{ Ending = 'runspace Close() (times from Close start)'; SessionEndMs = $closeMs; Gone = $measured })
                Get-Leftovers $measured $pids | Should -BeNullOrEmpty -Because 'daemons end when the runspace that started them closes'
                Test-PidAlive -Id $t.Plain | Should -BeTrue -Because 'a non-daemon child is left running'
                Test-Path -LiteralPath $flushFile | Should -BeTrue -Because 'daemons get SIGTERM first'
                $graceful.ExitCode | Should -Be 0 -Because 'the graceful daemon exited from its SIGTERM trap'
                $stubborn.ExitCode | Should -Be -9 -Because 'a daemon that ignores SIGTERM is SIGKILLed after its grace period'
                $measured['daemon-stubborn'] | Should -BeGreaterOrEqual 400 -Because 'with -GracePeriod 0.5 the SIGKILL comes only after the grace period'
                $tree.ExitCode | Should -Be -15

                $log = if (Test-Path -LiteralPath $logFile) { Get-Content -LiteralPath $logFile -Raw } else { '' }
                # This test process logs as MainProcess (or under its own name if it is itself a ProcessKit child).
                $self = if ($env:PROCESSKIT_NAME) { $env:PROCESSKIT_NAME } else { 'MainProcess' }
                $log | Should -Match ([regex]::Escape("[INFO/$self] ending daemon daemon-tree (pid $($t.Tree)) because")) -Because "Log:`n$log"
                $log | Should -Match ([regex]::Escape("[INFO/$self] ending daemon daemon-stubborn (pid $($t.Stubborn)) because"))
            } finally {
                if (-not $closed) { try { $rs.Close() } catch { <# already broken or closed: disposal follows #> } }
                $rs.Dispose()
                $ps.Dispose()
                Disable-ChildProcessLog
            }
        }
    }

    Context 'no stray signals, no leaked descriptors' {
        It 'a daemon that exited before its session was SIGKILLed gets no signal sent to its (reused) pid or group' {
            $dir = Join-Path $TestDrive (New-TestName 'stale')
            $session = Start-Session -Dir $dir -Mode 'stale'
            $stale, $live, $sessionPid = Read-SessionPids -Session $session -Dir $dir -Count 3
            $sessionPid | Should -Be $session.Id
            Test-Path -LiteralPath "/proc/$stale" | Should -BeFalse -Because 'the stale daemon exited and was reaped'
            Test-PidAlive -Id $live | Should -BeTrue

            # An unrelated process, not started by ProcessKit, leading its own session and group. Where the kernel
            # lets us (root, ns_last_pid), it gets the stale daemon's pid, so it IS process group <stale>: exactly
            # what a stale registration would signal.
            $unrelated = $null
            $reused = $false
            $warm = [System.Diagnostics.Process]::Start('/bin/true'); $warm.WaitForExit(); $warm.Dispose()
            for ($attempt = 0; $attempt -lt 40 -and -not $reused; $attempt++) {
                if ($unrelated) { try { $unrelated.Kill() } catch { <# it may have exited already #> }; $unrelated.WaitForExit(5000); $unrelated.Dispose(); $unrelated = $null }
                try { [System.IO.File]::WriteAllText('/proc/sys/kernel/ns_last_pid', [string]($stale - 1)) } catch { <# not writable here: pid reuse is then left to chance, and the attempt loop retries #> }
                $setsid = @('/usr/bin/setsid', '/bin/setsid') | Where-Object { Test-Path -LiteralPath $_ } | Select-Object -First 1
                $psi = if ($setsid) { [System.Diagnostics.ProcessStartInfo]::new($setsid) } else { [System.Diagnostics.ProcessStartInfo]::new('sleep') }
                if ($setsid) { $psi.ArgumentList.Add('sleep') }
                $psi.ArgumentList.Add('300')
                $psi.UseShellExecute = $false
                $unrelated = [System.Diagnostics.Process]::Start($psi)
                Register-ExtraPid -Id $unrelated.Id
                $reused = $unrelated.Id -eq $stale
                if (-not (Test-Path -LiteralPath '/proc/sys/kernel/ns_last_pid') -or (Test-Path -LiteralPath "/proc/$stale")) {
                    if (-not $reused) { break }
                }
            }
            try {
                Write-Host "  stale daemon pid $stale; unrelated process pid $($unrelated.Id) (pid reused: $reused)"
                Wait-Until -Timeout 5 { (Get-PidStat -Id $unrelated.Id).Comm -eq 'sleep' } | Should -BeTrue
                if ($reused -and $setsid) { (Get-PidStat -Id $unrelated.Id).ProcessGroupId | Should -Be $stale }

                Send-Signal -Id $sessionPid -Signal KILL
                Wait-ProcessGone -Id $sessionPid -Timeout 10 | Should -BeTrue
                Wait-ProcessGone -Id $live -Timeout $GoneBound | Should -BeTrue -Because 'the live daemon still ends with its killed session'
                Start-Sleep -Milliseconds 500   # the guardian signals every group before it polls; give it time anyway
                Test-PidAlive -Id $unrelated.Id | Should -BeTrue -Because 'an unrelated process must never be signalled for a daemon that already exited'
                $unrelated.HasExited | Should -BeFalse
                $log = Get-SessionLog $dir
                $log | Should -Match ([regex]::Escape("session process $sessionPid is gone; sending SIGTERM to daemon process group $live")) -Because "Log:`n$log"
                $log | Should -Not -Match "daemon process group $stale\b" -Because "the guardian must have forgotten the exited daemon. Log:`n$log"
            } finally {
                if ($unrelated) { try { $unrelated.Kill() } catch { <# it may have exited already #> }; $null = $unrelated.WaitForExit(5000); $unrelated.Dispose() }
            }
        }

        It 'children hold only fds 0, 1 and 2 (five children, daemons and not, report the same count)' {
            # A daemon first, so the guardian and its pipe exist while the others start.
            $first = Start-ChildProcess -FilePath sleep -ArgumentList 300 -Daemon
            $kids = @($first) + @(1..4 | ForEach-Object {
                    if ($_ % 2) { Start-ChildProcess -FilePath sleep -ArgumentList 300 }
                    else { Start-ChildProcess -FilePath sh -ArgumentList '-c', 'exec sleep 300' -Daemon }
                })
            $kids.Count | Should -Be 5
            $counts = foreach ($k in $kids) {
                Wait-Until -Timeout 10 { (Get-PidStat -Id $k.Id).Comm -eq 'sleep' } | Should -BeTrue
                $fds = @(Get-ChildItem -LiteralPath "/proc/$($k.Id)/fd" -Name | ForEach-Object { [int]$_ } | Sort-Object)
                $targets = @($fds | ForEach-Object { "$_ -> $((Get-Item -LiteralPath "/proc/$($k.Id)/fd/$_").LinkTarget)" }) -join ', '
                ($fds -join ',') | Should -Be '0,1,2' -Because "child $($k.Name) (pid $($k.Id), daemon $($k.Daemon)) must hold no inherited descriptors: $targets"
                $fds.Count
            }
            @($counts | Sort-Object -Unique).Count | Should -Be 1
        }
    }
}
