#Requires -Version 7.4
# Wait-ChildProcess and Stop-ChildProcess.

Describe 'Wait-ChildProcess' {
    BeforeAll {
        Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
        $ModulePath = Get-ProcessKitModulePath
        Import-Module $ModulePath -Force
    }
    AfterAll { Clear-TestProcess }
    AfterEach { Clear-TestProcess }

    It 'waits until the child exits and outputs nothing without -PassThru' {
        $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'sleep 0.3; exit 2'
        $out = @(Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop)
        $out.Count | Should -Be 0
        $p.IsAlive | Should -BeFalse
        Test-ChildProcess $p | Should -BeFalse
        Get-ChildExitCode $p | Should -Be 2
    }

    It 'waits forever without -Timeout (child that exits)' {
        $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'sleep 0.2'
        Wait-ChildProcess $p
        Test-ChildProcess $p | Should -BeFalse
        Get-ChildExitCode $p | Should -Be 0
    }

    It 'accepts the child from the pipeline: $p | Wait-ChildProcess' {
        $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'sleep 0.2; exit 3'
        $p | Wait-ChildProcess -Timeout 60 -ErrorAction Stop
        Get-ChildExitCode $p | Should -Be 3
    }

    It 'waits for all of several children: Wait-ChildProcess $a, $b' {
        $a = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'sleep 0.2; exit 4'
        $b = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'sleep 0.6; exit 5'
        Wait-ChildProcess $a, $b -Timeout 60 -ErrorAction Stop
        Test-ChildProcess $a, $b | Should -Be @($false, $false)
        Get-ChildExitCode $a, $b | Should -Be @(4, 5)
    }

    It '-PassThru outputs the exited children' {
        $a = Start-ChildProcess -FilePath true
        $b = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'sleep 0.2'
        $out = @(Wait-ChildProcess $a, $b -Timeout 60 -PassThru -ErrorAction Stop)
        $out.Count | Should -Be 2
        foreach ($o in $out) { $o.PSObject.TypeNames | Should -Contain 'ProcessKit.ChildProcess' }
        ($out.Id | Sort-Object) | Should -Be (@($a.Id, $b.Id) | Sort-Object)
        foreach ($o in $out) { $o.IsAlive | Should -BeFalse }
    }

    It '-Any returns when the first child exits and leaves the others running' {
        $slow = Start-ChildProcess -FilePath sleep -ArgumentList 300
        $fast = Start-ChildProcess -FilePath true
        $out = @(Wait-ChildProcess $slow, $fast -Any -Timeout 60 -PassThru -ErrorAction Stop)
        Test-ChildProcess $fast | Should -BeFalse
        Test-ChildProcess $slow | Should -BeTrue
        $out.Id | Should -Contain $fast.Id
        $out.Id | Should -Not -Contain $slow.Id
    }

    It '-Any with a child that had already exited returns at once' {
        $done = Start-ChildProcess -FilePath true
        Wait-ChildProcess $done -Timeout 60 -ErrorAction Stop
        $slow = Start-ChildProcess -FilePath sleep -ArgumentList 300
        $sw = [Diagnostics.Stopwatch]::StartNew()
        Wait-ChildProcess $slow, $done -Any -Timeout 30 -ErrorVariable ev -ErrorAction SilentlyContinue
        $sw.Elapsed.TotalSeconds | Should -BeLessThan 10
        $ev | Should -BeNullOrEmpty
        Test-ChildProcess $slow | Should -BeTrue
    }

    It 'on an already-exited child returns at once without error' {
        $p = Start-ChildProcess -FilePath true
        Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop
        $sw = [Diagnostics.Stopwatch]::StartNew()
        Wait-ChildProcess $p -Timeout 30 -ErrorVariable ev -ErrorAction SilentlyContinue
        $sw.Elapsed.TotalSeconds | Should -BeLessThan 10
        $ev | Should -BeNullOrEmpty
        # and with no timeout at all
        Wait-ChildProcess $p
        Get-ChildExitCode $p | Should -Be 0
    }

    It 'on a child that exited while nobody waited counts it at once' {
        $p = Start-ChildProcess -FilePath true
        Wait-Until { -not (Test-ChildProcess $p) } -Timeout 30 | Should -BeTrue
        Wait-ChildProcess $p -Timeout 0 -ErrorVariable ev -ErrorAction SilentlyContinue
        $ev | Should -BeNullOrEmpty
    }

    It '-Timeout on a running child: non-terminating ChildProcessWaitTimeout naming it, child left running' {
        $name = New-TestName 'sleeper'
        $p = Start-ChildProcess -FilePath sleep -ArgumentList 300 -Name $name
        $sw = [Diagnostics.Stopwatch]::StartNew()
        # non-terminating: with SilentlyContinue a terminating error would still throw here and fail the test
        Wait-ChildProcess $p -Timeout 0.3 -ErrorVariable ev -ErrorAction SilentlyContinue
        $sw.Elapsed.TotalSeconds | Should -BeLessThan 10
        $ev.Count | Should -Be 1
        $ev[0].FullyQualifiedErrorId | Should -BeLike 'ChildProcessWaitTimeout*'
        "$($ev[0])" | Should -Match ([regex]::Escape($name))
        Test-ChildProcess $p | Should -BeTrue
        $p.IsAlive | Should -BeTrue
        Test-PidAlive -Id $p.Id | Should -BeTrue
    }

    It '-Timeout names only the children still running' {
        $slowName = New-TestName 'slowone'
        $fastName = New-TestName 'fastone'
        $slow = Start-ChildProcess -FilePath sleep -ArgumentList 300 -Name $slowName
        $fast = Start-ChildProcess -FilePath true -Name $fastName
        Wait-Until { -not (Test-ChildProcess $fast) } -Timeout 30 | Should -BeTrue
        Wait-ChildProcess $slow, $fast -Timeout 0.5 -ErrorVariable ev -ErrorAction SilentlyContinue
        @($ev | Where-Object FullyQualifiedErrorId -Like 'ChildProcessWaitTimeout*').Count | Should -BeGreaterThan 0
        $text = ($ev | ForEach-Object { "$_" }) -join "`n"
        $text | Should -Match ([regex]::Escape($slowName))
        $text | Should -Not -Match ([regex]::Escape($fastName))
        Test-ChildProcess $slow | Should -BeTrue
    }

    It '-Timeout 0 polls: error for a running child, returns at once' {
        $p = Start-ChildProcess -FilePath sleep -ArgumentList 300
        $sw = [Diagnostics.Stopwatch]::StartNew()
        Wait-ChildProcess $p -Timeout 0 -ErrorVariable ev -ErrorAction SilentlyContinue
        $sw.Elapsed.TotalSeconds | Should -BeLessThan 10
        $ev.Count | Should -Be 1
        $ev[0].FullyQualifiedErrorId | Should -BeLike 'ChildProcessWaitTimeout*'
        Test-ChildProcess $p | Should -BeTrue
    }

    It 'timeout with -ErrorAction Stop throws ChildProcessWaitTimeout' {
        $p = Start-ChildProcess -FilePath sleep -ArgumentList 300
        { Wait-ChildProcess $p -Timeout 0.2 -ErrorAction Stop } | Should -Throw -ErrorId 'ChildProcessWaitTimeout*'
        Test-ChildProcess $p | Should -BeTrue
    }

    It 'accepts a fractional -Timeout and waits at least part of it' {
        $p = Start-ChildProcess -FilePath sleep -ArgumentList 300
        $sw = [Diagnostics.Stopwatch]::StartNew()
        Wait-ChildProcess $p -Timeout 0.5 -ErrorAction SilentlyContinue
        $sw.Elapsed.TotalSeconds | Should -BeGreaterOrEqual 0.4
        $sw.Elapsed.TotalSeconds | Should -BeLessThan 10
    }

    It 'returns after the child exits even when -Timeout is large' {
        $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'sleep 0.3'
        $sw = [Diagnostics.Stopwatch]::StartNew()
        Wait-ChildProcess $p -Timeout 300 -ErrorAction Stop
        $sw.Elapsed.TotalSeconds | Should -BeLessThan 60
        Test-ChildProcess $p | Should -BeFalse
    }

    It 'does not burn CPU while waiting (event-driven, no busy loop)' {
        # Measured in a fresh pwsh: this long-lived test process has background JIT/GC work that would blur the number.
        # Tiered compilation is off there so the JIT does not recompile in the background during the measurement.
        $script = Join-Path $TestDrive 'cpu.ps1'
        $result = Join-Path $TestDrive 'cpu.txt'
        Set-Content -LiteralPath $script -Value @'
param([string] $ModulePath, [string] $Result)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$warm = Start-ChildProcess -FilePath true
Wait-ChildProcess $warm -Timeout 60
$me = [System.Diagnostics.Process]::GetCurrentProcess()
$p = Start-ChildProcess -FilePath sleep -ArgumentList 3
$me.Refresh(); $before = $me.TotalProcessorTime
$sw = [System.Diagnostics.Stopwatch]::StartNew()
Wait-ChildProcess $p -Timeout 60
$wall = $sw.Elapsed.TotalSeconds
$me.Refresh(); $cpu = ($me.TotalProcessorTime - $before).TotalSeconds
Set-Content -LiteralPath $Result -Value ('{0} {1}' -f $cpu.ToString([cultureinfo]::InvariantCulture), $wall.ToString([cultureinfo]::InvariantCulture))
'@
        $saved = $env:DOTNET_TieredCompilation
        $env:DOTNET_TieredCompilation = '0'
        try {
            $proc = Start-PwshScript -ScriptPath $script -ArgumentList $ModulePath, $result -LogPath (Join-Path $TestDrive 'cpu.log')
        } finally {
            $env:DOTNET_TieredCompilation = $saved
        }
        try {
            $proc.WaitForExit(120000) | Should -BeTrue
            $proc.ExitCode | Should -Be 0 -Because (Get-Content -Raw -LiteralPath (Join-Path $TestDrive 'cpu.log') -ErrorAction SilentlyContinue)
        } finally {
            if (-not $proc.HasExited) { $proc.Kill() }
            $proc.Dispose()
        }
        $cpu, $wall = [double[]](-split (Get-Content -LiteralPath $result -Raw))
        $wall | Should -BeGreaterThan 2
        # a spinning wait uses about one core for the whole wait (~3 s); an event-driven one next to nothing
        $cpu | Should -BeLessThan ($wall * 0.4) -Because "waiting $([math]::Round($wall, 2)) s used $([math]::Round($cpu, 2)) s of CPU"
    }

    It 'is stopped like Ctrl+C (PowerShell.Stop) promptly and leaves the child running' {
        $rs = [runspacefactory]::CreateRunspace()
        $rs.Open()
        $ps = [powershell]::Create()
        $ps.Runspace = $rs
        try {
            $null = $ps.AddScript("Import-Module '$ModulePath'; `$c = Start-ChildProcess -FilePath sleep -ArgumentList 300; `$c.Id")
            $childId = [int]($ps.Invoke() | Select-Object -Last 1)
            Register-ExtraPid -Id $childId
            $ps.Commands.Clear()
            $null = $ps.AddScript("Wait-ChildProcess -Id $childId")
            $async = $ps.BeginInvoke()
            Wait-Until { $ps.InvocationStateInfo.State -eq 'Running' } -Timeout 30 | Should -BeTrue
            Start-Sleep -Milliseconds 500   # let Wait-ChildProcess block
            $ps.InvocationStateInfo.State | Should -Be 'Running' -Because 'the child runs for 300 s, so the wait must still be blocked'
            $stop = $ps.BeginStop($null, $null)
            $stop.AsyncWaitHandle.WaitOne([timespan]::FromSeconds(15)) | Should -BeTrue -Because 'stopping the pipeline must interrupt Wait-ChildProcess promptly'
            $ps.InvocationStateInfo.State | Should -Be 'Stopped'
            Test-PidAlive -Id $childId | Should -BeTrue
            $ps.Commands.Clear()
            $null = $ps.AddScript("Test-ChildProcess -Id $childId")
            $ps.Invoke() | Should -Be $true
        } finally {
            # kill the child first: if Stop did not work, this unblocks the wait
            & /bin/sh -c 'kill -9 "$1" 2>/dev/null' sh $childId
            try {
                $ps.Commands.Clear()
                $null = $ps.AddScript('Get-ChildProcess | Remove-ChildProcess -Force -ErrorAction SilentlyContinue')
                $null = $ps.Invoke()
            } catch { <# cleanup of a runspace the test may have broken: the outer AfterEach cleans up too #> }
            $ps.Dispose()
            $rs.Dispose()
        }
    }
}

Describe 'Stop-ChildProcess' {
    BeforeAll {
        Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
        $ModulePath = Get-ProcessKitModulePath
        Import-Module $ModulePath -Force
    }
    AfterAll { Clear-TestProcess }
    AfterEach { Clear-TestProcess }

    It 'sends SIGTERM and returns after the child exited (-15, not alive, reaped)' {
        $p = Start-ChildProcess -FilePath sleep -ArgumentList 300
        $out = @(Stop-ChildProcess $p)
        $out.Count | Should -Be 0
        $p.IsAlive | Should -BeFalse
        Test-ChildProcess $p | Should -BeFalse
        Get-ChildExitCode $p | Should -Be -15
        "$($p.State)" | Should -BeExactly 'Stopped'
        $p.ExitTime | Should -Not -BeNullOrEmpty
        Test-PidAlive -Id $p.Id | Should -BeFalse
        Test-ZombieOfSession -Id $p.Id | Should -BeFalse
    }

    It '-Force sends SIGKILL at once (-9)' {
        $p = Start-ChildProcess -FilePath sleep -ArgumentList 300
        Stop-ChildProcess $p -Force
        Get-ChildExitCode $p | Should -Be -9
        Test-PidAlive -Id $p.Id | Should -BeFalse
        Test-ZombieOfSession -Id $p.Id | Should -BeFalse
    }

    It '-PassThru outputs the stopped child' {
        $p = Start-ChildProcess -FilePath sleep -ArgumentList 300
        $out = @(Stop-ChildProcess $p -PassThru)
        $out.Count | Should -Be 1
        $out[0].Id | Should -Be $p.Id
        $out[0].ExitCode | Should -Be -15
        $out[0].IsAlive | Should -BeFalse
    }

    It '-WhatIf leaves the child running' {
        $p = Start-ChildProcess -FilePath sleep -ArgumentList 300
        Stop-ChildProcess $p -WhatIf
        Test-ChildProcess $p | Should -BeTrue
        Get-ChildExitCode $p | Should -BeNullOrEmpty
        Start-Sleep -Milliseconds 300
        Test-PidAlive -Id $p.Id | Should -BeTrue
    }

    It 'a child that already exited is left as it is, with no error' {
        $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'exit 3'
        Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop
        Stop-ChildProcess $p -ErrorVariable ev -ErrorAction SilentlyContinue
        $ev | Should -BeNullOrEmpty
        Get-ChildExitCode $p | Should -Be 3
        "$($p.State)" | Should -BeExactly 'Failed'
        Stop-ChildProcess $p -Force -ErrorVariable ev2 -ErrorAction SilentlyContinue
        $ev2 | Should -BeNullOrEmpty
        Get-ChildExitCode $p | Should -Be 3
    }

    It 'stops every child from the pipeline: Get-ChildProcess | Stop-ChildProcess' {
        $kids = 1..3 | ForEach-Object { Start-ChildProcess -FilePath sleep -ArgumentList 300 }
        Get-ChildProcess | Stop-ChildProcess
        foreach ($k in $kids) {
            Test-ChildProcess $k | Should -BeFalse
            Get-ChildExitCode $k | Should -Be -15
        }
    }

    It 'stops several children given positionally: Stop-ChildProcess $a, $b' {
        $a = Start-ChildProcess -FilePath sleep -ArgumentList 300
        $b = Start-ChildProcess -FilePath sleep -ArgumentList 300
        Stop-ChildProcess $a, $b -Force
        Get-ChildExitCode $a, $b | Should -Be @(-9, -9)
    }

    It 'reaches grandchildren in the child''s process group' {
        $pidFile = Join-Path $TestDrive 'grandchild.pid'
        $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'sleep 300 & echo $! > "$1"; wait', 'sh', $pidFile
        $grand = Read-PidFile -Path $pidFile
        $ticks = (Get-PidStat -Id $grand[0]).StartTicks
        Test-PidAlive -Id $grand[0] -StartTicks $ticks | Should -BeTrue
        Stop-ChildProcess $p
        Get-ChildExitCode $p | Should -Be -15
        Wait-Until { -not (Test-PidAlive -Id $grand[0] -StartTicks $ticks) } -Timeout 10 | Should -BeTrue
    }

    It '-Force reaches grandchildren in the child''s process group' {
        $pidFile = Join-Path $TestDrive 'grandchild-force.pid'
        $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'sleep 300 & echo $! > "$1"; wait', 'sh', $pidFile
        $grand = Read-PidFile -Path $pidFile
        $ticks = (Get-PidStat -Id $grand[0]).StartTicks
        Stop-ChildProcess $p -Force
        Get-ChildExitCode $p | Should -Be -9
        Wait-Until { -not (Test-PidAlive -Id $grand[0] -StartTicks $ticks) } -Timeout 10 | Should -BeTrue
    }

    It 'a child that traps SIGTERM and exits 0 reports 0 (Completed)' {
        $ready = Join-Path $TestDrive 'trap.ready'
        $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'trap "exit 0" TERM; echo ready > "$1"; while :; do sleep 0.1; done', 'sh', $ready
        Wait-Until { Test-Path -LiteralPath $ready } -Timeout 60 | Should -BeTrue
        Stop-ChildProcess $p -GracePeriod 30
        Get-ChildExitCode $p | Should -Be 0
        "$($p.State)" | Should -BeIn @('Completed', 'Stopped')
    }

    It 'a child that ignores SIGTERM is killed after -GracePeriod (-9)' {
        $ready = Join-Path $TestDrive 'ignore.ready'
        # trap '' TERM sets SIG_IGN, which the sleep processes inherit too
        $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'trap "" TERM; echo ready > "$1"; while :; do sleep 0.1; done', 'sh', $ready
        Wait-Until { Test-Path -LiteralPath $ready } -Timeout 60 | Should -BeTrue
        $sw = [Diagnostics.Stopwatch]::StartNew()
        Stop-ChildProcess $p -GracePeriod 0.5
        $sw.Elapsed.TotalSeconds | Should -BeLessThan 30
        Get-ChildExitCode $p | Should -Be -9
        "$($p.State)" | Should -BeExactly 'Stopped'
        Test-PidAlive -Id $p.Id | Should -BeFalse
    }

    It 'a child that ignores SIGTERM survives the grace period until SIGKILL (it is not killed at once)' {
        $ready = Join-Path $TestDrive 'ignore2.ready'
        $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'trap "" TERM; echo ready > "$1"; while :; do sleep 0.1; done', 'sh', $ready
        Wait-Until { Test-Path -LiteralPath $ready } -Timeout 60 | Should -BeTrue
        $sw = [Diagnostics.Stopwatch]::StartNew()
        Stop-ChildProcess $p -GracePeriod 1.5
        $sw.Elapsed.TotalSeconds | Should -BeGreaterOrEqual 1.2
        Get-ChildExitCode $p | Should -Be -9
    }

    It '-Force on a child that ignores SIGTERM gives -9' {
        $ready = Join-Path $TestDrive 'ignore3.ready'
        $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'trap "" TERM; echo ready > "$1"; while :; do sleep 0.1; done', 'sh', $ready
        Wait-Until { Test-Path -LiteralPath $ready } -Timeout 60 | Should -BeTrue
        Stop-ChildProcess $p -Force
        Get-ChildExitCode $p | Should -Be -9
    }

    It 'stops many children that ignore SIGTERM with one shared grace period, not one each' {
        $dir = Join-Path $TestDrive 'many-stubborn'
        $null = New-Item -ItemType Directory -Path $dir
        $kids = 1..30 | ForEach-Object {
            Start-ChildProcess -FilePath sh -ArgumentList '-c', 'trap "" TERM; echo ready > "$1"; while :; do sleep 0.1; done', 'sh', (Join-Path $dir "$_.ready")
        }
        Wait-Until { @(Get-ChildItem $dir).Count -eq 30 } -Timeout 60 | Should -BeTrue
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $kids | Stop-ChildProcess -GracePeriod 1
        # One after another this would take 30 s; together about one grace period. 15 s leaves room for a loaded machine.
        $sw.Elapsed.TotalSeconds | Should -BeLessThan 15
        $kids | Get-ChildExitCode | Sort-Object -Unique | Should -Be -9
        $kids | Where-Object { Test-PidAlive -Id $_.Id } | Should -BeNullOrEmpty
    }
}
