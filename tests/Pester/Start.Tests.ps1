#Requires -Version 7.4
# Start-ChildProcess: the child object, names, working directory, environment, program resolution.

Describe 'Start-ChildProcess' {
    BeforeAll {
        Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
        $ModulePath = Get-ProcessKitModulePath
        Import-Module $ModulePath -Force
    }
    AfterAll { Clear-TestProcess }
    AfterEach { Clear-TestProcess }

    Context 'the child object' {
        It 'outputs exactly one ProcessKit.ChildProcess for the OS process it started' {
            $out = @(Start-ChildProcess -FilePath sleep -ArgumentList 300)
            $out.Count | Should -Be 1
            $p = $out[0]
            $p.PSObject.TypeNames | Should -Contain 'ProcessKit.ChildProcess'
            $p.Id | Should -BeOfType [int]
            $p.Id | Should -BeGreaterThan 0
            $stat = Get-PidStat -Id $p.Id
            $stat | Should -Not -BeNullOrEmpty
            $stat.Comm | Should -Be 'sleep'
        }

        It 'a running child: State Running, IsAlive, no ExitCode, no ExitTime, Daemon false, Command shows what runs' {
            $p = Start-ChildProcess -FilePath sleep -ArgumentList 300
            "$($p.State)" | Should -BeExactly 'Running'
            $p.IsAlive | Should -BeTrue
            $p.ExitCode | Should -BeNullOrEmpty
            $p.ExitTime | Should -BeNullOrEmpty
            $p.Daemon | Should -BeFalse
            $p.Command | Should -Not -BeNullOrEmpty
            $p.Command | Should -Match 'sleep'
            $p.Command | Should -Match '300'
        }

        It 'StartTime is around now; ExitTime is set after exit and not before StartTime' {
            $before = [datetime]::UtcNow
            $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'sleep 0.2'
            $after = [datetime]::UtcNow
            $p.StartTime | Should -Not -BeNullOrEmpty
            $start = if ($p.StartTime -is [datetimeoffset]) { $p.StartTime.UtcDateTime } else { ([datetime]$p.StartTime).ToUniversalTime() }
            $start | Should -BeGreaterOrEqual $before.AddSeconds(-5)
            $start | Should -BeLessOrEqual $after.AddSeconds(5)
            Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop
            $p.ExitTime | Should -Not -BeNullOrEmpty
            $exit = if ($p.ExitTime -is [datetimeoffset]) { $p.ExitTime.UtcDateTime } else { ([datetime]$p.ExitTime).ToUniversalTime() }
            $exit | Should -BeGreaterOrEqual $start
            $exit | Should -BeLessOrEqual ([datetime]::UtcNow.AddSeconds(5))
        }

        It 'the object returned by Start-ChildProcess reflects the exit (State, IsAlive, ExitCode) after Wait' {
            $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'exit 5'
            Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop
            $p.IsAlive | Should -BeFalse
            $p.ExitCode | Should -Be 5
            "$($p.State)" | Should -BeExactly 'Failed'
        }

        It 'notices an exit without being waited on' {
            $p = Start-ChildProcess -FilePath true
            Wait-Until { -not (Test-ChildProcess $p) } -Timeout 30 | Should -BeTrue
            $p.IsAlive | Should -BeFalse
            Get-ChildExitCode $p | Should -Be 0
            "$($p.State)" | Should -BeExactly 'Completed'
        }

        It '-Daemon sets Daemon' {
            $p = Start-ChildProcess -FilePath sleep -ArgumentList 300 -Daemon
            $p.Daemon | Should -BeTrue
        }

        It 'runs the child in its own process group' {
            $p = Start-ChildProcess -FilePath sleep -ArgumentList 300
            $stat = Get-PidStat -Id $p.Id
            $stat.ProcessGroupId | Should -Be $p.Id
            $stat.ProcessGroupId | Should -Not -Be (Get-PidStat -Id $PID).ProcessGroupId
        }

        It 'tracks the new child in Get-ChildProcess' {
            $p = Start-ChildProcess -FilePath sleep -ArgumentList 300
            @(Get-ChildProcess | Where-Object Id -EQ $p.Id).Count | Should -Be 1
        }
    }

    Context 'names' {
        It 'default names count up: Process-N, Process-N+1, Process-N+2' {
            $a = Start-ChildProcess -FilePath true
            $b = Start-ChildProcess -FilePath true
            $c = Start-ChildProcess -FilePath true
            foreach ($p in $a, $b, $c) { $p.Name | Should -Match '^Process-\d+$' }
            $n = [int]($a.Name -replace '^Process-')
            $n | Should -BeGreaterThan 0
            $b.Name | Should -BeExactly "Process-$($n + 1)"
            $c.Name | Should -BeExactly "Process-$($n + 2)"
        }

        It 'the first unnamed child of a fresh session is Process-1' {
            $rs = [runspacefactory]::CreateRunspace()
            $rs.Open()
            $ps = [powershell]::Create()
            $ps.Runspace = $rs
            try {
                $null = $ps.AddScript("Import-Module '$ModulePath'; `$c = Start-ChildProcess -FilePath true; `$null = Wait-ChildProcess `$c -Timeout 60; `$c.Name; `$c.Id")
                $r = $ps.Invoke()
                $ps.Streams.Error | Should -BeNullOrEmpty
                Register-ExtraPid -Id ([int]$r[1])
                $r[0] | Should -BeExactly 'Process-1'
            } finally {
                $ps.Dispose()
                $rs.Dispose()
            }
        }

        It '-Name sets the name and PROCESSKIT_NAME' {
            $name = New-TestName 'named'
            $file = Join-Path $TestDrive "$name.txt"
            $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'printf "%s" "$PROCESSKIT_NAME" > "$1"', 'sh', $file -Name $name
            $p.Name | Should -BeExactly $name
            Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop
            Get-Content -LiteralPath $file -Raw | Should -BeExactly $name
        }

        It 'a child started from inside a ProcessKit child is named after its parent: Process-N:1' {
            $file = Join-Path $TestDrive 'nested.txt'
            $outer = Start-ChildProcess -ScriptBlock {
                param($m, $f)
                Import-Module $m
                $inner = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'printf "%s|%s" "$PROCESSKIT_NAME" "$PROCESSKIT_PARENT_ID" > "$1"', 'sh', "$f.env"
                $null = Wait-ChildProcess $inner -Timeout 60
                Set-Content -LiteralPath $f -Value $inner.Name -NoNewline
            } -ArgumentList $ModulePath, $file
            $outer.Name | Should -Match '^Process-\d+$'
            Wait-ChildProcess $outer -Timeout 120 -ErrorAction Stop
            $err = @(Receive-ChildProcess $outer 2>&1 | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
            Get-ChildExitCode $outer | Should -Be 0 -Because ($err | Out-String)
            Get-Content -LiteralPath $file -Raw | Should -BeExactly "$($outer.Name):1"
            Get-Content -LiteralPath "$file.env" -Raw | Should -BeExactly "$($outer.Name):1|$($outer.Id)"
        }
    }

    Context 'environment' {
        BeforeEach {
            $env:PK_TEST_OVERRIDE = 'old'
            $env:PK_TEST_REMOVE = 'present'
            $env:PK_TEST_INHERIT = 'inherited'
            Remove-Item Env:PK_TEST_ADD -ErrorAction SilentlyContinue
        }
        AfterEach {
            Remove-Item Env:PK_TEST_OVERRIDE, Env:PK_TEST_REMOVE, Env:PK_TEST_INHERIT, Env:PK_TEST_ADD -ErrorAction SilentlyContinue
        }

        It '-Environment adds, overrides and removes ($null) variables; the rest is inherited' {
            $file = Join-Path $TestDrive 'env.txt'
            $script = 'printf "%s|%s|%s|%s" "${PK_TEST_ADD-unset}" "${PK_TEST_OVERRIDE-unset}" "${PK_TEST_REMOVE-unset}" "${PK_TEST_INHERIT-unset}" > "$1"'
            $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', $script, 'sh', $file -Environment @{
                PK_TEST_ADD      = 'added value'
                PK_TEST_OVERRIDE = 'new'
                PK_TEST_REMOVE   = $null
            }
            Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop
            Get-Content -LiteralPath $file -Raw | Should -BeExactly 'added value|new|unset|inherited'
        }

        It '-Environment does not change the session''s own environment' {
            $p = Start-ChildProcess -FilePath true -Environment @{ PK_TEST_ADD = 'x'; PK_TEST_OVERRIDE = 'new'; PK_TEST_REMOVE = $null }
            Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop
            $env:PK_TEST_ADD | Should -BeNullOrEmpty
            $env:PK_TEST_OVERRIDE | Should -BeExactly 'old'
            $env:PK_TEST_REMOVE | Should -BeExactly 'present'
        }

        It 'a program child sees PROCESSKIT_NAME and PROCESSKIT_PARENT_ID = $PID' {
            $file = Join-Path $TestDrive 'pkenv.txt'
            $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'printf "%s|%s" "$PROCESSKIT_NAME" "$PROCESSKIT_PARENT_ID" > "$1"', 'sh', $file
            Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop
            Get-Content -LiteralPath $file -Raw | Should -BeExactly "$($p.Name)|$PID"
        }

        It 'a scriptblock child sees PROCESSKIT_NAME, PROCESSKIT_PARENT_ID and starts in -WorkingDirectory' {
            $dir = Join-Path $TestDrive 'sb wd'
            $null = New-Item -ItemType Directory -Path $dir
            $file = Join-Path $TestDrive 'sbenv.txt'
            $name = New-TestName 'sb'
            $p = Start-ChildProcess {
                param($f)
                Set-Content -LiteralPath $f -NoNewline -Value "$env:PROCESSKIT_NAME|$env:PROCESSKIT_PARENT_ID|$((Get-Location).ProviderPath)|$env:PK_TEST_ADD"
            } -ArgumentList $file -Name $name -WorkingDirectory $dir -Environment @{ PK_TEST_ADD = 'sb-added' }
            Wait-ChildProcess $p -Timeout 120 -ErrorAction Stop
            Get-ChildExitCode $p | Should -Be 0
            $real = (& realpath -- $dir)
            Get-Content -LiteralPath $file -Raw | Should -BeExactly "$name|$PID|$real|sb-added"
        }
    }

    Context 'working directory and program resolution' {
        BeforeEach {
            $savedCwd = [Environment]::CurrentDirectory
            Push-Location
        }
        AfterEach {
            Pop-Location
            [Environment]::CurrentDirectory = $savedCwd
        }

        It '-WorkingDirectory sets the child''s cwd' {
            $dir = Join-Path $TestDrive 'wd with space'
            $null = New-Item -ItemType Directory -Path $dir
            $file = Join-Path $TestDrive 'wd.txt'
            $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'pwd -P > "$1"', 'sh', $file -WorkingDirectory $dir
            Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop
            (Get-Content -LiteralPath $file -Raw).TrimEnd("`n") | Should -BeExactly (& realpath -- $dir)
        }

        It 'the default working directory is the PowerShell location ($PWD), not the process cwd' {
            $dir = Join-Path $TestDrive 'pslocation'
            $null = New-Item -ItemType Directory -Path $dir
            Set-Location -LiteralPath $dir
            [Environment]::CurrentDirectory = '/'
            $file = Join-Path $TestDrive 'defaultwd.txt'
            $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'pwd -P > "$1"', 'sh', $file
            Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop
            (Get-Content -LiteralPath $file -Raw).TrimEnd("`n") | Should -BeExactly (& realpath -- $dir)
        }

        It 'a relative -WorkingDirectory is resolved against the PowerShell location' {
            $base = Join-Path $TestDrive 'relbase'
            $null = New-Item -ItemType Directory -Path (Join-Path $base 'sub')
            Set-Location -LiteralPath $base
            [Environment]::CurrentDirectory = '/'
            $file = Join-Path $TestDrive 'relwd.txt'
            $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'pwd -P > "$1"', 'sh', $file -WorkingDirectory 'sub'
            Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop
            (Get-Content -LiteralPath $file -Raw).TrimEnd("`n") | Should -BeExactly (& realpath -- (Join-Path $base 'sub'))
        }

        It '-FilePath ./script is resolved against the PowerShell location' {
            $dir = Join-Path $TestDrive 'scripts'
            $null = New-Item -ItemType Directory -Path $dir
            $prog = Join-Path $dir 'prog.sh'
            [System.IO.File]::WriteAllText($prog, "#!/bin/sh`nprintf ran > `"`$1`"`n")
            & chmod +x -- $prog
            Set-Location -LiteralPath $dir
            [Environment]::CurrentDirectory = '/'
            $file = Join-Path $TestDrive 'ran.txt'
            $p = Start-ChildProcess -FilePath ./prog.sh -ArgumentList $file
            $p | Should -Not -BeNullOrEmpty
            Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop
            Get-ChildExitCode $p | Should -Be 0
            Get-Content -LiteralPath $file -Raw | Should -BeExactly 'ran'
        }

        It '-FilePath accepts an absolute path' {
            $p = Start-ChildProcess -FilePath /bin/sh -ArgumentList '-c', 'exit 6'
            Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop
            Get-ChildExitCode $p | Should -Be 6
        }

        It '-FilePath finds a bare program name on PATH' {
            $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'exit 8'
            Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop
            Get-ChildExitCode $p | Should -Be 8
        }
    }
}
