#Requires -Version 7.4
# The process pool (Invoke-ChildProcessPool, New-/Get-/Remove-ChildProcessPool), as users meet it: Python's Pool.map
# for PowerShell. Results in input order (or as done), long-lived workers reused, errors naming their item, workers
# that die or hang replaced without hanging the run, retries, Ctrl+C and a killed session leaving no worker.

BeforeAll {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
    $ModulePath = Get-ProcessKitModulePath
    Import-Module $ModulePath -Force

    function Get-WorkerPid {
        @(Get-ChildProcess | Where-Object Name -like 'Pool-*.Worker-*' | ForEach-Object Id)
    }
}

Describe 'Invoke-ChildProcessPool: results' {
    AfterEach { Clear-TestProcess; Get-ChildProcessPool | Remove-ChildProcessPool -Force }

    It 'returns results in input order, the item as $_ and as the first argument, then -ArgumentList' {
        $r = 1..20 | Invoke-ChildProcessPool { param($x, $k) "$x/$_/$k"; Start-Sleep -Milliseconds (20 - $x) } -ArgumentList 'k' -ThrottleLimit 2
        $r | Should -Be (1..20 | ForEach-Object { "$_/$_/k" })
    }

    It '-Unordered gives each item as soon as it is done; the default keeps input order' {
        $pool = New-ChildProcessPool -ThrottleLimit 3
        # Three items that wait make the pool start all three workers, so the runs below do not wait for a start.
        $null = 1..3 | Invoke-ChildProcessPool { Start-Sleep -Milliseconds 500 } -Pool $pool -BatchSize 1
        $pool.Workers.Count | Should -Be 3
        $r = @(3, 1, 2) | Invoke-ChildProcessPool { Start-Sleep -Milliseconds ($_ * 1000); $_ } -Pool $pool -BatchSize 1 -Unordered
        $r | Should -Be @(1, 2, 3)
        $r = @(3, 1, 2) | Invoke-ChildProcessPool { Start-Sleep -Milliseconds ($_ * 300); $_ } -Pool $pool -BatchSize 1
        $r | Should -Be @(3, 1, 2)
    }

    It 'an item that writes many records (framed through one pipeline) keeps their order, their streams and an array output as one object' {
        $r = 1, 2 | Invoke-ChildProcessPool { 1..3000 | ForEach-Object { "$_-$x" }; , @($_, 'pair'); Write-Warning "w$_"; 'last' } -ThrottleLimit 1 -BatchSize 2 -WarningVariable wv 3>$null
        $one = @(1..3000 | ForEach-Object { "$_-" })
        $r.Count | Should -Be (2 * 3002)
        $r[0..2999] | Should -Be $one
        $r[3000] | Should -Be @(1, 'pair')
        $r[3001] | Should -Be 'last'
        $r[3002..6001] | Should -Be $one
        $r[6002].Count | Should -Be 2
        $r[6003] | Should -Be 'last'
        @($wv | ForEach-Object { "$_" }) | Should -Be @('w1', 'w2')
    }

    It 'what items write to the console ([Console]::Out/Error, $host.UI) reaches the host as Write-Host text does; nothing piles up in the worker' {
        $pool = New-ChildProcessPool -ThrottleLimit 1
        $all = 1..3 | Invoke-ChildProcessPool { [Console]::WriteLine("out $_"); [Console]::Error.WriteLine("err $_"); $host.UI.WriteLine("ui $_"); $_ } -Pool $pool 6>&1
        # The last item's console lines travel on other pipes than its results and may be read just after the run
        # ended: then the next run of the pool relays them first.
        $all = @($all) + @(1 | Invoke-ChildProcessPool { $null = $_ } -Pool $pool 6>&1)
        $results = @($all | Where-Object { $_ -isnot [System.Management.Automation.InformationRecord] })
        $shown = @($all | Where-Object { $_ -is [System.Management.Automation.InformationRecord] })
        $results | Should -Be @(1, 2, 3)
        $shown | ForEach-Object { $_.Tags | Should -Contain 'PSHOST' }
        $text = @($shown | ForEach-Object { "$($_.MessageData)" })
        foreach ($i in 1..3) { $text | Should -Contain "out $i"; $text | Should -Contain "err $i"; $text | Should -Contain "ui $i" }
        $text.Count | Should -Be 9
        @(Receive-ChildProcess $pool.Workers[0].Child 2>&1) | Should -BeNullOrEmpty -Because 'the worker keeps none of it'

        # A call without -Pool: its workers end with it, and their last lines are shown before it returns.
        foreach ($try in 1..3) {
            $all = 1..4 | Invoke-ChildProcessPool { [Console]::WriteLine("once $_"); $_ } -ThrottleLimit 2 6>&1
            @($all | Where-Object { $_ -is [System.Management.Automation.InformationRecord] } | ForEach-Object { "$($_.MessageData)" } | Sort-Object) |
                Should -Be @('once 1', 'once 2', 'once 3', 'once 4')
        }
    }

    It 'an item that is an array stays one item' {
        $r = @(, @(1, 2, 3)) | Invoke-ChildProcessPool { $_.Count } -ThrottleLimit 1
        $r | Should -Be 3
    }

    It 'objects with properties travel both ways' {
        $in = 1..5 | ForEach-Object { [pscustomobject]@{ N = $_; Name = "item$_"; Tags = @('a', 'b') } }
        $r = $in | Invoke-ChildProcessPool { [pscustomobject]@{ Double = $_.N * 2; Name = $_.Name.ToUpper(); Tags = $_.Tags.Count } } -ThrottleLimit 2
        $r.Double | Should -Be @(2, 4, 6, 8, 10)
        $r.Name | Should -Be @('ITEM1', 'ITEM2', 'ITEM3', 'ITEM4', 'ITEM5')
        $r[0].Tags | Should -Be 2
    }

    It 'uses at most -ThrottleLimit workers and reuses them' {
        $pids = 1..30 | Invoke-ChildProcessPool { $PID } -ThrottleLimit 2
        $pids.Count | Should -Be 30
        @($pids | Sort-Object -Unique).Count | Should -BeLessOrEqual 2
        $pids | Should -Not -Contain $PID
    }

    It 'runs at most -ThrottleLimit items at once' {
        $spans = 1..6 | Invoke-ChildProcessPool {
            $start = [DateTime]::UtcNow; Start-Sleep -Milliseconds 300
            [pscustomobject]@{ Start = $start; End = [DateTime]::UtcNow }
        } -ThrottleLimit 2 -BatchSize 1
        $most = 0
        foreach ($s in $spans) {
            $at = @($spans | Where-Object { $_.Start -le $s.Start -and $_.End -gt $s.Start }).Count
            $most = [Math]::Max($most, $at)
        }
        $most | Should -BeLessOrEqual 2
        $most | Should -Be 2
    }

    It '$using: values and -InitializationScript reach the workers' {
        $factor = 10
        $r = 1..4 | Invoke-ChildProcessPool { (Get-Helper) + $_ * $using:factor } -InitializationScript { function Get-Helper { 1000 } } -ThrottleLimit 2
        $r | Should -Be @(1010, 1020, 1030, 1040)
    }

    It 'workers start lazily: no more than the items need' {
        $pids = @(1 | Invoke-ChildProcessPool { $PID } -ThrottleLimit 4)
        $pids.Count | Should -Be 1
    }

    It 'an item that reads stdin (a native program, [Console]::In) reads end of file, not the requests' {
        $r = 1..3 | Invoke-ChildProcessPool { if ($_ -eq 1) { @(cat).Count } elseif ($_ -eq 2) { $null -eq [Console]::In.ReadLine() } else { $_ } } -ThrottleLimit 1 -TimeoutSeconds 60
        $r | Should -Be @(0, $true, 3)
    }

    It '5,000 small items all complete' {
        $r = 1..5000 | Invoke-ChildProcessPool { $_ + 1 } -ThrottleLimit 2
        $r.Count | Should -Be 5000
        ($r | Measure-Object -Sum).Sum | Should -Be ((2..5001 | Measure-Object -Sum).Sum)
    }

    It 'a worker imports no module before the items run (a module import costs each worker''s start 70-100 ms)' {
        $modules = @(1 | Invoke-ChildProcessPool { @(Get-Module).Name } -ThrottleLimit 1)
        $modules | Should -Not -Contain 'Microsoft.PowerShell.Utility'
        $modules | Should -Not -Contain 'Microsoft.PowerShell.Management'
        # Their types still resolve (their assemblies are loaded), as in a scriptblock child.
        1 | Invoke-ChildProcessPool { [string]('Microsoft.PowerShell.Commands.WebRequestMethod' -as [type]) } -ThrottleLimit 1 |
            Should -Be 'Microsoft.PowerShell.Commands.WebRequestMethod'
    }

    It 'leaves no worker when the call ends' {
        $null = 1..4 | Invoke-ChildProcessPool { $PID } -ThrottleLimit 2
        Get-WorkerPid | Should -BeNullOrEmpty
    }
}

Describe 'Invoke-ChildProcessPool: failures' {
    AfterEach { Clear-TestProcess; Get-ChildProcessPool | Remove-ChildProcessPool -Force }

    It 'an item that throws: its error names the item, the other items go on' {
        $r = 1..5 | Invoke-ChildProcessPool { if ($_ -eq 3) { throw "bad $_" }; $_ } -ThrottleLimit 2 -ErrorVariable errs -ErrorAction SilentlyContinue
        $r | Should -Be @(1, 2, 4, 5)
        $errs.Count | Should -Be 1
        $errs[0].TargetObject | Should -Be 3
        "$($errs[0])" | Should -Match 'bad 3'
    }

    It 'a non-terminating error keeps its message and category and names the item' {
        $r = 'a', '/nonexistent-pk' | Invoke-ChildProcessPool { if ($_ -like '/*') { Get-Item -LiteralPath $_ } else { $_ } } -ThrottleLimit 1 -ErrorVariable errs -ErrorAction SilentlyContinue
        $r | Should -Be 'a'
        $errs[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $errs[0].TargetObject | Should -Be '/nonexistent-pk'
    }

    It 'a statement-terminating error is written and the item goes on, as in ForEach-Object -Parallel; a throw still ends only its item' {
        $r = 1..3 | Invoke-ChildProcessPool {
            $x = $_
            nosuch-pk-command
            "after $x"
            [int]::Parse('not a number')
            try { nosuch-pk-other } catch { "caught $_".Substring(0, 8) }
            if ($x -eq 2) { throw "thrown $x" }
            "end $x"
        } -ThrottleLimit 1 -ErrorVariable errs -ErrorAction SilentlyContinue
        $r | Should -Be @('after 1', 'caught T', 'end 1', 'after 2', 'caught T', 'after 3', 'caught T', 'end 3')
        @($errs | Where-Object FullyQualifiedErrorId -like 'CommandNotFoundException*').Count | Should -Be 3
        @($errs | Where-Object { "$_" -match 'not a number' }).Count | Should -Be 3
        @($errs | Where-Object { "$_" -eq 'thrown 2' }).Count | Should -Be 1
    }

    It 'an -InitializationScript with Set-StrictMode -Version Latest and $ErrorActionPreference = ''Stop'' holds for the items and does not break the workers' {
        $r = 1..12 | Invoke-ChildProcessPool -ThrottleLimit 2 -BatchSize 3 -InitializationScript { Set-StrictMode -Version Latest; $ErrorActionPreference = 'Stop' } {
            if ($_ -eq 3) { Write-Warning "w$_" }
            if ($_ -eq 5) { 1..20 }
            if ($_ -eq 7) { Write-Error "e$_"; 'not after a Stop error' }
            if ($_ -eq 9) { $undefined.Property }
            $_ * 2
        } -ErrorVariable errs -ErrorAction SilentlyContinue 3>$null
        $r | Should -Be (@(2, 4, 6, 8) + @(1..20) + @(10, 12, 16, 20, 22, 24))
        $errs.Count | Should -Be 2
        @($errs | Where-Object FullyQualifiedErrorId -like 'ChildProcessPoolWorkerDied*') | Should -BeNullOrEmpty
        ($errs | Where-Object TargetObject -eq 9).FullyQualifiedErrorId | Should -BeLike 'VariableIsUndefined*'
    }

    It 'a break or continue outside any loop of the item ends that item only (as in ForEach-Object -Parallel), never the batch' {
        $r = 1..5 | Invoke-ChildProcessPool {
            "a $_"
            if ($_ -eq 2) { break }
            if ($_ -eq 4) { continue }
            foreach ($i in 1..3) { if ($i -eq 2) { break } }   # the item's own loop keeps its break
            "end $_"
        } -ThrottleLimit 1 -BatchSize 5 -TimeoutSeconds 120
        $r | Should -Be @('a 1', 'end 1', 'a 2', 'a 3', 'end 3', 'a 4', 'a 5', 'end 5')
    }

    It 'a worker that exits with 7 and one killed with SIGKILL are reported with their codes; the rest complete' {
        $r = 1..8 | Invoke-ChildProcessPool {
            if ($_ -eq 2) { [Environment]::Exit(7) }
            if ($_ -eq 5) { [System.Diagnostics.Process]::GetCurrentProcess().Kill() }
            $_
        } -ThrottleLimit 2 -BatchSize 1 -ErrorVariable errs -ErrorAction SilentlyContinue
        $r | Should -Be @(1, 3, 4, 6, 7, 8)
        $errs.Count | Should -Be 2
        $errs | ForEach-Object { $_.FullyQualifiedErrorId | Should -BeLike 'ChildProcessPoolWorkerDied*' }
        ($errs | Where-Object TargetObject -eq 2).Exception.ExitCode | Should -Be 7
        ($errs | Where-Object TargetObject -eq 5).Exception.ExitCode | Should -Be -9
    }

    It 'a worker that dies mid-batch: the items of its batch it had not begun still run' {
        $r = 1..6 | Invoke-ChildProcessPool { if ($_ -eq 2) { [Environment]::Exit(3) }; $_ } -ThrottleLimit 1 -BatchSize 6 -ErrorVariable errs -ErrorAction SilentlyContinue
        $r | Should -Be @(1, 3, 4, 5, 6)
        $errs.Count | Should -Be 1
    }

    It '-TimeoutSeconds ends an item that runs too long, per item; the rest go on' {
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $r = 1..4 | Invoke-ChildProcessPool { if ($_ -eq 2) { Start-Sleep 300 }; $_ } -ThrottleLimit 2 -BatchSize 1 -TimeoutSeconds 2 -ErrorVariable errs -ErrorAction SilentlyContinue
        $sw.Elapsed.TotalSeconds | Should -BeLessThan 120
        $r | Should -Be @(1, 3, 4)
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'ChildProcessPoolItemTimeout*'
        $errs[0].TargetObject | Should -Be 2
    }

    It '-Retry runs a failed item again; an attempt made good writes no error, only a verbose note' {
        $marker = Join-Path $TestDrive 'tried'
        $r = 1..3 | Invoke-ChildProcessPool {
            if ($_ -eq 2 -and -not (Test-Path $using:marker)) { New-Item $using:marker | Out-Null; throw 'first try fails' }
            $_
        } -ThrottleLimit 1 -Retry 1 -ErrorVariable errs -ErrorAction SilentlyContinue -Verbose 4>&1
        $objects = @($r | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] })
        $notes = @($r | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] })
        $objects | Should -Be @(1, 2, 3)
        $errs.Count | Should -Be 0
        $notes.Count | Should -Be 1
        "$($notes[0])" | Should -Match 'retrying'
    }

    It '-Retry gives up after N more attempts and writes the last attempt''s error' {
        $r = 1, 2 | Invoke-ChildProcessPool { if ($_ -eq 2) { throw "always $_" }; $_ } -ThrottleLimit 1 -Retry 2 -ErrorVariable errs -ErrorAction SilentlyContinue
        $r | Should -Be 1
        $errs.Count | Should -Be 1
    }

    It '-ErrorAction Stop halts the run at the first failure and leaves no worker' {
        { 1..50 | Invoke-ChildProcessPool { if ($_ -eq 3) { throw 'stop here' }; Start-Sleep -Milliseconds 50; $_ } -ThrottleLimit 2 -BatchSize 1 -ErrorAction Stop } |
            Should -Throw '*stop here*'
        Get-WorkerPid | Should -BeNullOrEmpty
    }

    It 'an -InitializationScript that throws is reported once, clearly, and no worker is left starting' {
        $err = $null
        try { 1..10 | Invoke-ChildProcessPool { $_ } -InitializationScript { throw 'init broke' } -ThrottleLimit 2 } catch { $err = $_ }
        $err | Should -Not -BeNullOrEmpty
        $err.FullyQualifiedErrorId | Should -BeLike 'ChildProcessPoolInitializationFailed*'
        "$err" | Should -Match 'init broke'
        Get-WorkerPid | Should -BeNullOrEmpty
    }
}

Describe 'Pools kept across calls' {
    AfterEach { Clear-TestProcess; Get-ChildProcessPool | Remove-ChildProcessPool -Force }

    It 'a run cut short downstream (Select-Object -First) leaves the pool whole for the next runs' {
        $pool = New-ChildProcessPool -ThrottleLimit 2
        $first = 1..1000 | Invoke-ChildProcessPool { Start-Sleep -Milliseconds 50; $_ } -Pool $pool | Select-Object -First 3
        $first | Should -Be @(1, 2, 3)
        $r = 1..5 | Invoke-ChildProcessPool { "r$_" } -Pool $pool -ErrorVariable ev
        $r | Should -Be @('r1', 'r2', 'r3', 'r4', 'r5')
        $ev.Count | Should -Be 0
        (1..5 | Invoke-ChildProcessPool { "r$_" } -Pool $pool) | Should -Be @('r1', 'r2', 'r3', 'r4', 'r5')
    }

    It 'a run halted by -ErrorAction Stop leaves no stale error or lost result for the next run' {
        $pool = New-ChildProcessPool -ThrottleLimit 2
        { 1..6 | Invoke-ChildProcessPool { if ($_ -eq 1) { throw "bad $_" }; Start-Sleep 2; $_ } -Pool $pool -BatchSize 1 -ErrorAction Stop } | Should -Throw
        $r = 1..4 | Invoke-ChildProcessPool { $_ * 10 } -Pool $pool -BatchSize 1 -ErrorVariable ev 2>$null
        $r | Should -Be @(10, 20, 30, 40)
        $ev.Count | Should -Be 0
    }

    It 'a worker that died while idle, between two calls (SIGKILL, or Stop-ChildProcess), is replaced: no item fails for it' {
        $pool = New-ChildProcessPool -ThrottleLimit 1
        $null = 1 | Invoke-ChildProcessPool { $_ } -Pool $pool
        $first = $pool.Workers[0].Child
        $first.Id | Register-ExtraPid
        $null = & kill -9 $first.Id
        $first | Wait-ChildProcess -Timeout 60 | Out-Null
        $r = 1..3 | Invoke-ChildProcessPool { "ok $_" } -Pool $pool -ErrorVariable ev -ErrorAction SilentlyContinue
        $r | Should -Be @('ok 1', 'ok 2', 'ok 3')
        $ev.Count | Should -Be 0

        $second = $pool.Workers[0].Child
        $second.Id | Should -Not -Be $first.Id
        $second | Stop-ChildProcess
        $r = 4..5 | Invoke-ChildProcessPool { "ok $_" } -Pool $pool -ErrorVariable ev -ErrorAction SilentlyContinue
        $r | Should -Be @('ok 4', 'ok 5')
        $ev.Count | Should -Be 0
    }

    It 'a worker killed while it starts is replaced; the run completes' {
        $file = Join-Path $TestDrive 'starting'
        $pool = New-ChildProcessPool -ThrottleLimit 1 -InitializationScript { if (-not (Test-Path $using:file)) { Set-Content $using:file $PID; Start-Sleep 300 } }
        $killer = Start-ThreadJob {
            param($file)
            $sw = [Diagnostics.Stopwatch]::StartNew()
            while (-not (Test-Path $file) -and $sw.Elapsed.TotalSeconds -lt 60) { Start-Sleep -Milliseconds 50 }
            Start-Sleep -Milliseconds 200
            $id = (Get-Content $file -ErrorAction SilentlyContinue | Select-Object -First 1)
            if ($id) { & /bin/sh -c 'kill -9 "$1"' sh $id }
        } -ArgumentList $file
        try {
            $r = 1..3 | Invoke-ChildProcessPool { $_ } -Pool $pool
            $r | Should -Be @(1, 2, 3)
            $pool.State | Should -Be 'Open'
        } finally {
            $killer | Receive-Job -Wait -AutoRemoveJob
        }
    }

    It 'New-ChildProcessPool: workers are kept across calls, listed, and ended by Remove-ChildProcessPool' {
        $pool = New-ChildProcessPool -ThrottleLimit 2 -Name shared
        $first = 1..4 | Invoke-ChildProcessPool { $PID } -Pool $pool -BatchSize 1
        $second = 1..4 | Invoke-ChildProcessPool { $PID } -Pool $pool -BatchSize 1
        @($first + $second | Sort-Object -Unique).Count | Should -BeLessOrEqual 2
        (Get-ChildProcessPool -Name shared) | Should -Be $pool
        $pool.Workers.Count | Should -BeGreaterThan 0
        $pids = @($pool.Workers.Id)
        Get-ChildProcess | Where-Object Name -like 'shared.Worker-*' | Should -Not -BeNullOrEmpty
        Remove-ChildProcessPool $pool
        foreach ($id in $pids) { Test-PidAlive -Id $id | Should -BeFalse }
        Get-ChildProcessPool | Should -BeNullOrEmpty
        { 1 | Invoke-ChildProcessPool { $_ } -Pool $pool -ErrorAction Stop } | Should -Throw -ErrorId 'ChildProcessPoolRemoved*'
    }

    It '-MaxItemsPerWorker recycles a worker after N items' {
        $pool = New-ChildProcessPool -ThrottleLimit 1 -MaxItemsPerWorker 2
        $pids = 1..6 | Invoke-ChildProcessPool { $PID } -Pool $pool -BatchSize 1
        @($pids | Sort-Object -Unique).Count | Should -Be 3
    }

    It 'Get-ChildProcessPool -Name of a pool that does not exist is an error; a wildcard is silent' {
        Get-ChildProcessPool -Name nope -ErrorAction SilentlyContinue -ErrorVariable e | Should -BeNullOrEmpty
        $e[0].FullyQualifiedErrorId | Should -BeLike 'ChildProcessPoolNotFound*'
        Get-ChildProcessPool -Name 'nope*' | Should -BeNullOrEmpty
    }
}

Describe 'Bad input' {
    AfterEach { Clear-TestProcess }

    It 'refuses <Case> with a stable id and starts nothing' -ForEach @(
        @{ Case = 'an empty scriptblock'; Call = { 1 | Invoke-ChildProcessPool {} }; Id = 'ChildProcessPoolEmptyScript*' }
        @{ Case = 'a comment-only scriptblock'; Call = { 1 | Invoke-ChildProcessPool { # nothing
                } }; Id = 'ChildProcessPoolEmptyScript*' }
        @{ Case = 'a null scriptblock'; Call = { 1 | Invoke-ChildProcessPool $null }; Id = 'ParameterArgumentValidationError*' }
        @{ Case = '-ThrottleLimit 0'; Call = { 1 | Invoke-ChildProcessPool { $_ } -ThrottleLimit 0 }; Id = 'ParameterArgumentValidationError*' }
        @{ Case = '-ThrottleLimit -1'; Call = { 1 | Invoke-ChildProcessPool { $_ } -ThrottleLimit -1 }; Id = 'ParameterArgumentValidationError*' }
        @{ Case = 'a negative -TimeoutSeconds'; Call = { 1 | Invoke-ChildProcessPool { $_ } -TimeoutSeconds -1 }; Id = 'ChildProcessPoolInvalidTimeout*' }
        @{ Case = 'a NaN -TimeoutSeconds'; Call = { 1 | Invoke-ChildProcessPool { $_ } -TimeoutSeconds ([double]::NaN) }; Id = 'ChildProcessPoolInvalidTimeout*' }
        @{ Case = '-Retry -1'; Call = { 1 | Invoke-ChildProcessPool { $_ } -Retry -1 }; Id = 'ParameterArgumentValidationError*' }
        @{ Case = '-ThrottleLimit with -Pool'; Call = { $p = New-ChildProcessPool; try { 1 | Invoke-ChildProcessPool { $_ } -Pool $p -ThrottleLimit 2 } finally { Remove-ChildProcessPool $p } }; Id = 'ChildProcessPoolParameterConflict*' }
    ) {
        { & $Call } | Should -Throw -ErrorId $Id
        Get-WorkerPid | Should -BeNullOrEmpty
    }
}

Describe 'Ending a run from outside' {
    AfterEach { Clear-TestProcess }

    It 'Ctrl+C (PowerShell.Stop) ends the run within seconds and leaves no worker' {
        $file = Join-Path $TestDrive 'worker-pids'
        $ps = [powershell]::Create()
        try {
            # Each item writes its worker's pid, then hangs: only Ctrl+C ends the run.
            $null = $ps.AddScript("Import-Module '$ModulePath'; 1..100 | Invoke-ChildProcessPool { Add-Content -LiteralPath '$file' -Value `$PID; Start-Sleep 300; `$_ } -ThrottleLimit 2 -BatchSize 1")
            $async = $ps.BeginInvoke()
            Wait-Until -Timeout 60 { (Test-Path $file) -and @(Get-Content $file).Count -ge 2 } | Should -BeTrue
            $pids = @(Get-Content $file | ForEach-Object { [int]$_ })
            $pids | Register-ExtraPid
            $sw = [Diagnostics.Stopwatch]::StartNew()
            $ps.Stop()
            $sw.Elapsed.TotalSeconds | Should -BeLessThan 30
            Wait-Until -Timeout 30 { -not ($pids | Where-Object { Test-PidAlive -Id $_ }) } | Should -BeTrue
        } finally {
            $ps.Dispose()
        }
    }

    It 'SIGKILL of the session leaves no worker' {
        $dir = Join-Path $TestDrive 'killed'
        $null = New-Item -ItemType Directory -Path $dir
        $script = Join-Path $dir 'session.ps1'
        Set-Content -LiteralPath $script -Value @'
param([string] $ModulePath, [string] $Dir)
Import-Module $ModulePath
$pool = New-ChildProcessPool -ThrottleLimit 2
$null = 1..2 | Invoke-ChildProcessPool { $_ } -Pool $pool -BatchSize 1
[System.IO.File]::WriteAllText("$Dir/pids.tmp", "$PID $(@($pool.Workers.Id) -join ' ')`n")
[System.IO.File]::Move("$Dir/pids.tmp", "$Dir/pids")
1..100 | Invoke-ChildProcessPool { Start-Sleep 300 } -Pool $pool -BatchSize 1
'@
        $null = Start-PwshScript -ScriptPath $script -ArgumentList $ModulePath, $dir -LogPath (Join-Path $dir 'log')
        $ids = Read-PidFile -Path (Join-Path $dir 'pids') -Count 3
        $session, $workers = $ids[0], $ids[1..2]
        Start-Sleep -Milliseconds 500
        Send-Signal -Id $session -Signal KILL
        Wait-Until -Timeout 30 { -not ($workers | Where-Object { Test-PidAlive -Id $_ }) } | Should -BeTrue
    }

    It 'a run that lasts shows progress in a hosted runspace' {
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript("Import-Module '$ModulePath'; 1..12 | Invoke-ChildProcessPool { Start-Sleep -Milliseconds 250; `$_ } -ThrottleLimit 2 -BatchSize 1")
            $r = $ps.Invoke()
            $r.Count | Should -Be 12
            @($ps.Streams.Progress | Where-Object Activity -eq 'Invoke-ChildProcessPool').Count | Should -BeGreaterThan 0
        } finally {
            $ps.Dispose()
        }
    }
}
