#Requires -Version 7.4
# Job control (reliability item 14): a child stopped by SIGSTOP/SIGTSTP/SIGTTIN is reported as such (IsSuspended),
# stays Running (alive), is reported again when continued, and Stop-ChildProcess still ends it with -15.

BeforeAll {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
    $ModulePath = Get-ProcessKitModulePath
    Import-Module $ModulePath -Force
}

Describe 'A child stopped by job control' {
    AfterEach { Clear-TestProcess }

    It 'is reported suspended while stopped and not once continued' {
        $c = Start-ChildProcess -FilePath sleep -ArgumentList 300
        $c.IsSuspended | Should -BeFalse
        Send-Signal -Id $c.Id -Signal STOP
        Wait-Until -Timeout 30 { $c.IsSuspended } | Should -BeTrue
        $c.State | Should -Be 'Running'
        Test-ChildProcess $c | Should -BeTrue
        Send-Signal -Id $c.Id -Signal CONT
        Wait-Until -Timeout 30 { -not $c.IsSuspended } | Should -BeTrue
        Test-ChildProcess $c | Should -BeTrue
    }

    It 'is reported suspended as soon as the kernel has it stopped (not at the next one-second sweep), and not once it runs again' {
        $c = Start-ChildProcess -FilePath sleep -ArgumentList 300
        foreach ($round in 1..3) {
            Send-Signal -Id $c.Id -Signal STOP
            Wait-Until -Timeout 30 { (Get-PidStat -Id $c.Id).State -eq 'T' } | Should -BeTrue
            # The kernel posts the stop notification right after it shows the state; the sweep came up to 1 s later.
            Wait-Until -Timeout 0.2 -IntervalMs 10 { $c.IsSuspended } | Should -BeTrue -Because "the child is stopped now (round $round)"
            Send-Signal -Id $c.Id -Signal CONT
            # The continued notification is posted by the child once it runs again, which a loaded machine may delay.
            Wait-Until -Timeout 30 -IntervalMs 10 { -not $c.IsSuspended } | Should -BeTrue -Because "the child runs again (round $round)"
        }
    }

    It 'a suspended child is still ended by Stop-ChildProcess with -15, and the log says it was stopped' {
        Enable-ChildProcessLog -Level Info -Path (Join-Path $TestDrive 'jc.log')
        try {
            $c = Start-ChildProcess -FilePath sleep -ArgumentList 300 -Name jc-stopped
            Send-Signal -Id $c.Id -Signal TSTP
            Wait-Until -Timeout 30 { $c.IsSuspended } | Should -BeTrue
            Stop-ChildProcess $c -GracePeriod 30
            Get-ChildExitCode $c | Should -Be -15
            $c.IsSuspended | Should -BeFalse
            Get-Content (Join-Path $TestDrive 'jc.log') | Should -Contain "[INFO/MainProcess] jc-stopped (pid $($c.Id)) was stopped by signal 20; it stays alive until continued (SIGCONT)"
        } finally {
            Disable-ChildProcessLog
        }
    }
}
