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
}
