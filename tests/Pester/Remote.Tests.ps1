#Requires -Version 7.4
# Children on other hosts over ssh (issue 12, docs/remote.md), against a private sshd on 127.0.0.1 that this file
# starts itself (SshdFixture.psm1: its own config on a free port, temporary host and user keys) and always stops.
# The "remote" host is this machine, so the remote process group's pids can be checked in /proc. Skipped, with the
# reason, when sshd is missing and cannot be installed.

BeforeDiscovery {
    Import-Module "$PSScriptRoot/SshdFixture.psm1" -Force
    $script:SkipReason = Install-SshdIfMissing
}

Describe 'Remote children over ssh' -Skip:([bool]$script:SkipReason) {
    BeforeAll {
        Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
        Import-Module "$PSScriptRoot/SshdFixture.psm1" -Force
        $ModulePath = Get-ProcessKitModulePath
        Import-Module $ModulePath -Force
        $Sshd = Start-TestSshd
        # A remote pwsh: this same PowerShell (a dotnet tool install has no pwsh on the PATH sshd gives).
        $RemotePwshPath = Join-Path $Sshd.Dir 'pwsh'
        $cmd = @(Get-PwshCommand) | ForEach-Object { "'" + ($_ -replace "'", "'\''") + "'" }
        Set-Content -LiteralPath $RemotePwshPath -Value "#!/bin/sh`nexec $($cmd -join ' ') `"`$@`""
        & /bin/chmod +x $RemotePwshPath
        $Ssh = @{ HostName = '127.0.0.1'; Port = $Sshd.Port; KeyFilePath = $Sshd.KeyFile; SSHOption = $Sshd.SshOption }
        $SshPwsh = $Ssh + @{ RemotePwsh = $RemotePwshPath }
        function Test-RemoteGone([int] $Id) { -not (Test-PidAlive -Id $Id) }
    }
    AfterAll {
        Clear-TestProcess
        Stop-TestSshd $Sshd
    }
    AfterEach { Clear-TestProcess }

    It 'a remote program''s exit code is the remote one, with its output as lines' {
        $c = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'echo "out $PROCESSKIT_NAME"; echo err >&2; exit 7' @Ssh -Name remote-seven
        $c | Wait-ChildProcess -Timeout 60 | Out-Null
        $c.ExitCode | Should -Be 7
        $c.State | Should -Be 'Failed'
        $c.HostName | Should -Be "127.0.0.1:$($Sshd.Port)"
        $c.RemoteId | Should -BeGreaterThan 1
        Receive-ChildProcess $c -ErrorAction SilentlyContinue -ErrorVariable err | Should -Be 'out remote-seven'
        "$err" | Should -Be 'err' -Because 'the wrapper''s status lines are not part of the child''s stderr'
    }

    It 'a remote program ended by SIGTERM reports -15, not ssh''s 255' {
        $c = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'kill -TERM $$' @Ssh
        $c | Wait-ChildProcess -Timeout 60 | Out-Null
        $c.ExitCode | Should -Be -15
    }

    It 'arguments, -Environment and -WorkingDirectory reach the remote program as given' {
        $c = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'printf "%s|" "$@" "$PK_T" "$(pwd)"', 'sh', "it's a", 'b  c', '$HOME' @Ssh -Environment @{ PK_T = "x'y" } -WorkingDirectory /tmp
        $c | Wait-ChildProcess -Timeout 60 | Out-Null
        $c.ExitCode | Should -Be 0
        Receive-ChildProcess $c | Should -Be "it's a|b  c|`$HOME|x'y|/tmp|"
    }

    It 'piped input reaches the remote program' {
        $c = 'a', 'b' | Start-ChildProcess -FilePath cat @Ssh
        $c | Wait-ChildProcess -Timeout 60 | Out-Null
        $c.ExitCode | Should -Be 0
        Receive-ChildProcess $c | Should -Be 'a', 'b'
    }

    It 'Stop-ChildProcess ends the whole remote process group' {
        $dir = Join-Path $TestDrive 'stop'
        $null = New-Item -ItemType Directory -Path $dir
        $c = Start-ChildProcess -FilePath sh -ArgumentList '-c', "sleep 300 & echo `$! > '$dir/grandchild'; wait" @Ssh
        $grandchild = Read-PidFile -Path "$dir/grandchild"
        $leader = $c.RemoteId
        Test-PidAlive -Id $leader | Should -BeTrue
        (Get-PidStat -Id $grandchild).ProcessGroupId | Should -Be $leader -Because 'the remote command leads its own group'
        Stop-ChildProcess $c -GracePeriod 5
        $c.ExitCode | Should -Be -15
        $c.State | Should -Be 'Stopped'
        Wait-Until -Timeout 10 { (Test-RemoteGone $leader) -and (Test-RemoteGone $grandchild) } | Should -BeTrue
    }

    It 'Stop-ChildProcess -Force reports -9' {
        $c = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'trap "" TERM; sleep 300' @Ssh
        Stop-ChildProcess $c -Force
        $c.ExitCode | Should -Be -9
    }

    It 'a remote scriptblock returns its objects and knows its name' {
        $x = 5
        $c = 1..3 | Start-ChildProcess { param($m) $env:PROCESSKIT_NAME; $input | ForEach-Object { $_ * $m + $using:x }; [pscustomobject]@{ Kind = 'object' }; exit 3 } -ArgumentList 10 @SshPwsh -Name remote-block
        $c | Wait-ChildProcess -Timeout 90 | Out-Null
        $c.ExitCode | Should -Be 3
        $out = @(Receive-ChildProcess $c)
        $out[0] | Should -Be 'remote-block'
        $out[1..3] | Should -Be 15, 25, 35
        $out[4].Kind | Should -Be 'object'
    }

    It 'a remote scriptblock''s errors arrive as error records' {
        $c = Start-ChildProcess { Write-Error 'remote oops'; 'after' } @SshPwsh
        $c | Wait-ChildProcess -Timeout 90 | Out-Null
        $out = Receive-ChildProcess $c -ErrorAction SilentlyContinue -ErrorVariable err
        $out | Should -Be 'after'
        "$err" | Should -Match 'remote oops'
    }

    It 'an unreachable host is a prompt ChildProcessStartFailed with ssh''s reason, and nothing is tracked' {
        $closed = Get-FreeTcpPort
        $before = @(Get-ChildProcess).Count
        $sw = [System.Diagnostics.Stopwatch]::StartNew()
        $e = { Start-ChildProcess -FilePath true -HostName "127.0.0.1:$closed" -ConnectTimeout 5 -ErrorAction Stop } | Should -Throw -PassThru
        $sw.Elapsed.TotalSeconds | Should -BeLessThan 15
        $e.FullyQualifiedErrorId | Should -BeLike 'ChildProcessStartFailed*'
        "$e" | Should -Match 'Connection refused'
        @(Get-ChildProcess).Count | Should -Be $before
    }

    It 'an authentication failure is ChildProcessStartFailed with ssh''s reason' {
        $other = Join-Path $TestDrive 'other_key'
        & ssh-keygen -q -t ed25519 -N '' -f $other | Out-Null
        $opts = $Ssh.Clone(); $opts.KeyFilePath = $other
        $opts.SSHOption = $Sshd.SshOption + @{ IdentitiesOnly = 'yes' }
        $e = { Start-ChildProcess -FilePath true @opts -ErrorAction Stop } | Should -Throw -PassThru
        $e.FullyQualifiedErrorId | Should -BeLike 'ChildProcessStartFailed*'
        "$e" | Should -Match 'Permission denied'
    }

    It 'a missing remote program or remote pwsh is ChildProcessStartFailed' {
        { Start-ChildProcess -FilePath no-such-program-pk @Ssh -ErrorAction Stop } | Should -Throw -ErrorId 'ChildProcessStartFailed*' -ExpectedMessage '*no-such-program-pk*not found*'
        { Start-ChildProcess { 1 } @Ssh -RemotePwsh /no/such/pwsh -ErrorAction Stop } | Should -Throw -ErrorId 'ChildProcessStartFailed*' -ExpectedMessage '*/no/such/pwsh*not found*'
    }

    It 'ssh parameters without -HostName are refused' {
        { Start-ChildProcess -FilePath true -Port 22 -ErrorAction Stop } | Should -Throw -ErrorId 'ChildProcessStartFailed*' -ExpectedMessage '*-Port applies only*'
    }

    It 'the host is in the log records' {
        $log = Join-Path $TestDrive 'remote.log'
        Enable-ChildProcessLog -Level Info -Path $log
        try {
            $c = Start-ChildProcess -FilePath true @Ssh -Name remote-logged
            $c | Wait-ChildProcess -Timeout 60 | Out-Null
        } finally { Disable-ChildProcessLog }
        $text = Get-Content -LiteralPath $log -Raw
        $text | Should -Match "remote-logged .*runs on 127\.0\.0\.1:$($Sshd.Port) as remote process group $($c.RemoteId)"
    }

    It 'a remote daemon is gone soon after its session is SIGKILLed' {
        $dir = Join-Path $TestDrive 'lifeline'
        $null = New-Item -ItemType Directory -Path $dir
        $script = Join-Path $dir 'session.ps1'
        Set-Content -LiteralPath $script -Value @'
param($ModulePath, $Dir, $Port, $Key)
$ErrorActionPreference = 'Stop'
Remove-Item Env:PROCESSKIT_NAME, Env:PROCESSKIT_PARENT_ID -ErrorAction Ignore
Import-Module $ModulePath
$opt = @{ StrictHostKeyChecking = 'no'; UserKnownHostsFile = '/dev/null' }
$d = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'trap "" TERM; sleep 300' -HostName 127.0.0.1 -Port $Port -KeyFilePath $Key -SSHOption $opt -Daemon -GracePeriod 0.5
$n = Start-ChildProcess -FilePath sleep -ArgumentList 300 -HostName 127.0.0.1 -Port $Port -KeyFilePath $Key -SSHOption $opt
[IO.File]::WriteAllText("$Dir/pids.tmp", "$PID $($d.RemoteId) $($n.RemoteId) $($d.Id) $($n.Id)`n"); [IO.File]::Move("$Dir/pids.tmp", "$Dir/pids")
Start-Sleep 300
'@
        $session = Start-PwshScript -ScriptPath $script -ArgumentList $ModulePath, $dir, $Sshd.Port, $Sshd.KeyFile -LogPath "$dir/session.out"
        try {
            $sessionPid, $daemon, $nonDaemon, $daemonSsh, $nonDaemonSsh = Read-PidFile -Path "$dir/pids" -Count 5 -Timeout 90
        } catch { throw "$_ Output: $(Get-Content "$dir/session.out" -Raw -ErrorAction Ignore)" }
        Test-PidAlive -Id $daemon | Should -BeTrue
        Send-Signal -Id $sessionPid -Signal KILL
        Wait-Until -Timeout 10 { Test-RemoteGone $daemon } | Should -BeTrue -Because 'the connection is the daemon''s lifeline: SIGTERM (ignored), grace, SIGKILL'
        # The documented choice for a non-daemon: it outlives its session, as a local non-daemon does (Python), while
        # its ssh connection lasts.
        Test-PidAlive -Id $nonDaemon | Should -BeTrue
    }

    It 'a non-daemon remote child ends when its connection drops (the ssh client killed)' {
        $c = Start-ChildProcess -FilePath sleep -ArgumentList 300 @Ssh
        $remote = $c.RemoteId
        Send-Signal -Id $c.Id -Signal KILL
        $c | Wait-ChildProcess -Timeout 30 | Out-Null
        $c.ExitCode | Should -Be -9 -Because 'ssh itself was killed: no remote status'
        Wait-Until -Timeout 10 { Test-RemoteGone $remote } | Should -BeTrue
    }

    Context 'a pool with remote workers' {
        BeforeAll {
            $PoolSsh = @{ KeyFilePath = $Sshd.KeyFile; SSHOption = $Sshd.SshOption; RemotePwsh = $RemotePwshPath }
            $HostA = "127.0.0.1:$($Sshd.Port)"
            $HostB = "localhost:$($Sshd.Port)"
        }
        AfterEach {
            Get-ChildProcessPool | Remove-ChildProcessPool -Force -ErrorAction SilentlyContinue
        }

        It 'maps items in order over workers on several hosts (a hashtable host -> count)' {
            $pool = New-ChildProcessPool -HostName @{ $HostA = 2; $HostB = 1 } @PoolSsh
            $pool.ThrottleLimit | Should -Be 3
            $r = 1..12 | Invoke-ChildProcessPool { $_ * 3 } -Pool $pool -BatchSize 1
            $r | Should -Be (1..12 | ForEach-Object { $_ * 3 })
            @($pool.Workers.HostName | Sort-Object -Unique) | Should -Be @($HostA, $HostB)
            $pool.Workers | ForEach-Object { $_.Child.RemoteId | Should -BeGreaterThan 1 }
        }

        It 'a worker whose connection is killed mid-item fails that item with ChildProcessPoolWorkerDied, and is replaced' {
            $dir = Join-Path $TestDrive 'pool-kill'
            $null = New-Item -ItemType Directory -Path $dir
            $pool = New-ChildProcessPool -HostName $HostA -ThrottleLimit 2 @PoolSsh
            $null = 1..4 | Invoke-ChildProcessPool { $_ } -Pool $pool -BatchSize 1
            $pool.Workers.Count | Should -Be 2
            $before = @($pool.Workers | ForEach-Object { [pscustomobject]@{ Name = $_.Name; Ssh = $_.Id; Remote = $_.Child.RemoteId } })
            Set-Content -LiteralPath "$dir/map" -Value ($before | ForEach-Object { "$($_.Name) $($_.Ssh)" })
            # Kills the ssh client of the worker that took item 3, once that item is running there.
            $killer = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'while [ ! -s "$1/marker" ]; do sleep 0.1; done; n=$(cat "$1/marker"); p=$(grep "^$n " "$1/map" | cut -d" " -f2); kill -9 "$p"; echo "$n" > "$1/killed"', 'sh', $dir
            $r = 1..6 | Invoke-ChildProcessPool {
                if ($_ -eq 3) { [IO.File]::WriteAllText("$using:dir/marker", "$env:PROCESSKIT_NAME`n"); Start-Sleep 30; throw "the connection was not killed" }
                $_
            } -Pool $pool -BatchSize 1 -ErrorVariable errs -ErrorAction SilentlyContinue
            $killer | Wait-ChildProcess -Timeout 30 | Out-Null
            $r | Should -Be 1, 2, 4, 5, 6
            $errs.Count | Should -Be 1
            $errs[0].FullyQualifiedErrorId | Should -BeLike 'ChildProcessPoolWorkerDied*'
            $errs[0].TargetObject | Should -Be 3
            $killed = (Get-Content -LiteralPath "$dir/killed").Trim()
            $victim = $before | Where-Object Name -eq $killed
            Wait-Until -Timeout 10 { Test-RemoteGone $victim.Remote } | Should -BeTrue -Because 'the dropped connection ends the remote worker'
            $pool.Workers.Name | Should -Not -Contain $killed
            $null = 1..4 | Invoke-ChildProcessPool { $_ } -Pool $pool
            $pool.Workers.Count | Should -Be 2 -Because 'the dead worker was replaced'
        }

        It 'an item retried after its host''s connection died completes elsewhere (-Retry)' {
            $dir = Join-Path $TestDrive 'pool-retry'
            $null = New-Item -ItemType Directory -Path $dir
            $pool = New-ChildProcessPool -HostName $HostA, $HostB -ThrottleLimit 1 @PoolSsh
            $null = 1..4 | Invoke-ChildProcessPool { $_ } -Pool $pool -BatchSize 1
            Set-Content -LiteralPath "$dir/map" -Value ($pool.Workers | ForEach-Object { "$($_.Name) $($_.Id)" })
            $killer = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'while [ ! -s "$1/marker" ]; do sleep 0.1; done; n=$(cat "$1/marker"); p=$(grep "^$n " "$1/map" | cut -d" " -f2); kill -9 "$p"; touch "$1/done"', 'sh', $dir
            $r = 1..5 | Invoke-ChildProcessPool {
                if ($_ -eq 2 -and -not (Test-Path "$using:dir/done")) { [IO.File]::WriteAllText("$using:dir/marker", "$env:PROCESSKIT_NAME`n"); Start-Sleep 30; throw "the connection was not killed" }
                $_
            } -Pool $pool -BatchSize 1 -Retry 1 -ErrorVariable errs -ErrorAction SilentlyContinue
            $killer | Wait-ChildProcess -Timeout 30 | Out-Null
            $errs.Count | Should -Be 0
            $r | Should -Be 1, 2, 3, 4, 5
        }

        It 'a host that cannot be reached is left out; the pool goes on with the others' {
            $closed = Get-FreeTcpPort
            $pool = New-ChildProcessPool -HostName "127.0.0.1:$closed", $HostA -ThrottleLimit 2 @PoolSsh -ConnectTimeout 5
            $r = 1..6 | Invoke-ChildProcessPool { $_ + 100 } -Pool $pool
            $r | Should -Be (101..106)
            $down = @($pool.RemoteHosts | Where-Object IsDown)
            $down.HostName | Should -Be "127.0.0.1:$closed"
            $down.DownReason | Should -Match 'Connection refused'
        }

        It 'a pool whose every host is unreachable fails its run with the reason' {
            $closed = Get-FreeTcpPort
            $pool = New-ChildProcessPool -HostName "127.0.0.1:$closed" -ThrottleLimit 1 @PoolSsh -ConnectTimeout 5
            { 1..2 | Invoke-ChildProcessPool { $_ } -Pool $pool -ErrorAction Stop } | Should -Throw -ExpectedMessage '*Connection refused*'
        }
    }
}
