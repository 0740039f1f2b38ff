#Requires -Version 7.4
# Behaviour found wrong by an adversarial review and fixed; each test failed before its fix.

Describe 'Regressions' {
    BeforeAll {
        Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
        $ModulePath = Get-ProcessKitModulePath
        Import-Module $ModulePath -Force
    }
    AfterEach { Clear-TestProcess }

    It 'a function''s scriptblock runs its body with its parameters, as Start-Job does' {
        function Get-Doubled($x = 7) { "got $($x * 2)" }
        $a = Start-ChildProcess ${function:Get-Doubled} -ArgumentList 3
        $b = Start-ChildProcess (Get-Command Get-Doubled).ScriptBlock
        Receive-ChildProcess $a -Wait | Should -Be 'got 6'
        Receive-ChildProcess $b -Wait | Should -Be 'got 14'
    }

    It '$using: keeps its drive or scope qualifier' {
        $env:PK_REGRESSION = 'from-env'
        $script:pkScoped = 'from-script'
        try {
            $r = & { $pkScoped = 'local'; Start-ChildProcess { "$using:env:PK_REGRESSION|$using:script:pkScoped|$using:pkScoped" } | Receive-ChildProcess -Wait }
            $r | Should -Be 'from-env|from-script|local'
        } finally {
            Remove-Item Env:PK_REGRESSION
        }
    }

    It 'an array output as one object comes back as one collection, not as text' {
        $r = @(Start-ChildProcess { , @(1, 2); Write-Output -NoEnumerate @('a', 'b') } | Receive-ChildProcess -Wait)
        $r.Count | Should -Be 2
        @($r[0]) | Should -Be @(1, 2)
        @($r[1]) | Should -Be @('a', 'b')
        foreach ($item in $r) { ($item -is [System.Collections.IList]) | Should -BeTrue }
    }

    It 'an error from a scriptblock child keeps its category' {
        $null = Start-ChildProcess { Get-Item /nonexistent-pk -ErrorAction Stop } | Receive-ChildProcess -Wait -ErrorVariable ev 2>$null
        $ev[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
    }

    It 'Enable-ChildProcessLog refuses a path that cannot be written' {
        { Enable-ChildProcessLog -Path $TestDrive } | Should -Throw -ErrorId 'ChildProcessLogPathInvalid*'
        { Enable-ChildProcessLog -Path '/proc/pk-cannot-write.log' } | Should -Throw -ErrorId 'ChildProcessLogPathInvalid*'
        Disable-ChildProcessLog
    }

    It 'a directory given as -FilePath says so' {
        Start-ChildProcess -FilePath $TestDrive -ErrorVariable ev -ErrorAction SilentlyContinue
        $ev[0].FullyQualifiedErrorId | Should -BeLike 'ChildProcessStartFailed*'
        $ev[0].Exception.Message | Should -Match 'Is a directory'
        @(Get-ChildProcess) | Should -BeNullOrEmpty
    }

    It 'a relative PATH entry finds the program in the PowerShell location and runs that one' {
        $dir = Join-Path $TestDrive 'relpath'
        $null = New-Item -ItemType Directory -Path $dir
        Set-Content -LiteralPath (Join-Path $dir 'pk-tool') -Value "#!/bin/sh`necho from-location"
        chmod +x (Join-Path $dir 'pk-tool')
        $savedPath = $env:PATH
        Push-Location $dir
        try {
            $env:PATH = ".:$savedPath"
            $p = Start-ChildProcess -FilePath pk-tool -WorkingDirectory /
            Receive-ChildProcess $p -Wait | Should -Be 'from-location'
        } finally {
            $env:PATH = $savedPath
            Pop-Location
        }
    }

    It '`exit` is not held up by a daemon with a long grace period that ignores SIGTERM' {
        $script = Join-Path $TestDrive 'exit-stubborn.ps1'
        $pidFile = Join-Path $TestDrive 'exit-stubborn.pid'
        Set-Content -LiteralPath $script -Value @'
param($ModulePath, $PidFile)
Import-Module $ModulePath
$d = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'trap "" TERM; echo ready; while :; do sleep 0.1; done' -Daemon -GracePeriod 20
while (-not (Receive-ChildProcess $d -Keep)) { Start-Sleep -Milliseconds 20 }
Set-Content -LiteralPath $PidFile -Value $d.Id
exit 0
'@
        $proc = Start-PwshScript -ScriptPath $script -ArgumentList $ModulePath, $pidFile -LogPath (Join-Path $TestDrive 'exit-stubborn.log')
        try {
            Wait-Until { Test-Path -LiteralPath $pidFile } -Timeout 120 | Should -BeTrue
            $daemon = [int](Get-Content -LiteralPath $pidFile)
            Register-ExtraPid -Id $daemon
            $sw = [Diagnostics.Stopwatch]::StartNew()
            $proc.WaitForExit(60000) | Should -BeTrue
            # Before the fix the session waited the daemon's whole 20 s grace period.
            $sw.Elapsed.TotalSeconds | Should -BeLessThan 10
        } finally {
            if (-not $proc.HasExited) { $proc.Kill() }
            $proc.Dispose()
        }
    }

    It 'binds by property name from objects that have both Id and Name (Select-Object, deserialized children)' {
        $a = Start-ChildProcess -FilePath sleep -ArgumentList 300 -Name twin
        $b = Start-ChildProcess -FilePath sleep -ArgumentList 300 -Name twin
        [pscustomobject]@{ Id = $a.Id; Name = 'twin' } | Test-ChildProcess | Should -Be $true
        @(Get-ChildProcess | Select-Object Id, Name | Get-ChildExitCode).Count | Should -Be 2
        $file = Join-Path $TestDrive 'child.xml'
        $a | Export-Clixml -LiteralPath $file
        Import-Clixml -LiteralPath $file | Stop-ChildProcess -Force
        # the Id decided: only $a was stopped, not every child named 'twin'
        $a.ExitCode | Should -Be -9
        $b.IsAlive | Should -BeTrue
        @(Get-ChildProcess | Get-ChildProcess).Count | Should -Be 2
    }

    It 'a running child can be serialized and formatted without blocking until it exits' {
        $p = Start-ChildProcess -FilePath sleep -ArgumentList 300
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript('param($p) $p | ConvertTo-Json -Depth 3 | Out-Null; ($p | Format-List * | Out-String).Length').AddArgument($p)
            $async = $ps.BeginInvoke()
            $async.AsyncWaitHandle.WaitOne(30000) | Should -BeTrue -Because 'serializing a running child must not wait for its exit'
            $ps.EndInvoke($async)[0] | Should -BeGreaterThan 0
        } finally {
            $ps.Stop(); $ps.Dispose()
        }
        $p.IsAlive | Should -BeTrue
    }

    It 'a non-daemon child that writes after its session exited keeps running (its output is drained, no SIGPIPE)' {
        $script = Join-Path $TestDrive 'writer-session.ps1'
        $done = Join-Path $TestDrive 'writer.done'
        $pidFile = Join-Path $TestDrive 'writer.pid'
        Set-Content -LiteralPath $script -Value @'
param($ModulePath, $Done, $PidFile)
Import-Module $ModulePath
$n = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'sleep 1; seq 1 100000; echo to-stderr >&2; echo survived > "$1"', 'sh', $Done
Set-Content -LiteralPath $PidFile -Value $n.Id
exit 0
'@
        $proc = Start-PwshScript -ScriptPath $script -ArgumentList $ModulePath, $done, $pidFile -LogPath (Join-Path $TestDrive 'writer.log')
        try {
            $proc.WaitForExit(120000) | Should -BeTrue
            Register-ExtraPid -Id ([int](Get-Content -LiteralPath $pidFile))
            Wait-Until { Test-Path -LiteralPath $done } -Timeout 30 | Should -BeTrue -Because 'the child wrote 100,000 lines after its session had gone, and lived on'
        } finally {
            if (-not $proc.HasExited) { $proc.Kill() }
            $proc.Dispose()
        }
    }

    It 'Stop ends what the child left in its process group that ignores SIGTERM, after the grace period' {
        $pidFile = Join-Path $TestDrive 'straggler.pid'
        $c = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'trap "exit 0" TERM; sh -c "trap \"\" TERM; echo \$\$ > \"\$1\"; while :; do sleep 0.1; done" sh "$1" & wait', 'sh', $pidFile
        Wait-Until { (Test-Path -LiteralPath $pidFile) -and (Get-Content -LiteralPath $pidFile) } -Timeout 60 | Should -BeTrue
        $straggler = [int](Get-Content -LiteralPath $pidFile)
        Register-ExtraPid -Id $straggler
        Stop-ChildProcess $c -GracePeriod 0.5
        $c.ExitCode | Should -Be 0 -Because 'the leader trapped SIGTERM and exited 0'
        Wait-Until { -not (Test-PidAlive -Id $straggler) } -Timeout 10 | Should -BeTrue -Because 'Stop acts on the whole process group'
    }

    It 'Stop continues a stopped child so it can act on SIGTERM' {
        $p = Start-ChildProcess -FilePath sleep -ArgumentList 300
        kill -STOP $p.Id
        Wait-Until { (Get-Content -Raw "/proc/$($p.Id)/stat") -match '\) T ' } -Timeout 10 | Should -BeTrue
        Stop-ChildProcess $p -GracePeriod 30
        $p.ExitCode | Should -Be -15
    }

    It 'an object larger than the memory bound arrives whole (spilled, not dropped), and the objects around it arrive' {
        $r = @(Start-ChildProcess { 'before'; [pscustomobject]@{ big = 'x' * 5MB }; 'after' } | Receive-ChildProcess -Wait -WarningVariable w 3>$null)
        $r.Count | Should -Be 3
        $r[0] | Should -BeExactly 'before'
        $r[1].big.Length | Should -Be 5MB
        $r[2] | Should -BeExactly 'after'
        $w.Count | Should -Be 0
    }
}

