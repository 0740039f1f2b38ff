#Requires -Version 7.4
# Exit codes and State: Python's convention (-N for signal N, never 128+N).

Describe 'Exit codes' {
    BeforeAll {
        Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
        $ModulePath = Get-ProcessKitModulePath
        Import-Module $ModulePath -Force
    }
    AfterAll { Clear-TestProcess }

    Context 'program children' {
        AfterEach { Clear-TestProcess }

        It 'true exits 0 and is Completed' {
            $p = Start-ChildProcess -FilePath true
            Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop
            Get-ChildExitCode $p | Should -Be 0
            $p.ExitCode | Should -Be 0
            "$($p.State)" | Should -BeExactly 'Completed'
        }

        It 'false exits 1 and is Failed' {
            $p = Start-ChildProcess -FilePath false
            Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop
            Get-ChildExitCode $p | Should -Be 1
            "$($p.State)" | Should -BeExactly 'Failed'
        }

        It "sh -c 'exit 137' reports 137 (not a signal) and is Failed" {
            $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'exit 137'
            Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop
            Get-ChildExitCode $p | Should -Be 137
            "$($p.State)" | Should -BeExactly 'Failed'
        }

        It "sh -c 'exit 3' reports 3" {
            $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'exit 3'
            Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop
            Get-ChildExitCode $p | Should -Be 3
        }

        It 'a child that kills itself with SIGSEGV reports -11 and is Stopped' {
            $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'kill -SEGV $$'
            Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop
            Get-ChildExitCode $p | Should -Be -11
            $p.ExitCode | Should -Be -11
            "$($p.State)" | Should -BeExactly 'Stopped'
        }

        It 'a child that kills itself with SIGKILL reports -9' {
            $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'kill -KILL $$'
            Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop
            Get-ChildExitCode $p | Should -Be -9
            "$($p.State)" | Should -BeExactly 'Stopped'
        }

        It 'a program killed with SIGTERM from outside ProcessKit reports -15' {
            $p = Start-ChildProcess -FilePath sleep -ArgumentList 300
            Send-Signal -Id $p.Id -Signal TERM
            Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop
            Get-ChildExitCode $p | Should -Be -15
            "$($p.State)" | Should -BeExactly 'Stopped'
        }

        It 'Stop-ChildProcess reports -15' {
            $p = Start-ChildProcess -FilePath sleep -ArgumentList 300
            Stop-ChildProcess $p
            Get-ChildExitCode $p | Should -Be -15
            "$($p.State)" | Should -BeExactly 'Stopped'
        }

        It 'Stop-ChildProcess -Force reports -9' {
            $p = Start-ChildProcess -FilePath sleep -ArgumentList 300
            Stop-ChildProcess $p -Force
            Get-ChildExitCode $p | Should -Be -9
            "$($p.State)" | Should -BeExactly 'Stopped'
        }

        It 'ExitCode is $null and State Running while the child runs' {
            $p = Start-ChildProcess -FilePath sleep -ArgumentList 300
            $code = Get-ChildExitCode $p
            $code | Should -BeNullOrEmpty
            @(Get-ChildExitCode $p).Count | Should -Be 1 -Because 'Get-ChildExitCode outputs one value ($null) per running child'
            $p.ExitCode | Should -BeNullOrEmpty
            "$($p.State)" | Should -BeExactly 'Running'
        }

        It 'Get-ChildExitCode outputs one value per child, in order, $null for running ones' {
            $done1 = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'exit 4'
            $running = Start-ChildProcess -FilePath sleep -ArgumentList 300
            $done2 = Start-ChildProcess -FilePath true
            Wait-ChildProcess $done1, $done2 -Timeout 60 -ErrorAction Stop
            $codes = @(Get-ChildExitCode $done1, $running, $done2)
            $codes.Count | Should -Be 3
            $codes[0] | Should -Be 4
            $codes[1] | Should -BeNullOrEmpty
            $codes[2] | Should -Be 0
        }

        It 'ExitCode is an int' {
            $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'exit 7'
            Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop
            Get-ChildExitCode $p | Should -BeOfType [int]
            $p.ExitCode | Should -BeOfType [int]
        }
    }

    Context 'scriptblock children' {
        # Cold pwsh starts are expensive: start all four at once, wait once, assert per It.
        BeforeAll {
            $exit137 = Start-ChildProcess { exit 137 }
            $throws = Start-ChildProcess { throw 'x' }
            $exit3 = Start-ChildProcess { exit 3 }
            $ok = Start-ChildProcess { 'ok' }
            Wait-ChildProcess $exit137, $throws, $exit3, $ok -Timeout 120 -ErrorAction Stop
        }
        AfterAll { Clear-TestProcess }

        It '{ exit 137 } reports 137 and is Failed' {
            Get-ChildExitCode $exit137 | Should -Be 137
            "$($exit137.State)" | Should -BeExactly 'Failed'
        }

        It "{ throw 'x' } reports 1 (uncaught exception) and is Failed" {
            Get-ChildExitCode $throws | Should -Be 1
            "$($throws.State)" | Should -BeExactly 'Failed'
        }

        It '{ exit 3 } reports 3' {
            Get-ChildExitCode $exit3 | Should -Be 3
        }

        It 'a statement-terminating error is received and the script goes on, as in Start-Job (exit 0); -ErrorAction Stop ends it (1)' {
            $goesOn = Start-ChildProcess { pk-no-such-command; 'after'; [int]::Parse('x'); 'end' }
            $stops = Start-ChildProcess { 'before'; Get-Item -LiteralPath '/pk-no-such-path' -ErrorAction Stop; 'never' }
            Wait-ChildProcess $goesOn, $stops -Timeout 120 -ErrorAction Stop
            $out = @(Receive-ChildProcess $goesOn -ErrorVariable errs -ErrorAction SilentlyContinue)
            $out | Should -Be @('after', 'end')
            @($errs | ForEach-Object { $_.FullyQualifiedErrorId }) | Should -Be @('CommandNotFoundException', 'FormatException')
            $goesOn.ExitCode | Should -Be 0
            @(Receive-ChildProcess $stops -ErrorVariable stopErrs -ErrorAction SilentlyContinue) | Should -Be @('before')
            $stopErrs[0].FullyQualifiedErrorId | Should -Be 'PathNotFound,Microsoft.PowerShell.Commands.GetItemCommand'
            $stops.ExitCode | Should -Be 1
        }

        It 'a break outside any loop ends the script with 0, not with a native command''s leftover exit code' {
            $p = Start-ChildProcess { sh -c 'exit 7'; 'before'; 1..5 | ForEach-Object { if ($_ -eq 2) { break }; $_ }; 'never' }
            Wait-ChildProcess $p -Timeout 120 -ErrorAction Stop
            @(Receive-ChildProcess $p) | Should -Be @('before', 1)
            $p.ExitCode | Should -Be 0
        }

        It 'an error that ends the child keeps its exception, as a catch block would see it' {
            $p = Start-ChildProcess { $ErrorActionPreference = 'Stop'; 1 / 0 }
            Wait-ChildProcess $p -Timeout 120 -ErrorAction Stop
            $null = Receive-ChildProcess $p -ErrorVariable errs -ErrorAction SilentlyContinue
            $p.ExitCode | Should -Be 1
            $errs[0].Exception.Message | Should -Match 'divide by zero'
            $errs[0].CategoryInfo.Reason | Should -Be 'RuntimeException'
        }

        It "{ 'ok' } reports 0 and is Completed" {
            Get-ChildExitCode $ok | Should -Be 0
            "$($ok.State)" | Should -BeExactly 'Completed'
        }

        It "{ 'ok' } output is received" {
            Receive-ChildProcess $ok | Should -Be 'ok'
        }
    }
}
