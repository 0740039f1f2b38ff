#Requires -Version 7.4
# Bad input: clear non-terminating ChildProcessStartFailed errors with the OS reason, nothing tracked;
# invalid parameter values rejected by parameter validation.

Describe 'Bad input' {
    BeforeAll {
        Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
        $ModulePath = Get-ProcessKitModulePath
        Import-Module $ModulePath -Force

        function Assert-StartFailed {
            # Runs $Start (a Start-ChildProcess call) and checks: no output, no terminating error,
            # exactly one ChildProcessStartFailed error whose message matches every $MessagePattern, nothing tracked.
            param([scriptblock] $Start, [string[]] $MessagePattern = @())
            @(Get-ChildProcess).Count | Should -Be 0 -Because 'nothing is tracked before the test'
            # 2>&1 merges non-terminating errors into the output; a terminating error throws and fails the test.
            $all = @(& $Start 2>&1)
            $errs = @($all | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
            $out = @($all | Where-Object { $_ -isnot [System.Management.Automation.ErrorRecord] })
            $out.Count | Should -Be 0 -Because 'a failed start outputs no child'
            $errs.Count | Should -Be 1
            $errs[0].FullyQualifiedErrorId | Should -BeLike 'ChildProcessStartFailed*'
            foreach ($pattern in $MessagePattern) { "$($errs[0])" | Should -Match $pattern }
            @(Get-ChildProcess).Count | Should -Be 0 -Because 'a failed start tracks nothing'
        }
    }
    AfterAll { Clear-TestProcess }

    Context 'failed starts' {
        AfterEach { Clear-TestProcess }

        It 'a program that does not exist (absolute path)' {
            Assert-StartFailed -Start { Start-ChildProcess -FilePath /nonexistent/pk-no-such-program } `
                -MessagePattern 'pk-no-such-program', '(?i)no such file|not found|does not exist|cannot find'
        }

        It 'a program name not found on PATH' {
            Assert-StartFailed -Start { Start-ChildProcess -FilePath pk-no-such-program-xyz } `
                -MessagePattern 'pk-no-such-program-xyz'
        }

        It 'a file that is not executable (OS reason: permission denied)' {
            $file = Join-Path $TestDrive 'not-executable.sh'
            [System.IO.File]::WriteAllText($file, "#!/bin/sh`nexit 0`n")
            & chmod 0644 -- $file
            Assert-StartFailed -Start { Start-ChildProcess -FilePath $file } `
                -MessagePattern '(?i)permission denied|not executable'
        }

        It 'a directory given as the program' {
            $dir = Join-Path $TestDrive 'a-directory'
            $null = New-Item -ItemType Directory -Path $dir
            Assert-StartFailed -Start { Start-ChildProcess -FilePath $dir } `
                -MessagePattern '(?i)a-directory|directory|permission denied'
        }

        It 'a working directory that does not exist (program child)' {
            Assert-StartFailed -Start { Start-ChildProcess -FilePath true -WorkingDirectory /nonexistent/pk-no-such-dir } `
                -MessagePattern '(?i)pk-no-such-dir|no such file|not exist|not found'
        }

        It 'a working directory that does not exist (scriptblock child)' {
            Assert-StartFailed -Start { Start-ChildProcess { 'never' } -WorkingDirectory /nonexistent/pk-no-such-dir } `
                -MessagePattern '(?i)pk-no-such-dir|no such file|not exist|not found'
        }

        It 'a working directory that is a file' {
            $file = Join-Path $TestDrive 'wd-is-a-file'
            Set-Content -LiteralPath $file -Value 'x'
            Assert-StartFailed -Start { Start-ChildProcess -FilePath true -WorkingDirectory $file }
        }

        It 'a null scriptblock' {
            Assert-StartFailed -Start { Start-ChildProcess -ScriptBlock $null }
        }

        It 'an empty scriptblock' {
            Assert-StartFailed -Start { Start-ChildProcess -ScriptBlock ([scriptblock]::Create('')) }
        }

        It 'the start error carries the OS error code in the exception (OsError) and the message: <What>' -TestCases @(
            @{ What = 'missing program'; Start = { Start-ChildProcess -FilePath /nonexistent/pk-no-such-program }; Code = 2; Name = 'ENOENT' }
            @{ What = 'missing working directory'; Start = { Start-ChildProcess -FilePath true -WorkingDirectory /nonexistent/pk-wd }; Code = 2; Name = 'ENOENT' }
            @{ What = 'working directory is a file'; Start = { Start-ChildProcess -FilePath true -WorkingDirectory /etc/hostname }; Code = 20; Name = 'ENOTDIR' }
            @{ What = 'program is a directory'; Start = { Start-ChildProcess -FilePath /tmp }; Code = 21; Name = 'EISDIR' }
        ) {
            $ev = @(& $Start 2>&1 | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
            $ev.Count | Should -Be 1
            $ev[0].Exception | Should -BeOfType ([ProcessKit.ChildStartException])
            $ev[0].Exception.OsError | Should -Be $Code
            "$($ev[0])" | Should -Match "OS error $Code, $Name"
        }

        It 'a failed start is non-terminating: the statements after it run' {
            $reached = $false
            & {
                Start-ChildProcess -FilePath /nonexistent/pk-no-such-program -ErrorAction SilentlyContinue
                $reached = $true
                $reached
            } | Should -BeTrue
            @(Get-ChildProcess).Count | Should -Be 0
        }

        It 'a failed start throws with -ErrorAction Stop (ChildProcessStartFailed)' {
            { Start-ChildProcess -FilePath /nonexistent/pk-no-such-program -ErrorAction Stop } | Should -Throw -ErrorId 'ChildProcessStartFailed*'
            @(Get-ChildProcess).Count | Should -Be 0
        }

        It 'an empty -FilePath is an error and tracks nothing' {
            { Start-ChildProcess -FilePath '' -ErrorAction Stop } | Should -Throw
            @(Get-ChildProcess).Count | Should -Be 0
        }

        It 'a failed start does not disturb later starts' {
            $a = Start-ChildProcess -FilePath true
            $null = Start-ChildProcess -FilePath /nonexistent/pk-no-such-program -ErrorAction SilentlyContinue
            $b = Start-ChildProcess -FilePath true
            @(Get-ChildProcess).Count | Should -Be 2
            Wait-ChildProcess $a, $b -Timeout 60 -ErrorAction Stop
            Get-ChildExitCode $a, $b | Should -Be @(0, 0)
        }
    }

    Context 'parameter validation' {
        BeforeAll { $sleeper = Start-ChildProcess -FilePath sleep -ArgumentList 300 }
        AfterAll { Clear-TestProcess }

        It 'Wait-ChildProcess -Timeout -5 is a parameter validation error and the child keeps running' {
            { Wait-ChildProcess $sleeper -Timeout -5 } | Should -Throw -ExceptionType ([System.Management.Automation.ParameterBindingException])
            Test-ChildProcess $sleeper | Should -BeTrue
        }

        It 'Stop-ChildProcess -GracePeriod -1 is a parameter validation error and the child keeps running' {
            { Stop-ChildProcess $sleeper -GracePeriod -1 } | Should -Throw -ExceptionType ([System.Management.Automation.ParameterBindingException])
            Test-ChildProcess $sleeper | Should -BeTrue
            Test-PidAlive -Id $sleeper.Id | Should -BeTrue
        }

        It 'Start-ChildProcess -GracePeriod -1 is a parameter validation error and starts nothing' {
            $before = @(Get-ChildProcess).Count
            { Start-ChildProcess -FilePath true -GracePeriod -1 } | Should -Throw -ExceptionType ([System.Management.Automation.ParameterBindingException])
            @(Get-ChildProcess).Count | Should -Be $before
        }

        It 'Start-ChildProcess with both -ScriptBlock and -FilePath is a parameter binding error' {
            $before = @(Get-ChildProcess).Count
            { Start-ChildProcess -ScriptBlock { 1 } -FilePath true } | Should -Throw -ExceptionType ([System.Management.Automation.ParameterBindingException])
            @(Get-ChildProcess).Count | Should -Be $before
        }
    }
}
