#Requires -Version 7.4
# Sessions: per-runspace tracking, daemons ending with their session, non-daemons left running.

Describe 'Sessions' {
    BeforeAll {
        Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
        $ModulePath = Get-ProcessKitModulePath
        Import-Module $ModulePath -Force

        function New-TestRunspace {
            # A PowerShell with its own, opened runspace; the caller disposes both.
            $rs = [runspacefactory]::CreateRunspace()
            $rs.Open()
            $ps = [powershell]::Create()
            $ps.Runspace = $rs
            $ps
        }

        function Invoke-InRunspace {
            # Runs $Script in $PowerShell's runspace (global scope) and returns the output; throws on errors.
            param($PowerShell, [string] $Script)
            $PowerShell.Commands.Clear()
            $PowerShell.Streams.Error.Clear()
            $null = $PowerShell.AddScript($Script)
            $out = $PowerShell.Invoke()
            if ($PowerShell.Streams.Error.Count) {
                throw "Errors in the inner runspace: $($PowerShell.Streams.Error | Out-String)"
            }
            $out
        }

        # A session script for a separate pwsh process: starts daemons (one with a grandchild) and a non-daemon,
        # writes "<daemon> <daemon-sh> <grandchild> <non-daemon> <pwsh>" to the pid file, then exits or blocks.
        $SessionScript = Join-Path $TestDrive 'session.ps1'
        Set-Content -LiteralPath $SessionScript -Value @'
param([string] $ModulePath, [string] $PidFile, [string] $Mode)
$ErrorActionPreference = 'Stop'
try {
    Import-Module $ModulePath
    $d = Start-ChildProcess -FilePath sleep -ArgumentList 300 -Daemon -Name daemon
    $grandFile = "$PidFile.grand"
    $g = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'sleep 300 & echo $! > "$1.tmp"; mv "$1.tmp" "$1"; wait', 'sh', $grandFile -Daemon -Name daemon-tree
    $n = Start-ChildProcess -FilePath sleep -ArgumentList 300 -Name plain
    $deadline = [datetime]::UtcNow.AddSeconds(60)
    while (-not (Test-Path -LiteralPath $grandFile)) {
        if ([datetime]::UtcNow -gt $deadline) { throw 'grandchild pid file did not appear' }
        Start-Sleep -Milliseconds 50
    }
    $grand = (Get-Content -LiteralPath $grandFile -Raw).Trim()
    [System.IO.File]::WriteAllText("$PidFile.tmp", "$($d.Id) $($g.Id) $grand $($n.Id) $PID`n")
    Move-Item -LiteralPath "$PidFile.tmp" -Destination $PidFile
} catch {
    Write-Host "SESSION SCRIPT FAILED: $_"
    # leave what was started where the test's cleanup finds it
    [System.IO.File]::WriteAllText("$PidFile.partial", "$(@($d, $g, $n | Where-Object { $_ } | ForEach-Object Id) -join ' ')`n")
    exit 99
}
if ($Mode -eq 'exit') { exit 0 }
Start-Sleep -Seconds 300
'@
    }
    AfterAll { Clear-TestProcess }
    AfterEach { Clear-TestProcess }

    Context 'per-runspace tracking' {
        It 'a child started in another runspace is not visible or selectable in this one' {
            $ps = New-TestRunspace
            try {
                $name = New-TestName 'inner'
                $innerId = [int](Invoke-InRunspace $ps "Import-Module '$ModulePath'; (Start-ChildProcess -FilePath sleep -ArgumentList 300 -Name '$name').Id" | Select-Object -Last 1)
                Register-ExtraPid -Id $innerId
                Test-PidAlive -Id $innerId | Should -BeTrue
                # the inner session sees it
                (Invoke-InRunspace $ps 'Get-ChildProcess | ForEach-Object Id') | Should -Contain $innerId
                # the outer session does not
                @(Get-ChildProcess | Where-Object { $_.Id -eq $innerId -or $_.Name -eq $name }).Count | Should -Be 0
                Stop-ChildProcess -Id $innerId -ErrorVariable ev -ErrorAction SilentlyContinue
                $ev.Count | Should -Be 1
                $ev[0].FullyQualifiedErrorId | Should -BeLike 'ChildProcessNotFound*'
                Get-ChildExitCode -Name $name -ErrorVariable ev2 -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
                $ev2.Count | Should -Be 1
                Test-PidAlive -Id $innerId | Should -BeTrue -Because 'the outer Stop-ChildProcess must not reach another session''s child'
            } finally {
                try { $null = Invoke-InRunspace $ps 'Get-ChildProcess | Stop-ChildProcess -Force; Get-ChildProcess | Remove-ChildProcess -Force' } catch { <# best-effort cleanup of the inner session; its runspace is disposed next #> }
                $ps.Runspace.Dispose()
                $ps.Dispose()
            }
        }

        It 'a child started in this runspace is not visible in another one' {
            $p = Start-ChildProcess -FilePath sleep -ArgumentList 300
            $ps = New-TestRunspace
            try {
                $ids = @(Invoke-InRunspace $ps "Import-Module '$ModulePath'; Get-ChildProcess | ForEach-Object Id")
                $ids | Should -Not -Contain $p.Id
                $ids.Count | Should -Be 0
            } finally {
                $ps.Runspace.Dispose()
                $ps.Dispose()
            }
            Test-ChildProcess $p | Should -BeTrue
        }

        It 'ForEach-Object -Parallel: 4 runspaces each start and wait 5 children, no cross-talk' {
            $mp = $ModulePath
            $results = 1..4 | ForEach-Object -ThrottleLimit 4 -UseNewRunspace -Parallel {
                Import-Module $using:mp
                $worker = $_
                $kids = foreach ($k in 1..5) {
                    Start-ChildProcess -FilePath sh -ArgumentList '-c', "sleep 0.2; exit $($worker * 10 + $k)"
                }
                $null = Wait-ChildProcess $kids -Timeout 120 -ErrorAction Stop
                $seen = @(Get-ChildProcess)
                [pscustomobject]@{
                    Worker    = $worker
                    Ids       = @($kids.Id)
                    Names     = @($kids.Name)
                    Codes     = @(Get-ChildExitCode $kids)
                    SeenIds   = @($seen.Id)
                    SeenCount = $seen.Count
                }
            }
            $results | ForEach-Object { Register-ExtraPid -Id $_.Ids }
            @($results).Count | Should -Be 4
            foreach ($r in $results) {
                $r.SeenCount | Should -Be 5 -Because "worker $($r.Worker) must see exactly its own children"
                ($r.SeenIds | Sort-Object) | Should -Be ($r.Ids | Sort-Object)
                $r.Names | Should -Be @('Process-1', 'Process-2', 'Process-3', 'Process-4', 'Process-5') -Because 'default names are counted per session'
                $r.Codes | Should -Be @(1..5 | ForEach-Object { $r.Worker * 10 + $_ })
            }
            @($results.Ids | Sort-Object -Unique).Count | Should -Be 20
            @(Get-ChildProcess).Count | Should -Be 0 -Because 'the outer session started none of them'
        }
    }

    Context 'daemons and the runspace that started them' {
        It 'daemons (and their process tree) end when the runspace is disposed; non-daemons keep running' {
            $ps = New-TestRunspace
            $pidFile = Join-Path $TestDrive 'rs-grand.pid'
            $disposed = $false
            try {
                $ids = @(Invoke-InRunspace $ps @"
Import-Module '$ModulePath'
(Start-ChildProcess -FilePath sleep -ArgumentList 300 -Daemon).Id
(Start-ChildProcess -FilePath sh -ArgumentList '-c', 'sleep 300 & echo `$! > "`$1"; wait', 'sh', '$pidFile' -Daemon).Id
(Start-ChildProcess -FilePath sleep -ArgumentList 300).Id
"@)
                $ids.Count | Should -Be 3
                $daemon, $daemonSh, $plain = [int[]]$ids
                Register-ExtraPid -Id $daemon, $daemonSh, $plain
                $grand = (Read-PidFile -Path $pidFile)[0]
                $grandTicks = (Get-PidStat -Id $grand).StartTicks
                foreach ($id in $daemon, $daemonSh, $grand, $plain) { Test-PidAlive -Id $id | Should -BeTrue }

                $ps.Runspace.Dispose()
                $disposed = $true

                Wait-Until { -not (Test-PidAlive -Id $daemon) } -Timeout 5 | Should -BeTrue -Because 'a daemon ends with its runspace'
                Wait-Until { -not (Test-PidAlive -Id $daemonSh) } -Timeout 5 | Should -BeTrue -Because 'a daemon ends with its runspace'
                Wait-Until { -not (Test-PidAlive -Id $grand -StartTicks $grandTicks) } -Timeout 5 | Should -BeTrue -Because 'what a daemon started ends with it'
                Start-Sleep -Milliseconds 500
                Test-PidAlive -Id $plain | Should -BeTrue -Because 'non-daemon children are independent of the session'
            } finally {
                if (-not $disposed) { $ps.Runspace.Dispose() }
                $ps.Dispose()
                Register-PidFile -Path $pidFile
            }
        }

        It 'daemons end when the hosting PowerShell (runspace from [powershell]::Create()) is disposed' {
            $ps = [powershell]::Create()
            try {
                $null = $ps.AddScript("Import-Module '$ModulePath'; (Start-ChildProcess -FilePath sleep -ArgumentList 300 -Daemon).Id")
                $daemon = [int]($ps.Invoke() | Select-Object -Last 1)
                Register-ExtraPid -Id $daemon
                Test-PidAlive -Id $daemon | Should -BeTrue
                $ps.Runspace.Dispose()
                Wait-Until { -not (Test-PidAlive -Id $daemon) } -Timeout 5 | Should -BeTrue
            } finally {
                $ps.Dispose()
            }
        }

        It 'daemons end on Remove-Module ProcessKit in their session' {
            $ps = New-TestRunspace
            try {
                $daemon = [int](Invoke-InRunspace $ps "Import-Module '$ModulePath'; (Start-ChildProcess -FilePath sleep -ArgumentList 300 -Daemon).Id" | Select-Object -Last 1)
                Register-ExtraPid -Id $daemon
                Test-PidAlive -Id $daemon | Should -BeTrue
                $null = Invoke-InRunspace $ps 'Remove-Module ProcessKit'
                Wait-Until { -not (Test-PidAlive -Id $daemon) } -Timeout 5 | Should -BeTrue
            } finally {
                $ps.Runspace.Dispose()
                $ps.Dispose()
            }
        }
    }

    Context 'daemons and the session process' {
        It 'after the session pwsh exits normally, daemons and their trees are gone within 5 s; the non-daemon keeps running' {
            $pidFile = Join-Path $TestDrive 'exit.pid'
            $log = Join-Path $TestDrive 'exit.log'
            $proc = Start-PwshScript -ScriptPath $SessionScript -ArgumentList $ModulePath, $pidFile, 'exit' -LogPath $log
            try {
                $proc.WaitForExit(120000) | Should -BeTrue -Because 'a session must not hang on exit (non-daemons are not waited for)'
                $logText = if (Test-Path -LiteralPath $log) { Get-Content -LiteralPath $log -Raw } else { '' }
                $proc.ExitCode | Should -Be 0 -Because "the session script must succeed. Log: $logText"
                $daemon, $daemonSh, $grand, $plain, $null = Read-PidFile -Path $pidFile -Count 5 -Timeout 5
                Wait-Until { -not (Test-PidAlive -Id $daemon) } -Timeout 5 | Should -BeTrue -Because 'a daemon ends with its session'
                Wait-Until { -not (Test-PidAlive -Id $daemonSh) } -Timeout 5 | Should -BeTrue -Because 'a daemon ends with its session'
                Wait-Until { -not (Test-PidAlive -Id $grand) } -Timeout 5 | Should -BeTrue -Because 'what a daemon started ends with it'
                Test-PidAlive -Id $plain | Should -BeTrue -Because 'non-daemon children keep running after the session ends'
            } finally {
                if (-not $proc.HasExited) { $proc.Kill() }
                $proc.Dispose()
                Register-PidFile -Path $pidFile, "$pidFile.grand", "$pidFile.partial"
            }
        }

        # SIGKILL, SIGTERM, SIGHUP, SIGINT and crashes of the session: see Daemons.Tests.ps1.
    }
}
