#Requires -Version 7.4
# Lifecycle logging (Python's log_to_stderr): Enable-ChildProcessLog / Disable-ChildProcessLog / Get-ChildProcessLog.
# Logging is process-wide: every test disables it afterwards and looks only at the records of its own (uniquely named) children.

Describe 'Child process logging' {
    BeforeAll {
        Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
        $ModulePath = Get-ProcessKitModulePath
        Import-Module $ModulePath -Force

        # The session logs as MainProcess, unless it is itself a ProcessKit child.
        $Self = if ($env:PROCESSKIT_NAME) { $env:PROCESSKIT_NAME } else { 'MainProcess' }
        $SelfRx = [regex]::Escape($Self)

        function Get-LogRecord([string] $Name) {
            # The ring's records about the child named $Name (its name is unique): the session's records
            # naming it, and the records the child relayed under its own name.
            $rx = '(^|\s)' + [regex]::Escape($Name) + '(\s|:|$)'
            @(Get-ChildProcessLog | Where-Object { $_.ProcessName -eq $Name -or $_.Message -match $rx })
        }

        function Get-LogLine([string] $Name) { @(Get-LogRecord $Name | ForEach-Object { $_.ToString() }) }

        function Wait-LogLine([string] $Name, [string] $Pattern, [double] $Timeout = 30) {
            # Records are written as the lifecycle happens; wait (event-free, but bounded) until $Pattern shows up.
            Wait-Until -Timeout $Timeout { @(Get-LogLine $Name | Where-Object { $_ -match $Pattern }).Count -gt 0 }
        }

        function Assert-InOrder([string[]] $Lines, [string[]] $Patterns) {
            # Each pattern must match a line after the line the previous pattern matched.
            $at = -1
            foreach ($pattern in $Patterns) {
                $found = -1
                for ($i = $at + 1; $i -lt $Lines.Count; $i++) {
                    if ($Lines[$i] -match $pattern) { $found = $i; break }
                }
                $found | Should -BeGreaterThan -1 -Because "a line matching '$pattern' must follow line #$at. Lines:`n$($Lines -join "`n")"
                $at = $found
            }
        }
    }
    AfterEach {
        Disable-ChildProcessLog
        Clear-TestProcess
    }
    AfterAll {
        Disable-ChildProcessLog
        Clear-TestProcess
    }

    Context 'records of the session' {
        It 'start -> Stop-ChildProcess -> exit of sleep 300 gives exactly these lines, in order' {
            $log = Join-Path $TestDrive 'sequence.log'
            Enable-ChildProcessLog -Level Info -Path $log
            $n = New-TestName 'lg-stop'
            $p = Start-ChildProcess -FilePath sleep -ArgumentList 300 -Name $n
            $id = $p.Id
            Stop-ChildProcess $p
            Wait-LogLine $n 'exited with exitcode' | Should -BeTrue
            $lines = Get-LogLine $n
            $lines.Count | Should -Be 3 -Because ($lines -join "`n")
            $lines[0] | Should -Match "^\[INFO/$SelfRx\] child process $n started \(pid $id\): \S*sleep 300$"
            $lines[1] | Should -MatchExactly "^\[INFO/$SelfRx\] sending SIGTERM to $n \(pid $id, process group $id\): Stop-ChildProcess$"
            $lines[2] | Should -MatchExactly "^\[INFO/$SelfRx\] $n \(pid $id\) exited with exitcode -15$"
        }

        It 'records are objects with Time, Level, ProcessName, ProcessId and Message; ToString() is [LEVEL/ProcessName] message' {
            Enable-ChildProcessLog -Level Info -Path (Join-Path $TestDrive 'objects.log')
            $n = New-TestName 'lg-obj'
            $t0 = Get-Date
            $p = Start-ChildProcess -FilePath true -Name $n
            Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop
            Wait-LogLine $n 'exited with exitcode 0' | Should -BeTrue
            $records = Get-LogRecord $n
            $records.Count | Should -Be 2
            foreach ($r in $records) {
                $r.Time | Should -BeOfType [datetime]
                $r.Time | Should -BeGreaterOrEqual $t0.AddSeconds(-1)
                $r.Time | Should -BeLessOrEqual (Get-Date).AddSeconds(1)
                "$($r.Level)" | Should -BeExactly 'Info'
                $r.ProcessName | Should -BeExactly $Self
                $r.ProcessId | Should -Be $PID
                $r.ToString() | Should -BeExactly "[INFO/$Self] $($r.Message)"
            }
            @($records | Where-Object { $_.Message -match "^child process $n started \(pid $($p.Id)\): \S*true$" }).Count | Should -Be 1
            @($records | Where-Object { $_.Message -ceq "$n (pid $($p.Id)) exited with exitcode 0" }).Count | Should -Be 1
        }

        It 'the started record comes before the exited record, even for children that exit at once' {
            Enable-ChildProcessLog -Level Info -Path (Join-Path $TestDrive 'order.log')
            $children = foreach ($i in 1..40) { Start-ChildProcess -FilePath true -Name (New-TestName "lg-ord$i") }
            Wait-ChildProcess $children -Timeout 60 -ErrorAction Stop
            foreach ($c in $children) {
                Wait-LogLine $c.Name 'exited with exitcode 0' | Should -BeTrue
                $lines = Get-LogLine $c.Name
                $lines.Count | Should -Be 2 -Because ($lines -join "`n")
                $lines[0] | Should -Match "^\[INFO/$SelfRx\] child process $($c.Name) started \(pid $($c.Id)\): " -Because "a child's life is logged in order:`n$($lines -join "`n")"
                $lines[1] | Should -MatchExactly "^\[INFO/$SelfRx\] $($c.Name) \(pid $($c.Id)\) exited with exitcode 0$"
            }
        }

        It 'a child that ignores SIGTERM: -GracePeriod 0.3 expiry and the SIGKILL escalation are logged, then the exit with -9' {
            Enable-ChildProcessLog -Level Info -Path (Join-Path $TestDrive 'escalation.log')
            $n = New-TestName 'lg-kill'
            $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'trap "" TERM; echo ready; while :; do sleep 0.1; done' -Name $n
            $id = $p.Id
            Wait-Until -Timeout 60 { @(Receive-ChildProcess $p -Keep) -contains 'ready' } | Should -BeTrue -Because 'the trap is set before the child says ready'
            Stop-ChildProcess $p -GracePeriod 0.3
            Get-ChildExitCode $p | Should -Be -9
            Wait-LogLine $n 'exited with exitcode' | Should -BeTrue
            $lines = Get-LogLine $n
            Assert-InOrder -Lines $lines -Patterns @(
                "^\[INFO/$SelfRx\] child process $n started \(pid $id\): "
                "^\[INFO/$SelfRx\] sending SIGTERM to $n \(pid $id, process group $id\): Stop-ChildProcess$"
                "^\[INFO/$SelfRx\] grace period of 0\.3s expired for $n \(pid $id\); sending SIGKILL$"
                "^\[INFO/$SelfRx\] $n \(pid $id\) exited with exitcode -9$"
            )
            @($lines | Where-Object { $_ -match 'exited with exitcode' }).Count | Should -Be 1
        }

        It '-Path appends (never truncates) lines in the same format as the records' {
            $log = Join-Path $TestDrive 'append.log'
            [System.IO.File]::WriteAllText($log, "line written before`n")
            Enable-ChildProcessLog -Level Info -Path $log
            $a = New-TestName 'lg-app1'
            $p = Start-ChildProcess -FilePath true -Name $a
            Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop
            Wait-LogLine $a 'exited with exitcode 0' | Should -BeTrue
            # Enabling again on the same file appends too.
            Enable-ChildProcessLog -Level Info -Path $log
            $b = New-TestName 'lg-app2'
            $q = Start-ChildProcess -FilePath true -Name $b
            Wait-ChildProcess $q -Timeout 60 -ErrorAction Stop
            Wait-LogLine $b 'exited with exitcode 0' | Should -BeTrue
            Disable-ChildProcessLog

            $file = @([System.IO.File]::ReadAllLines($log))
            $file[0] | Should -BeExactly 'line written before'
            $expected = @(Get-LogLine $a) + @(Get-LogLine $b)
            $expected.Count | Should -Be 4
            @($file | Where-Object { $_ -match "(^|\s)($a|$b)(\s|$)" }) | Should -Be $expected
        }

        It 'a relative -Path is resolved against the PowerShell location, not the process working directory' {
            $dir = Join-Path $TestDrive 'rel-log'
            $null = New-Item -ItemType Directory -Path $dir
            $saved = [Environment]::CurrentDirectory
            Push-Location -LiteralPath $dir
            try {
                [Environment]::CurrentDirectory = '/'
                Enable-ChildProcessLog -Level Info -Path 'relative.log'
            } finally {
                Pop-Location
                [Environment]::CurrentDirectory = $saved
            }
            $n = New-TestName 'lg-rel'
            $p = Start-ChildProcess -FilePath true -Name $n
            Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop
            Wait-LogLine $n 'exited with exitcode 0' | Should -BeTrue
            Disable-ChildProcessLog
            $file = Join-Path $dir 'relative.log'
            Test-Path -LiteralPath $file | Should -BeTrue
            @(Get-Content -LiteralPath $file | Where-Object { $_ -match "(^|\s)$n\s" }).Count | Should -Be 2
        }

        It 'Debug adds the spawning record (argv, working directory, output mode); Info does not' {
            $log = Join-Path $TestDrive 'debug.log'
            $wd = Join-Path $TestDrive 'wd'
            $null = New-Item -ItemType Directory -Path $wd
            Enable-ChildProcessLog -Level Debug -Path $log
            $d = New-TestName 'lg-dbg'
            $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'exit 0' -Name $d -WorkingDirectory $wd
            Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop
            Wait-LogLine $d 'exited with exitcode 0' | Should -BeTrue
            Enable-ChildProcessLog -Level Info -Path $log
            $i = New-TestName 'lg-info'
            $q = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'exit 0' -Name $i -WorkingDirectory $wd
            Wait-ChildProcess $q -Timeout 60 -ErrorAction Stop
            Wait-LogLine $i 'exited with exitcode 0' | Should -BeTrue

            $debugLines = Get-LogLine $d
            Assert-InOrder -Lines $debugLines -Patterns @(
                "^\[DEBUG/$SelfRx\] spawning ${d}: argv \[\S*sh, -c, exit 0\], working directory '$([regex]::Escape($wd))', output Capture$"
                "^\[INFO/$SelfRx\] child process $d started \(pid $($p.Id)\): "
            )
            $infoLines = Get-LogLine $i
            $infoLines.Count | Should -Be 2 -Because ($infoLines -join "`n")
            @($infoLines | Where-Object { $_ -match '^\[DEBUG/' -or $_ -match 'spawning' }).Count | Should -Be 0
        }

        It '-Level Warning suppresses Info records but keeps Error records (a failed start)' {
            Enable-ChildProcessLog -Level Warning -Path (Join-Path $TestDrive 'warning.log')
            $n = New-TestName 'lg-warn'
            $p = Start-ChildProcess -FilePath true -Name $n
            Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop
            $missing = New-TestName 'pk-no-such-program'
            $null = Start-ChildProcess -FilePath "/nonexistent/$missing" -ErrorAction SilentlyContinue
            Wait-Until -Timeout 10 { @(Get-ChildProcessLog | Where-Object { $_.Message -match [regex]::Escape($missing) }).Count -gt 0 } | Should -BeTrue -Because 'an Error record passes a Warning level'
            $err = @(Get-ChildProcessLog | Where-Object { $_.Message -match [regex]::Escape($missing) })
            "$($err[0].Level)" | Should -BeExactly 'Error'
            $err[0].ToString() | Should -Match "^\[ERROR/$SelfRx\] "
            @(Get-LogLine $n).Count | Should -Be 0 -Because 'Info records are below Warning'
        }

        It 'Disable-ChildProcessLog stops the records (ring and file)' {
            $log = Join-Path $TestDrive 'disabled.log'
            Enable-ChildProcessLog -Level Debug -Path $log
            Disable-ChildProcessLog
            $n = New-TestName 'lg-off'
            $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'echo quiet' -Name $n
            Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop
            Stop-ChildProcess $p
            @(Get-LogLine $n).Count | Should -Be 0
            if (Test-Path -LiteralPath $log) { Get-Content -LiteralPath $log -Raw | Should -Not -Match ([regex]::Escape($n)) }
        }

        It 'Get-ChildProcessLog -Last 2 returns the 2 newest records' {
            Enable-ChildProcessLog -Level Info -Path (Join-Path $TestDrive 'last.log')
            $n = New-TestName 'lg-last'
            $p = Start-ChildProcess -FilePath true -Name $n
            Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop
            Wait-LogLine $n 'exited with exitcode 0' | Should -BeTrue
            Disable-ChildProcessLog
            $all = @(Get-ChildProcessLog)
            $all.Count | Should -BeGreaterOrEqual 2
            $last = @(Get-ChildProcessLog -Last 2)
            $last.Count | Should -Be 2
            $last[0].ToString() | Should -BeExactly $all[-2].ToString()
            $last[1].ToString() | Should -BeExactly $all[-1].ToString()
            @($last | Where-Object { $_.Message -match "(^|\s)$n\s" }).Count | Should -Be 2 -Because 'the newest records are the start and exit of the last child'
        }
    }

    Context 'scriptblock children log their own side' {
        It 'their records are relayed under the child''s name and pid, in order, and are not in Receive output' {
            $log = Join-Path $TestDrive 'relay.log'
            Enable-ChildProcessLog -Level Info -Path $log
            $ok = New-TestName 'lg-sb-ok'
            $bad = New-TestName 'lg-sb-bad'
            $p = Start-ChildProcess -Name $ok { 'payload'; Write-Warning 'w' }
            $q = Start-ChildProcess -Name $bad { 'partial'; throw 'sb-failed' }
            Wait-ChildProcess $p, $q -Timeout 60 -ErrorAction Stop
            $outP = @(Receive-ChildProcess $p -Wait -WarningVariable wvP -WarningAction SilentlyContinue -ErrorVariable evP -ErrorAction SilentlyContinue -InformationVariable ivP -Verbose 4>&1)
            $outQ = @(Receive-ChildProcess $q -Wait -WarningVariable wvQ -WarningAction SilentlyContinue -ErrorVariable evQ -ErrorAction SilentlyContinue -InformationVariable ivQ -Verbose 4>&1)
            Wait-LogLine $ok "exited with exitcode 0" | Should -BeTrue
            Wait-LogLine $bad "exited with exitcode 1" | Should -BeTrue

            foreach ($c in @(@{ Child = $p; Code = 0 }, @{ Child = $q; Code = 1 })) {
                $child = $c.Child
                $name = [regex]::Escape($child.Name)
                Assert-InOrder -Lines (Get-LogLine $child.Name) -Patterns @(
                    "^\[INFO/$SelfRx\] child process $name started \(pid $($child.Id)\): "
                    "^\[INFO/$name\] child process calling scriptblock$"
                    "^\[INFO/$name\] process exiting with exitcode $($c.Code)$"
                    "^\[INFO/$SelfRx\] $name \(pid $($child.Id)\) exited with exitcode $($c.Code)$"
                )
                $own = @(Get-LogRecord $child.Name | Where-Object ProcessName -EQ $child.Name)
                $own.Count | Should -Be 2
                foreach ($r in $own) {
                    $r.ProcessId | Should -Be $child.Id
                    "$($r.Level)" | Should -BeExactly 'Info'
                }
            }
            (Get-Content -LiteralPath $log) | Should -Contain "[INFO/$ok] child process calling scriptblock"
            (Get-Content -LiteralPath $log) | Should -Contain "[INFO/$bad] process exiting with exitcode 1"

            $outP | Should -Be @('payload')
            @($wvP | ForEach-Object { "$_" }) | Should -Be @('w')
            $evP.Count | Should -Be 0
            $outQ | Should -Be @('partial')
            @($evQ | ForEach-Object { $_.Exception.Message }) | Should -Be @('sb-failed')
            $wvQ.Count | Should -Be 0
            foreach ($item in @($outP) + @($outQ) + @($wvP) + @($evQ) + @($ivP) + @($ivQ)) {
                "$item" | Should -Not -Match 'calling scriptblock|process exiting|PK1' -Because 'log frames are not output'
            }
        }

        It 'a scriptblock child that ends with exit N logs its own "process exiting with exitcode N"' {
            Enable-ChildProcessLog -Level Info -Path (Join-Path $TestDrive 'relay-exit.log')
            $n = New-TestName 'lg-sb-exit'
            $p = Start-ChildProcess -Name $n { 'x'; exit 6 }
            Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop
            Wait-LogLine $n 'exited with exitcode 6' | Should -BeTrue
            $name = [regex]::Escape($n)
            Assert-InOrder -Lines (Get-LogLine $n) -Patterns @(
                "^\[INFO/$name\] child process calling scriptblock$"
                "^\[INFO/$name\] process exiting with exitcode 6$"
            )
        }

        It 'a scriptblock child started while the level is Warning does not log its Info side, even if the session switches to Info later' {
            $log = Join-Path $TestDrive 'relay-warning.log'
            $go = Join-Path $TestDrive 'relay-warning.go'
            Enable-ChildProcessLog -Level Warning -Path $log
            $n = New-TestName 'lg-sb-warn'
            $p = Start-ChildProcess -Name $n {
                $sw = [System.Diagnostics.Stopwatch]::StartNew()
                while (-not (Test-Path -LiteralPath $using:go) -and $sw.Elapsed.TotalSeconds -lt 60) { Start-Sleep -Milliseconds 50 }
                'quiet'
            }
            # From now on the session would record any Info frame the child sends.
            Enable-ChildProcessLog -Level Info -Path $log
            [System.IO.File]::WriteAllText($go, 'go')
            $out = @(Receive-ChildProcess $p -Wait)
            $out | Should -Be @('quiet')
            Get-ChildExitCode $p | Should -Be 0
            Wait-LogLine $n 'exited with exitcode 0' | Should -BeTrue -Because 'the session itself logs at Info now'
            @(Get-LogRecord $n | Where-Object ProcessName -EQ $n).Count | Should -Be 0 -Because 'the child got the level chosen when it was started (Warning)'
        }
    }

    Context 'stderr of the host process' {
        It 'without -Path the records go to the host process''s stderr (not stdout) as [INFO/MainProcess] lines' {
            $script = Join-Path $TestDrive 'stderr-session.ps1'
            Set-Content -LiteralPath $script -Value @'
Remove-Item Env:PROCESSKIT_NAME -ErrorAction Ignore
Import-Module $args[0] -ErrorAction Stop
Enable-ChildProcessLog
$p = Start-ChildProcess -FilePath sleep -ArgumentList 0.2
Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop
Disable-ChildProcessLog
"script-done pid=$($p.Id)"
'@
            $cmd = @(Get-PwshCommand)
            $psi = [System.Diagnostics.ProcessStartInfo]::new($cmd[0])
            foreach ($a in @($cmd | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-File', $script, $ModulePath)) { $psi.ArgumentList.Add($a) }
            $psi.UseShellExecute = $false
            $psi.RedirectStandardOutput = $true
            $psi.RedirectStandardError = $true
            $psi.RedirectStandardInput = $true
            $psi.Environment.Remove('PROCESSKIT_NAME') | Out-Null
            $proc = [System.Diagnostics.Process]::Start($psi)
            Register-ExtraPid -Id $proc.Id
            try {
                $proc.StandardInput.Close()
                $stdoutTask = $proc.StandardOutput.ReadToEndAsync()
                $stderrTask = $proc.StandardError.ReadToEndAsync()
                $proc.WaitForExit(60000) | Should -BeTrue -Because 'the session script finishes'
                $stdout = $stdoutTask.GetAwaiter().GetResult()
                $stderr = $stderrTask.GetAwaiter().GetResult()
                $proc.ExitCode | Should -Be 0 -Because "stdout: $stdout`nstderr: $stderr"
            } finally {
                $proc.Dispose()
            }
            $stdout -match 'script-done pid=(\d+)' | Should -BeTrue -Because "stdout: $stdout`nstderr: $stderr"
            $childPid = $Matches[1]
            $errLines = @($stderr -split '\r?\n')
            Assert-InOrder -Lines $errLines -Patterns @(
                "^\[INFO/MainProcess\] child process Process-1 started \(pid $childPid\): \S*sleep 0\.2$"
                "^\[INFO/MainProcess\] Process-1 \(pid $childPid\) exited with exitcode 0$"
            )
            $stdout | Should -Not -Match '\[INFO/' -Because 'records go to stderr only'
        }
    }

    Context 'bad input' {
        It 'Enable-ChildProcessLog -Level Nope is a parameter binding error' {
            { Enable-ChildProcessLog -Level Nope } | Should -Throw -ExceptionType ([System.Management.Automation.ParameterBindingException])
        }

        It 'Get-ChildProcessLog -Last 0 is a parameter binding error' {
            { Get-ChildProcessLog -Last 0 } | Should -Throw -ExceptionType ([System.Management.Automation.ParameterBindingException])
        }

        It 'Enable-ChildProcessLog -Path in a missing folder is a terminating ChildProcessLogPathInvalid error and logging stays off' {
            $bad = Join-Path $TestDrive 'no-such-folder/log.txt'
            { Enable-ChildProcessLog -Path $bad } | Should -Throw -ErrorId 'ChildProcessLogPathInvalid*'
            Test-Path -LiteralPath (Join-Path $TestDrive 'no-such-folder') | Should -BeFalse
            $n = New-TestName 'lg-bad'
            $p = Start-ChildProcess -FilePath true -Name $n
            Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop
            @(Get-LogLine $n).Count | Should -Be 0 -Because 'a failed Enable-ChildProcessLog enables nothing'
        }
    }
}
