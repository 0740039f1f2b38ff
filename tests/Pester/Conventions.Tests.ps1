#Requires -Version 7.4
# The conventions of the built-in cmdlets: a wildcard that matches nothing is silent and a literal name is
# ChildProcessNotFound on every selector cmdlet; Test-ChildProcess answers $false for what does not exist; a name or
# a pid as the first positional argument; -Id tab completion; Get-ChildProcessLog filters; the default views.

Describe 'Conventions of the built-in cmdlets' {
    BeforeAll {
        Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
        $ModulePath = Get-ProcessKitModulePath
        Import-Module $ModulePath -Force
    }
    AfterEach { Clear-TestProcess }

    Context 'selectors that match nothing' {
        It '<Cmd> -Name with a wildcard that matches nothing is silent' -TestCases @(
            @{ Cmd = 'Wait-ChildProcess' }, @{ Cmd = 'Stop-ChildProcess' }, @{ Cmd = 'Test-ChildProcess' },
            @{ Cmd = 'Get-ChildExitCode' }, @{ Cmd = 'Remove-ChildProcess' }, @{ Cmd = 'Receive-ChildProcess' },
            @{ Cmd = 'Get-ChildProcess' }
        ) {
            $out = @(& $Cmd -Name 'pk-no-such-*' -ErrorVariable ev -ErrorAction SilentlyContinue)
            $out.Count | Should -Be 0
            $ev.Count | Should -Be 0
        }

        It '<Cmd> -Name with a literal name that matches nothing is ChildProcessNotFound' -TestCases @(
            @{ Cmd = 'Wait-ChildProcess' }, @{ Cmd = 'Stop-ChildProcess' }, @{ Cmd = 'Get-ChildExitCode' },
            @{ Cmd = 'Remove-ChildProcess' }, @{ Cmd = 'Receive-ChildProcess' }, @{ Cmd = 'Get-ChildProcess' }
        ) {
            $null = & $Cmd -Name 'pk-no-such-child' -ErrorVariable ev -ErrorAction SilentlyContinue
            $ev.Count | Should -Be 1
            $ev[0].FullyQualifiedErrorId | Should -BeLike 'ChildProcessNotFound*'
        }

        It 'Test-ChildProcess for a literal name or an id that matches nothing outputs $false, without an error' {
            $r = @(Test-ChildProcess -Name 'pk-no-such-server' -ErrorVariable ev)
            $r | Should -Be @($false)
            $r[0] | Should -BeOfType [bool]
            $ev.Count | Should -Be 0
            Test-ChildProcess -Id ([int]::MaxValue) | Should -BeFalse
            $started = $false
            if (-not (Test-ChildProcess -Name 'pk-no-such-server')) { $started = $true }
            $started | Should -BeTrue
        }

        It 'Test-ChildProcess keeps the order: a running child, one that does not exist, an exited one' {
            $run = Start-ChildProcess -FilePath sleep -ArgumentList 300 -Name (New-TestName 'run')
            $done = Start-ChildProcess -FilePath true -Name (New-TestName 'done')
            Wait-ChildProcess $done -Timeout 60 -ErrorAction Stop
            Test-ChildProcess -Name $run.Name, 'pk-no-such-child', $done.Name | Should -Be @($true, $false, $false)
        }
    }

    Context 'a name or a pid as the first positional argument' {
        It '<Cmd> <name> and <Cmd> <pid> select the child' -TestCases @(
            @{ Cmd = 'Test-ChildProcess' }, @{ Cmd = 'Get-ChildExitCode' }, @{ Cmd = 'Get-ChildProcess' }
        ) {
            $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'exit 4' -Name (New-TestName 'pos')
            Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop
            $byName = @(& $Cmd $p.Name -ErrorAction Stop)
            $byPid = @(& $Cmd $p.Id -ErrorAction Stop)
            $byPidText = @(& $Cmd "$($p.Id)" -ErrorAction Stop)
            $byName.Count | Should -Be 1
            "$($byPid[0])" | Should -Be "$($byName[0])"
            "$($byPidText[0])" | Should -Be "$($byName[0])"
        }

        It 'Stop-ChildProcess worker, Wait-ChildProcess 1234, Receive-ChildProcess and Remove-ChildProcess by position' {
            $name = New-TestName 'worker'
            $p = Start-ChildProcess { 'hello'; Start-Sleep 300 } -Name $name
            Wait-Until -Timeout 60 { (Get-ChildProcess $name).HasMoreData } | Should -BeTrue
            Stop-ChildProcess $name
            Wait-ChildProcess $p.Id -Timeout 60 -ErrorAction Stop
            Get-ChildExitCode $name | Should -Be -15
            Receive-ChildProcess $name | Should -Be 'hello'
            Remove-ChildProcess $p.Id
            Get-ChildProcess | Where-Object Id -EQ $p.Id | Should -BeNullOrEmpty
        }

        It 'a child whose name is digits is selected by its name before any pid' {
            $p = Start-ChildProcess -FilePath sleep -ArgumentList 300 -Name '42'
            @(Get-ChildProcess 42) | Should -Be @($p)
        }

        It 'a pid as text that is no child is ChildProcessNotFound naming it' {
            Stop-ChildProcess "$([int]::MaxValue)" -ErrorVariable ev -ErrorAction SilentlyContinue
            $ev.Count | Should -Be 1
            $ev[0].FullyQualifiedErrorId | Should -BeLike 'ChildProcessNotFound*'
            "$($ev[0])" | Should -Match ([int]::MaxValue)
        }

        It 'a child object still binds to -InputObject at position 0' {
            $p = Start-ChildProcess -FilePath sleep -ArgumentList 300
            Test-ChildProcess $p | Should -BeTrue
            Stop-ChildProcess $p -Force
            Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop
            Get-ChildExitCode $p | Should -Be -9
        }

        It 'objects with both Name and Id still bind by property name (the Id decides)' {
            $p = Start-ChildProcess -FilePath sleep -ArgumentList 300 -Name (New-TestName 'both')
            [pscustomobject]@{ Name = 'pk-other'; Id = $p.Id } | Test-ChildProcess | Should -BeTrue
        }
    }

    Context 'tab completion of -Id' {
        It 'offers the session''s pids with the child''s name and state in the tooltip' {
            $name = New-TestName 'tab'
            $p = Start-ChildProcess -FilePath sleep -ArgumentList 300 -Name $name
            foreach ($cmd in 'Stop-ChildProcess', 'Wait-ChildProcess', 'Get-ChildProcess') {
                $line = "$cmd -Id "
                $r = TabExpansion2 -inputScript $line -cursorColumn $line.Length
                $match = @($r.CompletionMatches | Where-Object CompletionText -EQ "$($p.Id)")
                $match.Count | Should -Be 1 -Because "$cmd -Id completes the pid"
                $match[0].ToolTip | Should -Match ([regex]::Escape($name))
                $match[0].ToolTip | Should -Match 'Running'
            }
            $prefix = "$($p.Id)".Substring(0, 2)
            $line = "Stop-ChildProcess -Id $prefix"
            $r = TabExpansion2 -inputScript $line -cursorColumn $line.Length
            @($r.CompletionMatches.CompletionText) | Should -Contain "$($p.Id)"
            @($r.CompletionMatches.CompletionText | Where-Object { -not $_.StartsWith($prefix) }) | Should -BeNullOrEmpty
        }
    }

    Context 'Get-ChildProcessLog filters' {
        BeforeAll { Enable-ChildProcessLog -Level Debug -Path (Join-Path $TestDrive 'log.txt') }
        AfterAll { Disable-ChildProcessLog }

        It '-Level keeps that level and above; -ProcessName keeps the matching processes; -Last applies after' {
            $p = Start-ChildProcess -FilePath sleep -ArgumentList 300 -Name (New-TestName 'logged')
            Stop-ChildProcess $p
            Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop
            $all = @(Get-ChildProcessLog)
            $all.Count | Should -BeGreaterThan 0
            $info = @(Get-ChildProcessLog -Level Info)
            $info | ForEach-Object { [int]$_.Level | Should -BeGreaterOrEqual 20 }
            @($all | Where-Object { [int]$_.Level -ge 20 }).Count | Should -Be $info.Count
            @(Get-ChildProcessLog -Level Error | Where-Object { $_.Level -ne 'Error' }) | Should -BeNullOrEmpty
            $main = @(Get-ChildProcessLog -ProcessName 'Main*')
            $main.Count | Should -BeGreaterThan 0
            $main.ProcessName | Sort-Object -Unique | Should -Be 'MainProcess'
            @(Get-ChildProcessLog -ProcessName 'pk-nobody') | Should -BeNullOrEmpty
            $last = @(Get-ChildProcessLog -Level Info -Last 1)
            $last.Count | Should -Be 1
            $last[0].Message | Should -Be $info[-1].Message
        }
    }

    Context 'default views' {
        It 'the table does not cut a long name' {
            $name = 'pk-a-rather-long-name-' + (New-TestName 'x')
            $null = Start-ChildProcess -FilePath sleep -ArgumentList 300 -Name $name
            $text = Get-ChildProcess -Name $name | Format-Table | Out-String -Width 200
            $text | Should -Match ([regex]::Escape($name))
        }

        It 'the list shows the curated properties, not the internals; Format-List * shows them all' {
            $p = Start-ChildProcess { 'out' } -Name (New-TestName 'list')
            Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop
            $text = $p | Format-List | Out-String -Width 200
            foreach ($prop in 'Name', 'Id', 'Daemon', 'State', 'ExitCode', 'StartTime', 'ExitTime', 'Duration', 'Command', 'HasMoreData') {
                $text | Should -Match "(?m)^$prop\s+:"
            }
            foreach ($prop in 'Kind', 'OutputMode', 'Removed', 'DaemonGracePeriod') {
                $text | Should -Not -Match "(?m)^$prop\s+:"
            }
            $p | Format-List * | Out-String -Width 200 | Should -Match '(?m)^OutputMode\s+:'
        }

        It 'HasMoreData is true until the output is received (and stays with -Keep); Duration runs to the exit' {
            $p = Start-ChildProcess { 'out' }
            Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop
            Wait-Until -Timeout 30 { $p.HasMoreData } | Should -BeTrue
            Receive-ChildProcess $p -Keep | Should -Be 'out'
            $p.HasMoreData | Should -BeTrue
            Receive-ChildProcess $p | Should -Be 'out'
            $p.HasMoreData | Should -BeFalse
            $p.Duration | Should -BeOfType [timespan]
            $p.Duration | Should -Be ($p.ExitTime - $p.StartTime)
        }

        It 'stderr error records say which child when several are received; one child''s keep the line as it is' {
            $a = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'echo oops-a >&2' -Name (New-TestName 'err-a')
            $b = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'echo oops-b >&2' -Name (New-TestName 'err-b')
            Wait-ChildProcess $a, $b -Timeout 60 -ErrorAction Stop
            $null = Receive-ChildProcess $a, $b -Keep -ErrorVariable several -ErrorAction SilentlyContinue
            @($several | ForEach-Object ToString) | Sort-Object | Should -Be @("$($a.Name): oops-a", "$($b.Name): oops-b")
            @($several.Exception.Message) | Sort-Object | Should -Be @('oops-a', 'oops-b')
            $null = Receive-ChildProcess $a -ErrorVariable one -ErrorAction SilentlyContinue
            "$($one[0])" | Should -Be 'oops-a'
            $null = Receive-ChildProcess -Name "$($b.Name.Substring(0, 6))*" -Wait -ErrorVariable wild -ErrorAction SilentlyContinue
            "$($wild[0])" | Should -Be "$($b.Name): oops-b"
        }

        It 'the timeout error''s category target names the children still running' {
            $a = Start-ChildProcess -FilePath sleep -ArgumentList 300 -Name (New-TestName 'slow')
            $b = Start-ChildProcess -FilePath sleep -ArgumentList 300 -Name (New-TestName 'slower')
            Wait-ChildProcess $a, $b -Timeout 0.1 -ErrorVariable ev -ErrorAction SilentlyContinue
            $ev.Count | Should -Be 1
            $ev[0].CategoryInfo.TargetName | Should -Be "$($a.Name), $($b.Name)"
        }
    }
}
