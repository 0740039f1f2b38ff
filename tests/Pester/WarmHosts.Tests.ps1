#Requires -Version 7.4
# Warm scriptblock hosts (issue 10): a child on a pre-started pwsh is the child a cold start would have made; idle hosts
# are nobody's children and end with their session, however it ends. Also: Wait-ChildProcess progress.

Describe 'Warm hosts' {
    BeforeAll {
        Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
        $ModulePath = Get-ProcessKitModulePath
        Import-Module $ModulePath -Force
        Set-ChildProcessOption -WarmHostCount 1

        # Live (not zombie) processes whose spawn environment marks them as warm hosts of session $SessionId.
        function Get-WarmHostProcess([int] $SessionId) {
            foreach ($dir in [System.IO.Directory]::GetDirectories('/proc')) {
                $name = [System.IO.Path]::GetFileName($dir)
                if ($name -notmatch '^\d+$') { continue }
                try { $environ = [System.IO.File]::ReadAllText("$dir/environ") } catch { continue }
                if ($environ.Split([char]0) -contains "PROCESSKIT_WARM_HOST=$SessionId" -and (Test-PidAlive -Id ([int]$name))) { [int]$name }
            }
        }

        # True when the process started as a warm host (its spawn environment, which nothing in it can change).
        function Test-StartedWarm([int] $Id) {
            try { $environ = [System.IO.File]::ReadAllText("/proc/$Id/environ") } catch { return $false }
            [bool]($environ.Split([char]0) | Where-Object { $_ -like 'PROCESSKIT_WARM_HOST=*' })
        }

        # Activates the session's warm hosts (its first scriptblock child) and waits until one is up.
        function Wait-WarmHost {
            if ((Get-ChildProcessOption).ReadyWarmHostCount -lt 1) {
                $c = Start-ChildProcess { 1 }
                $c | Wait-ChildProcess -Timeout 120 | Out-Null
                $c | Remove-ChildProcess -Force
            }
            Wait-Until -Timeout 120 { (Get-ChildProcessOption).ReadyWarmHostCount -ge 1 } | Should -BeTrue
            (Get-ChildProcessOption).IdleWarmHostIds | Register-ExtraPid
        }
    }
    AfterEach { Clear-TestProcess }
    AfterAll {
        Set-ChildProcessOption -WarmHostCount 1
        Clear-TestProcess
    }

    It 'a warm child has the session''s environment and location as they are at Start-ChildProcess time, -Environment, its own pid and name' {
        $env:PKW_REMOVED = 'there before the host'
        $env:PKW_CHANGED = 'old'
        try {
            Wait-WarmHost
            $hostIds = (Get-ChildProcessOption).IdleWarmHostIds
            $env:PKW_ADDED = 'added later'
            $env:PKW_CHANGED = 'new'
            Remove-Item env:PKW_REMOVED
            $name = New-TestName 'warm'
            Push-Location $TestDrive
            try {
                $c = Start-ChildProcess -Name $name -Environment @{ PKW_ARG = 'given'; PKW_CHANGED = $null } {
                    [pscustomobject]@{
                        Added = $env:PKW_ADDED; Removed = $env:PKW_REMOVED; Changed = $env:PKW_CHANGED; Arg = $env:PKW_ARG
                        RemovedExists = Test-Path env:PKW_REMOVED; ChangedExists = Test-Path env:PKW_CHANGED
                        Location = (Get-Location).ProviderPath; Cwd = (& /bin/pwd); Name = $env:PROCESSKIT_NAME
                        Parent = $env:PROCESSKIT_PARENT_ID; Marker = $env:PROCESSKIT_WARM_HOST; Pid = $PID
                    }
                }
            } finally { Pop-Location }
            $hostIds | Should -Contain $c.Id
            Test-StartedWarm $c.Id | Should -BeTrue
            $r = $c | Receive-ChildProcess -Wait
            $c.ExitCode | Should -Be 0
            $r.Added | Should -Be 'added later'
            $r.Removed | Should -BeNullOrEmpty
            $r.Changed | Should -BeNullOrEmpty
            $r.RemovedExists | Should -BeFalse -Because 'a variable removed since the host started is gone, not empty'
            $r.ChangedExists | Should -BeFalse -Because '-Environment @{ X = $null } removes X'
            $r.Arg | Should -Be 'given'
            $r.Location | Should -Be (Resolve-Path $TestDrive).ProviderPath
            $r.Cwd | Should -Be (Resolve-Path $TestDrive).ProviderPath
            $r.Name | Should -Be $name
            $r.Parent | Should -Be "$PID"
            $r.Marker | Should -BeNullOrEmpty
            $r.Pid | Should -Be $c.Id
            (Get-PidStat -Id $PID).ProcessGroupId | Should -Not -Be $c.Id
        } finally {
            Remove-Item env:PKW_ADDED, env:PKW_REMOVED, env:PKW_CHANGED -ErrorAction Ignore
        }
    }

    It 'a child whose variables that pwsh reads only as it starts (TZ, LANG, HOME, NO_COLOR) differ from the host''s starts cold; a changed PATH still starts warm, with $PSHOME first as pwsh puts it' {
        $probe = { [pscustomobject]@{ Zone = Get-Date -Format zzz; Culture = [cultureinfo]::CurrentCulture.Name; Tilde = (Resolve-Path ~).Path; Rendering = "$($PSStyle.OutputRendering)"; Path = $env:PATH } }
        Wait-WarmHost
        $hostIds = (Get-ChildProcessOption).IdleWarmHostIds
        $cold = Start-ChildProcess $probe -Environment @{ TZ = 'Asia/Tokyo'; LC_ALL = 'de_DE.UTF-8'; HOME = "$TestDrive"; NO_COLOR = '1' }
        Test-StartedWarm $cold.Id | Should -BeFalse
        $r = $cold | Receive-ChildProcess -Wait
        $r.Zone | Should -Be '+09:00'
        $r.Culture | Should -Be 'de-DE'
        $r.Tilde | Should -Be "$TestDrive"
        $r.Rendering | Should -Be 'PlainText'
        # The session's own variables did not change: its idle host is still there for the next child.
        (Get-ChildProcessOption).IdleWarmHostIds | Should -Be $hostIds

        $warm = Start-ChildProcess $probe -Environment @{ PATH = '/pk-nowhere' }
        Test-StartedWarm $warm.Id | Should -BeTrue
        ($warm | Receive-ChildProcess -Wait).Path | Should -Be "$PSHOME$([IO.Path]::PathSeparator)/pk-nowhere"

        # The session sets TZ itself: its idle host can never serve it again, so it is replaced by one that can.
        Wait-WarmHost
        $stale = (Get-ChildProcessOption).IdleWarmHostIds
        $env:TZ = 'Asia/Tokyo'
        try {
            $c = Start-ChildProcess $probe
            Test-StartedWarm $c.Id | Should -BeFalse
            ($c | Receive-ChildProcess -Wait).Zone | Should -Be '+09:00'
            Wait-Until -Timeout 60 { -not (Test-PidAlive -Id $stale[0]) } | Should -BeTrue
            Wait-WarmHost
            $c = Start-ChildProcess $probe
            Test-StartedWarm $c.Id | Should -BeTrue
            ($c | Receive-ChildProcess -Wait).Zone | Should -Be '+09:00'
        } finally {
            Remove-Item env:TZ
            # The host refilled while TZ was set is stale now: the tests that follow get fresh ones.
            Set-ChildProcessOption -WarmHostCount 0
            Set-ChildProcessOption -WarmHostCount 1
        }
    }

    It 'a warm child leads its own process group, and its own children get its name' {
        Wait-WarmHost
        $c = Start-ChildProcess { [pscustomobject]@{ Group = (Get-Content /proc/self/stat -Raw).Split(')')[1].Trim().Split(' ')[2]; Grandchild = (& /bin/sh -c 'echo $PROCESSKIT_NAME') } } -Name (New-TestName 'grp')
        Test-StartedWarm $c.Id | Should -BeTrue
        $r = $c | Receive-ChildProcess -Wait
        $r.Group | Should -Be "$($c.Id)"
        $r.Grandchild | Should -Be $c.Name
    }

    It 'a warm child''s exit codes: exit 5 gives 5, throw gives 1' {
        Wait-WarmHost
        $five = Start-ChildProcess { exit 5 }
        Test-StartedWarm $five.Id | Should -BeTrue
        $five | Wait-ChildProcess -Timeout 60 | Out-Null
        $five.ExitCode | Should -Be 5

        Wait-WarmHost
        $thrown = Start-ChildProcess { throw 'warm failure' }
        Test-StartedWarm $thrown.Id | Should -BeTrue
        $err = $null
        $thrown | Receive-ChildProcess -Wait -ErrorVariable err -ErrorAction SilentlyContinue | Out-Null
        $thrown.ExitCode | Should -Be 1
        "$err" | Should -Match 'warm failure'
    }

    It 'a warm child leaves fast, and nothing it wrote before leaving is lost (records, stdout, stderr)' {
        Wait-WarmHost
        $c = Start-ChildProcess {
            1..20000
            [Console]::Out.Write('no newline at the end of stdout')
            [Console]::Error.Write('no newline at the end of stderr')
            Write-Warning 'last warning'
        }
        Test-StartedWarm $c.Id | Should -BeTrue
        $warn = $null
        $out = @($c | Receive-ChildProcess -Wait -StandardErrorAsText -WarningVariable warn -WarningAction SilentlyContinue)
        $c.ExitCode | Should -Be 0
        $numbers = @($out | Where-Object { $_ -is [int] })
        $numbers.Count | Should -Be 20000
        $numbers[-1] | Should -Be 20000
        "$warn" | Should -Be 'last warning'
        $out | Should -Contain 'no newline at the end of stdout'
        $out | Should -Contain 'no newline at the end of stderr'
    }

    It 'a warm child that needs pwsh''s own exit gets it: its transcript is ended as at a cold exit' {
        Wait-WarmHost
        $transcript = Join-Path $TestDrive 'transcript.txt'
        $t = Start-ChildProcess -ArgumentList $transcript {
            param($path)
            $null = Start-Transcript -LiteralPath $path
            Write-Host 'in the transcript'
        }
        Test-StartedWarm $t.Id | Should -BeTrue
        $t | Wait-ChildProcess -Timeout 60 | Out-Null
        $t.ExitCode | Should -Be 0
        $text = Get-Content -LiteralPath $transcript -Raw
        $text | Should -Match 'in the transcript'
        $text | Should -Match 'PowerShell transcript end'
    }

    It 'idle hosts are not children of the session: Get-ChildProcess never lists them' {
        Wait-WarmHost
        $ids = (Get-ChildProcessOption).IdleWarmHostIds
        $ids.Count | Should -BeGreaterThan 0
        foreach ($id in $ids) { Test-PidAlive -Id $id | Should -BeTrue }
        @(Get-ChildProcess | Where-Object Id -in $ids) | Should -HaveCount 0
    }

    It 'a cold child''s bootstrap imports no module before the user''s code (a module import costs a cold start 70-100 ms)' {
        try {
            Set-ChildProcessOption -WarmHostCount 0
            $c = Start-ChildProcess { @(Get-Module).Name }
            Test-StartedWarm $c.Id | Should -BeFalse
            $modules = @($c | Receive-ChildProcess -Wait)
            $c.ExitCode | Should -Be 0
            $modules | Should -Not -Contain 'Microsoft.PowerShell.Utility'
            $modules | Should -Not -Contain 'Microsoft.PowerShell.Management'
        } finally {
            Set-ChildProcessOption -WarmHostCount 1
        }
    }

    It 'cold and warm children alike resolve the types of the Utility and Management modules before any of their cmdlets' {
        $probe = { '{0} {1}' -f ('Microsoft.PowerShell.Commands.WebRequestMethod' -as [type]), ('Microsoft.PowerShell.Commands.FileSystemProvider' -as [type]) }
        $expected = 'Microsoft.PowerShell.Commands.WebRequestMethod Microsoft.PowerShell.Commands.FileSystemProvider'
        try {
            Set-ChildProcessOption -WarmHostCount 0
            $cold = Start-ChildProcess $probe
            Test-StartedWarm $cold.Id | Should -BeFalse
            $cold | Receive-ChildProcess -Wait | Should -Be $expected
        } finally {
            Set-ChildProcessOption -WarmHostCount 1
        }
        Wait-WarmHost
        $warm = Start-ChildProcess $probe
        Test-StartedWarm $warm.Id | Should -BeTrue
        $warm | Receive-ChildProcess -Wait | Should -Be $expected
    }

    It 'WarmHostCount 0 ends the idle hosts and starts none; Get-ChildProcessOption reads it back' {
        Wait-WarmHost
        $ids = (Get-ChildProcessOption).IdleWarmHostIds
        try {
            Set-ChildProcessOption -WarmHostCount 0
            (Get-ChildProcessOption).WarmHostCount | Should -Be 0
            Wait-Until -Timeout 30 { -not ($ids | Where-Object { Test-PidAlive -Id $_ }) } | Should -BeTrue
            $c = Start-ChildProcess { 'cold' }
            Test-StartedWarm $c.Id | Should -BeFalse
            $c | Receive-ChildProcess -Wait | Should -Be 'cold'
            # Give a refill (1 s after a start) ample time to happen if it wrongly would.
            Start-Sleep -Seconds 3
            (Get-ChildProcessOption).IdleWarmHostCount | Should -Be 0
            @(Get-WarmHostProcess $PID | Where-Object { $_ -notin @(Get-ChildProcess).Id }) | Should -HaveCount 0
        } finally {
            Set-ChildProcessOption -WarmHostCount 1
        }
    }

    It 'a hosted runspace''s idle hosts end when it closes' {
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript({
                param($m)
                Import-Module $m
                $c = Start-ChildProcess { 1 }; $c | Wait-ChildProcess | Out-Null; $c | Remove-ChildProcess
                $deadline = [DateTime]::UtcNow.AddSeconds(120)
                while ((Get-ChildProcessOption).ReadyWarmHostCount -lt 1 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
                (Get-ChildProcessOption).IdleWarmHostIds
            }).AddArgument($ModulePath)
            $ids = @($ps.Invoke())
            $ids | Register-ExtraPid
            $ids.Count | Should -BeGreaterThan 0
            foreach ($id in $ids) { Test-PidAlive -Id $id | Should -BeTrue }
        } finally {
            $ps.Runspace.Close()
            $ps.Dispose()
        }
        Wait-Until -Timeout 30 { -not ($ids | Where-Object { Test-PidAlive -Id $_ }) } | Should -BeTrue
        # Reaped too: no zombie of this session is left either.
        Wait-Until -Timeout 30 { -not ($ids | Where-Object { Test-ZombieOfSession -Id $_ }) } | Should -BeTrue
    }

    Context 'the session ends' {
        BeforeAll {
            $SessionScript = Join-Path $TestDrive 'warm-session.ps1'
            Set-Content -LiteralPath $SessionScript -Value @'
param([string] $ModulePath, [string] $Dir, [string] $End)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
function Wait-Ready { $deadline = [DateTime]::UtcNow.AddSeconds(120); while ((Get-ChildProcessOption).ReadyWarmHostCount -lt 1 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 } }
$c = Start-ChildProcess { 1 }; $c | Wait-ChildProcess | Out-Null
Wait-Ready
$d = Start-ChildProcess { Start-Sleep 300 } -Daemon -Name warmdaemon
Wait-Ready
$idle = (Get-ChildProcessOption).IdleWarmHostIds -join ' '
[System.IO.File]::WriteAllText("$Dir/pids.tmp", "$PID $($d.Id) $idle`n")
Move-Item -LiteralPath "$Dir/pids.tmp" -Destination "$Dir/pids"
if ($End -eq 'exit') { exit 0 }
Start-Sleep -Seconds 300
'@
            function Start-WarmSession([string] $End) {
                $dir = Join-Path $TestDrive ([guid]::NewGuid().ToString('N'))
                New-Item -ItemType Directory -Path $dir | Out-Null
                $proc = Start-PwshScript -ScriptPath $SessionScript -ArgumentList $ModulePath, $dir, $End -LogPath "$dir/log"
                $pids = Read-PidFile -Path "$dir/pids" -Count 3 -Timeout 180
                [pscustomobject]@{ Dir = $dir; Process = $proc; Session = $pids[0]; Daemon = $pids[1]; Idle = @($pids | Select-Object -Skip 2) }
            }
        }

        It 'a warm -Daemon child and the idle hosts die with a SIGKILLed session, leaving no pwsh behind' {
            $s = Start-WarmSession -End block
            Test-StartedWarm $s.Daemon | Should -BeTrue
            Test-PidAlive -Id $s.Daemon | Should -BeTrue
            Send-Signal -Id $s.Session -Signal KILL
            Wait-Until -Timeout 30 { -not (Test-PidAlive -Id $s.Daemon) } | Should -BeTrue
            Wait-Until -Timeout 30 { -not ($s.Idle | Where-Object { Test-PidAlive -Id $_ }) } | Should -BeTrue
            Wait-Until -Timeout 30 { -not (Get-WarmHostProcess $s.Session) } | Should -BeTrue
        }

        It 'after the session exits no idle host is left' {
            $s = Start-WarmSession -End exit
            $s.Process.WaitForExit(60000) | Should -BeTrue
            Wait-Until -Timeout 30 { -not ($s.Idle | Where-Object { Test-PidAlive -Id $_ }) } | Should -BeTrue
            Wait-Until -Timeout 30 { -not (Get-WarmHostProcess $s.Session) } | Should -BeTrue
        }
    }
}

Describe 'Wait-ChildProcess progress' {
    BeforeAll {
        Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
        $ModulePath = Get-ProcessKitModulePath
        Import-Module $ModulePath -Force
        function Invoke-Hosted([scriptblock] $Script) {
            $ps = [powershell]::Create()
            try {
                $null = $ps.AddScript($Script).AddArgument($ModulePath)
                $out = $ps.Invoke()
                [pscustomobject]@{ Output = $out; Progress = @($ps.Streams.Progress); Errors = @($ps.Streams.Error) }
            } finally {
                $ps.Dispose()
            }
        }
    }
    AfterEach { Clear-TestProcess }

    It 'a long wait on several children writes progress records (n of m exited), then completes the bar' {
        $r = Invoke-Hosted {
            param($m)
            Import-Module $m
            $cs = 1..10 | ForEach-Object { Start-ChildProcess -FilePath /bin/sleep -ArgumentList 3 }
            $cs | Wait-ChildProcess
            $cs | ForEach-Object ExitCode
            $cs | Remove-ChildProcess
        }
        $r.Errors | Should -HaveCount 0
        $r.Output | Should -Be (@(0) * 10)
        $r.Progress.Count | Should -BeGreaterThan 0
        $r.Progress | Where-Object StatusDescription -Match '^\d+ of 10 child processes exited$' | Should -Not -BeNullOrEmpty
        $r.Progress[-1].RecordType | Should -Be 'Completed'
    }

    It 'is quiet under -ProgressAction SilentlyContinue' {
        $r = Invoke-Hosted {
            param($m)
            Import-Module $m
            $cs = 1..3 | ForEach-Object { Start-ChildProcess -FilePath /bin/sleep -ArgumentList 2 }
            $cs | Wait-ChildProcess -ProgressAction SilentlyContinue
            $cs | Remove-ChildProcess
        }
        $r.Errors | Should -HaveCount 0
        $r.Progress | Should -HaveCount 0
    }

    It 'relays a scriptblock child''s own Write-Progress record into the session''s progress stream' {
        $r = Invoke-Hosted {
            param($m)
            Import-Module $m
            $c = Start-ChildProcess { Write-Progress -Activity 'pk-child-activity' -Status 'half' -PercentComplete 50; 'done' }
            $c | Receive-ChildProcess -Wait
            $c | Remove-ChildProcess
        }
        $r.Output | Should -Be 'done'
        $p = $r.Progress | Where-Object Activity -eq 'pk-child-activity'
        $p | Should -Not -BeNullOrEmpty
        $p[0].StatusDescription | Should -Be 'half'
        $p[0].PercentComplete | Should -Be 50
    }
}
