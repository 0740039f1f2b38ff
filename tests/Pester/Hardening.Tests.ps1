#Requires -Version 7.4
# Regression tests for hardened input handling: null selectors, pid reuse, objects piped to programs,
# provider paths, FIFOs, parameter validation, names with wildcard characters, -Environment PATH.

Describe 'Hardening' {
    BeforeAll {
        Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
        $ModulePath = Get-ProcessKitModulePath
        Import-Module $ModulePath -Force

        function Assert-StartFailed {
            # Runs $Start (a Start-ChildProcess call) and checks: no output, no terminating error, exactly one
            # ChildProcessStartFailed error whose message matches every $MessagePattern, nothing tracked. Returns the error.
            param([scriptblock] $Start, [string[]] $MessagePattern = @())
            $before = @(Get-ChildProcess).Count
            $all = @(& $Start 2>&1)
            $errs = @($all | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
            $out = @($all | Where-Object { $_ -isnot [System.Management.Automation.ErrorRecord] })
            $out.Count | Should -Be 0 -Because 'a failed start outputs no child'
            $errs.Count | Should -Be 1
            $errs[0].FullyQualifiedErrorId | Should -BeLike 'ChildProcessStartFailed*'
            foreach ($pattern in $MessagePattern) { "$($errs[0])" | Should -Match $pattern }
            @(Get-ChildProcess).Count | Should -Be $before -Because 'a failed start tracks nothing'
            $errs[0]
        }
    }
    AfterAll { Clear-TestProcess }
    AfterEach { Clear-TestProcess }

    Context 'a null or empty -Id / -Name is a binding error (item 5)' {
        It '<Cmd> -Id $null is refused by parameter validation and touches no child' -TestCases @(
            @{ Cmd = 'Wait-ChildProcess' }, @{ Cmd = 'Stop-ChildProcess' }, @{ Cmd = 'Test-ChildProcess' },
            @{ Cmd = 'Get-ChildExitCode' }, @{ Cmd = 'Remove-ChildProcess' }, @{ Cmd = 'Receive-ChildProcess' },
            @{ Cmd = 'Get-ChildProcess' }
        ) {
            $p = Start-ChildProcess -FilePath sleep -ArgumentList 300
            { & $Cmd -Id $null -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError,*'
            { & $Cmd -Id @() -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError,*'
            { & $Cmd -Name $null -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError,*'
            { & $Cmd -Name '' -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError,*'
            $p.IsAlive | Should -BeTrue
            @(Get-ChildProcess) | Should -Contain $p
        }

        It 'Get-ChildProcess -Id $x.Id | Stop-ChildProcess with $x = $null stops nothing' {
            $a = Start-ChildProcess -FilePath sleep -ArgumentList 300
            $b = Start-ChildProcess -FilePath sleep -ArgumentList 300
            $x = $null
            { Get-ChildProcess -Id $x.Id | Stop-ChildProcess -Force } | Should -Throw -ErrorId 'ParameterArgumentValidationError,*'
            $a.IsAlive | Should -BeTrue
            $b.IsAlive | Should -BeTrue
        }

        It 'a piped object whose Id is $null is a binding error for that object and stops nothing' {
            $a = Start-ChildProcess -FilePath sleep -ArgumentList 300
            [pscustomobject]@{ Id = $null } | Stop-ChildProcess -Force -ErrorVariable ev -ErrorAction SilentlyContinue
            $ev.Count | Should -BeGreaterThan 0
            $a.IsAlive | Should -BeTrue
        }
    }
}
