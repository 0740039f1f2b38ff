#Requires -Version 7.4
# Many children at once: all exit codes right, all reaped (no zombies left in the session).

Describe 'Many children' {
    BeforeAll {
        Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
        $ModulePath = Get-ProcessKitModulePath
        Import-Module $ModulePath -Force
    }
    AfterAll { Clear-TestProcess }
    AfterEach { Clear-TestProcess }

    It '100 short children (true) all exit 0 and leave no zombies' {
        $kids = @(1..100 | ForEach-Object { Start-ChildProcess -FilePath true })
        $kids.Count | Should -Be 100
        @($kids.Id | Sort-Object -Unique).Count | Should -Be 100
        Wait-ChildProcess $kids -Timeout 120 -ErrorAction Stop
        $codes = @(Get-ChildExitCode $kids)
        $codes.Count | Should -Be 100
        @($codes | Where-Object { $_ -ne 0 }).Count | Should -Be 0
        @($kids | Where-Object { "$($_.State)" -ne 'Completed' }).Count | Should -Be 0
        @($kids | Where-Object IsAlive).Count | Should -Be 0
        @(Test-ChildProcess $kids | Where-Object { $_ }).Count | Should -Be 0
        $zombies = @($kids.Id | Where-Object { Test-ZombieOfSession -Id $_ })
        $zombies | Should -BeNullOrEmpty -Because 'every exited child must be reaped once its exit was reported'
    }

    It '100 short children that exit by themselves are reaped without Wait-ChildProcess' {
        $kids = @(1..100 | ForEach-Object { Start-ChildProcess -FilePath sh -ArgumentList '-c', "exit $($_ % 7)" })
        Wait-Until { @(Test-ChildProcess $kids | Where-Object { $_ }).Count -eq 0 } -Timeout 120 | Should -BeTrue
        $codes = @(Get-ChildExitCode $kids)
        $codes | Should -Be @(1..100 | ForEach-Object { $_ % 7 })
        $zombies = @($kids.Id | Where-Object { Test-ZombieOfSession -Id $_ })
        $zombies | Should -BeNullOrEmpty
    }

    It '100 long children (sleep 300) are all stopped with -15 and leave no zombies' {
        $kids = @(1..100 | ForEach-Object { Start-ChildProcess -FilePath sleep -ArgumentList 300 })
        $kids.Count | Should -Be 100
        @(Test-ChildProcess $kids | Where-Object { -not $_ }).Count | Should -Be 0 -Because 'all 100 are running'
        Get-ChildProcess | Stop-ChildProcess
        $codes = @(Get-ChildExitCode $kids)
        $codes.Count | Should -Be 100
        @($codes | Where-Object { $_ -ne -15 }).Count | Should -Be 0
        @($kids | Where-Object { "$($_.State)" -ne 'Stopped' }).Count | Should -Be 0
        @($kids.Id | Where-Object { Test-PidAlive -Id $_ }).Count | Should -Be 0
        $zombies = @($kids.Id | Where-Object { Test-ZombieOfSession -Id $_ })
        $zombies | Should -BeNullOrEmpty
    }

    It '100 long children stopped at once with -Force give -9' {
        $kids = @(1..100 | ForEach-Object { Start-ChildProcess -FilePath sleep -ArgumentList 300 })
        Stop-ChildProcess $kids -Force
        @(Get-ChildExitCode $kids | Where-Object { $_ -ne -9 }).Count | Should -Be 0
        @($kids.Id | Where-Object { Test-ZombieOfSession -Id $_ }).Count | Should -Be 0
    }

    It 'this session has no zombie children at all afterwards' {
        $kids = @(1..20 | ForEach-Object { Start-ChildProcess -FilePath true })
        Wait-ChildProcess $kids -Timeout 120 -ErrorAction Stop
        $zombies = @(Get-ChildItem /proc -Directory | Where-Object Name -Match '^\d+$' | ForEach-Object {
                $s = Get-PidStat -Id ([int]$_.Name)
                if ($s -and $s.State -eq 'Z' -and $s.ParentId -eq $PID) { $s }
            })
        $zombies | Should -BeNullOrEmpty -Because ($zombies | Format-Table | Out-String)
    }
}
