#Requires -Version 7.4
# Selecting children: -InputObject (position 0, pipeline), -Name (wildcards), -Id (by property name),
# ChildProcessNotFound; plus Test-ChildProcess, Get-ChildProcess and Remove-ChildProcess.

Describe 'Selectors' {
    BeforeAll {
        Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
        $ModulePath = Get-ProcessKitModulePath
        Import-Module $ModulePath -Force
        $SelectorCmdlets = @('Wait-ChildProcess', 'Stop-ChildProcess', 'Test-ChildProcess', 'Get-ChildExitCode', 'Remove-ChildProcess', 'Receive-ChildProcess')
    }
    AfterAll { Clear-TestProcess }
    AfterEach { Clear-TestProcess }

    Context 'parameter metadata' {
        It '<Cmd> has -InputObject (position 0, from the pipeline), -Name (string[]) and -Id (int[], by property name)' -TestCases @(
            @{ Cmd = 'Wait-ChildProcess' }, @{ Cmd = 'Stop-ChildProcess' }, @{ Cmd = 'Test-ChildProcess' },
            @{ Cmd = 'Get-ChildExitCode' }, @{ Cmd = 'Remove-ChildProcess' }, @{ Cmd = 'Receive-ChildProcess' }
        ) {
            $c = Get-Command $Cmd -Module ProcessKit
            $c.Parameters.Keys | Should -Contain 'InputObject'
            $c.Parameters.Keys | Should -Contain 'Name'
            $c.Parameters.Keys | Should -Contain 'Id'
            $io = @($c.Parameters['InputObject'].Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] })
            @($io | Where-Object ValueFromPipeline).Count | Should -BeGreaterThan 0
            @($io | Where-Object Position -EQ 0).Count | Should -BeGreaterThan 0
            $c.Parameters['InputObject'].ParameterType.IsArray | Should -BeTrue
            $c.Parameters['Name'].ParameterType | Should -Be ([string[]])
            $c.Parameters['Id'].ParameterType | Should -Be ([int[]])
            $idAttr = @($c.Parameters['Id'].Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] })
            @($idAttr | Where-Object ValueFromPipelineByPropertyName).Count | Should -BeGreaterThan 0
        }
    }

    Context 'ChildProcessNotFound' {
        It '<Cmd> -Name of an unknown child writes a non-terminating ChildProcessNotFound (ObjectNotFound)' -TestCases @(
            @{ Cmd = 'Wait-ChildProcess' }, @{ Cmd = 'Stop-ChildProcess' },
            @{ Cmd = 'Get-ChildExitCode' }, @{ Cmd = 'Remove-ChildProcess' }, @{ Cmd = 'Receive-ChildProcess' }
        ) {
            $out = @(& $Cmd -Name 'pk-no-such-child' -ErrorVariable ev -ErrorAction SilentlyContinue)
            $out.Count | Should -Be 0
            $ev.Count | Should -Be 1
            $ev[0].FullyQualifiedErrorId | Should -BeLike 'ChildProcessNotFound*'
            $ev[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
            "$($ev[0])" | Should -Match 'pk-no-such-child'
        }

        It '<Cmd> -Id of an unknown child writes a non-terminating ChildProcessNotFound (ObjectNotFound)' -TestCases @(
            @{ Cmd = 'Wait-ChildProcess' }, @{ Cmd = 'Stop-ChildProcess' },
            @{ Cmd = 'Get-ChildExitCode' }, @{ Cmd = 'Remove-ChildProcess' }, @{ Cmd = 'Receive-ChildProcess' }
        ) {
            $out = @(& $Cmd -Id ([int]::MaxValue) -ErrorVariable ev -ErrorAction SilentlyContinue)
            $out.Count | Should -Be 0
            $ev.Count | Should -Be 1
            $ev[0].FullyQualifiedErrorId | Should -BeLike 'ChildProcessNotFound*'
            $ev[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        }

        It 'a pid that is not this session''s child is not found (e.g. $PID)' {
            Get-ChildExitCode -Id $PID -ErrorVariable ev -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $ev.Count | Should -Be 1
            $ev[0].FullyQualifiedErrorId | Should -BeLike 'ChildProcessNotFound*'
        }

        It 'Stop-ChildProcess still stops the children that were found' {
            $p = Start-ChildProcess -FilePath sleep -ArgumentList 300 -Name (New-TestName 'found')
            Stop-ChildProcess -Name 'pk-no-such-child', $p.Name -ErrorVariable ev -ErrorAction SilentlyContinue
            $ev.Count | Should -Be 1
            $ev[0].FullyQualifiedErrorId | Should -BeLike 'ChildProcessNotFound*'
            Test-ChildProcess $p | Should -BeFalse
            Get-ChildExitCode $p | Should -Be -15
        }

        It 'Stop-ChildProcess -Id still stops the children that were found' {
            $p = Start-ChildProcess -FilePath sleep -ArgumentList 300
            Stop-ChildProcess -Id ([int]::MaxValue), $p.Id -Force -ErrorVariable ev -ErrorAction SilentlyContinue
            $ev.Count | Should -Be 1
            Get-ChildExitCode $p | Should -Be -9
        }

        It 'Wait-ChildProcess still waits for the children that were found' {
            $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'sleep 0.3; exit 2' -Name (New-TestName 'found')
            Wait-ChildProcess -Name $p.Name, 'pk-no-such-child' -Timeout 60 -ErrorVariable ev -ErrorAction SilentlyContinue
            @($ev | Where-Object FullyQualifiedErrorId -Like 'ChildProcessNotFound*').Count | Should -Be 1
            @($ev | Where-Object FullyQualifiedErrorId -Like 'ChildProcessWaitTimeout*').Count | Should -Be 0
            Get-ChildExitCode $p | Should -Be 2
        }

        It 'Test-ChildProcess and Get-ChildExitCode still output for the children that were found' {
            $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'exit 9'
            Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop
            $t = @(Test-ChildProcess -Id ([int]::MaxValue), $p.Id -ErrorVariable ev1 -ErrorAction SilentlyContinue)
            $t | Should -Be @($false, $false) -Because 'an id that matches no child is not alive: $false, no error'
            $ev1.Count | Should -Be 0
            $c = @(Get-ChildExitCode -Id $p.Id, ([int]::MaxValue) -ErrorVariable ev2 -ErrorAction SilentlyContinue)
            $c | Should -Be @(9)
            $ev2.Count | Should -Be 1
        }

        It 'Remove-ChildProcess still removes the children that were found' {
            $p = Start-ChildProcess -FilePath true -Name (New-TestName 'found')
            Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop
            Remove-ChildProcess -Name 'pk-no-such-child', $p.Name -ErrorVariable ev -ErrorAction SilentlyContinue
            $ev.Count | Should -Be 1
            @(Get-ChildProcess | Where-Object Id -EQ $p.Id).Count | Should -Be 0
        }

        It 'Receive-ChildProcess still receives from the children that were found' {
            $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'echo found-output' -Name (New-TestName 'found')
            Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop
            $out = @(Receive-ChildProcess -Name 'pk-no-such-child', $p.Name -ErrorVariable ev -ErrorAction SilentlyContinue)
            @($ev | Where-Object FullyQualifiedErrorId -Like 'ChildProcessNotFound*').Count | Should -Be 1
            $out | Should -Contain 'found-output'
        }
    }

    Context '-Name and -Id' {
        It '-Name with wildcards selects every match; other children are untouched' {
            $pfx = New-TestName 'wc'
            $a1 = Start-ChildProcess -FilePath sleep -ArgumentList 300 -Name "$pfx-alpha-1"
            $a2 = Start-ChildProcess -FilePath sleep -ArgumentList 300 -Name "$pfx-alpha-2"
            $b1 = Start-ChildProcess -FilePath sleep -ArgumentList 300 -Name "$pfx-beta-1"
            @(Get-ChildProcess -Name "$pfx-alpha-*").Count | Should -Be 2
            @(Test-ChildProcess -Name "$pfx-*").Count | Should -Be 3
            Stop-ChildProcess -Name "$pfx-alpha-*"
            Test-ChildProcess $a1, $a2, $b1 | Should -Be @($false, $false, $true)
            Get-ChildExitCode $a1, $a2 | Should -Be @(-15, -15)
        }

        It '-Name accepts several names' {
            $pfx = New-TestName 'multi'
            $a = Start-ChildProcess -FilePath sleep -ArgumentList 300 -Name "$pfx-a"
            $b = Start-ChildProcess -FilePath sleep -ArgumentList 300 -Name "$pfx-b"
            $c = Start-ChildProcess -FilePath sleep -ArgumentList 300 -Name "$pfx-c"
            Stop-ChildProcess -Name "$pfx-a", "$pfx-c" -Force
            Test-ChildProcess $a, $b, $c | Should -Be @($false, $true, $false)
        }

        It 'names need not be unique: -Name matches every child with that name' {
            $name = New-TestName 'dup'
            $a = Start-ChildProcess -FilePath sleep -ArgumentList 300 -Name $name
            $b = Start-ChildProcess -FilePath sleep -ArgumentList 300 -Name $name
            $a.Id | Should -Not -Be $b.Id
            @(Get-ChildProcess -Name $name).Count | Should -Be 2
            Stop-ChildProcess -Name $name -Force
            Get-ChildExitCode $a, $b | Should -Be @(-9, -9)
        }

        It 'Wait-ChildProcess -Name with a wildcard waits for every match' {
            $pfx = New-TestName 'wwait'
            $a = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'sleep 0.2; exit 1' -Name "$pfx-1"
            $b = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'sleep 0.5; exit 2' -Name "$pfx-2"
            Wait-ChildProcess -Name "$pfx-*" -Timeout 60 -ErrorAction Stop
            Get-ChildExitCode $a, $b | Should -Be @(1, 2)
        }

        It '-Id selects by process id' {
            $a = Start-ChildProcess -FilePath sleep -ArgumentList 300
            $b = Start-ChildProcess -FilePath sleep -ArgumentList 300
            Test-ChildProcess -Id $a.Id | Should -BeTrue
            Stop-ChildProcess -Id $a.Id
            Test-ChildProcess -Id $a.Id, $b.Id | Should -Be @($false, $true)
            Get-ChildExitCode -Id $a.Id | Should -Be -15
        }

        It 'Get-ChildProcess -Id filters by id' {
            $a = Start-ChildProcess -FilePath sleep -ArgumentList 300
            $null = Start-ChildProcess -FilePath sleep -ArgumentList 300
            $got = @(Get-ChildProcess -Id $a.Id)
            $got.Count | Should -Be 1
            $got[0].Id | Should -Be $a.Id
        }
    }

    Context 'pipeline binding' {
        It '$p | Test-ChildProcess / Get-ChildExitCode / Stop-ChildProcess' {
            $p = Start-ChildProcess -FilePath sleep -ArgumentList 300
            $p | Test-ChildProcess | Should -BeTrue
            $p | Get-ChildExitCode | Should -BeNullOrEmpty
            $p | Stop-ChildProcess
            $p | Get-ChildExitCode | Should -Be -15
        }

        It 'several children through the pipeline keep their order' {
            $a = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'exit 1'
            $b = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'exit 2'
            $c = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'exit 3'
            $a, $b, $c | Wait-ChildProcess -Timeout 60 -ErrorAction Stop
            $c, $a, $b | Get-ChildExitCode | Should -Be @(3, 1, 2)
        }

        It 'objects with an Id property bind by property name' {
            $p = Start-ChildProcess -FilePath sleep -ArgumentList 300
            [pscustomobject]@{ Id = $p.Id } | Test-ChildProcess | Should -BeTrue
            [pscustomobject]@{ Id = $p.Id } | Stop-ChildProcess -Force
            Get-ChildExitCode $p | Should -Be -9
        }

        It 'Get-ChildProcess -Name x | Get-ChildExitCode' {
            $name = New-TestName 'pipe'
            $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'exit 12' -Name $name
            Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop
            Get-ChildProcess -Name $name | Get-ChildExitCode | Should -Be 12
        }

        It 'Get-ChildProcess | Wait-ChildProcess -PassThru | Remove-ChildProcess' {
            $kids = 1..3 | ForEach-Object { Start-ChildProcess -FilePath sh -ArgumentList '-c', "exit $_" }
            Get-ChildProcess | Wait-ChildProcess -Timeout 60 -PassThru -ErrorAction Stop | Remove-ChildProcess
            @(Get-ChildProcess).Count | Should -Be 0
            $kids.ExitCode | Should -Be @(1, 2, 3)
        }
    }
}

Describe 'Test-ChildProcess, Get-ChildProcess, Remove-ChildProcess' {
    BeforeAll {
        Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
        $ModulePath = Get-ProcessKitModulePath
        Import-Module $ModulePath -Force
    }
    AfterAll { Clear-TestProcess }
    AfterEach { Clear-TestProcess }

    It 'Test-ChildProcess outputs one [bool] per child in order' {
        $running = Start-ChildProcess -FilePath sleep -ArgumentList 300
        $done = Start-ChildProcess -FilePath true
        Wait-ChildProcess $done -Timeout 60 -ErrorAction Stop
        $r = @(Test-ChildProcess $running, $done)
        $r.Count | Should -Be 2
        $r | ForEach-Object { $_ | Should -BeOfType [bool] }
        $r | Should -Be @($true, $false)
        @(Test-ChildProcess $done, $running) | Should -Be @($false, $true)
        $running.IsAlive | Should -BeTrue
        $done.IsAlive | Should -BeFalse
    }

    It 'Get-ChildProcess lists running and exited children of this session until removed' {
        @(Get-ChildProcess).Count | Should -Be 0 -Because 'the previous test cleaned up'
        $running = Start-ChildProcess -FilePath sleep -ArgumentList 300
        $done = Start-ChildProcess -FilePath true
        Wait-ChildProcess $done -Timeout 60 -ErrorAction Stop
        $all = @(Get-ChildProcess)
        $all.Count | Should -Be 2
        ($all.Id | Sort-Object) | Should -Be (@($running.Id, $done.Id) | Sort-Object)
        foreach ($o in $all) { $o.PSObject.TypeNames | Should -Contain 'ProcessKit.ChildProcess' }
        Remove-ChildProcess $done
        @(Get-ChildProcess).Id | Should -Be @($running.Id)
    }

    It 'Remove-ChildProcess forgets an exited child' {
        $p = Start-ChildProcess -FilePath true
        Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop
        Remove-ChildProcess $p -ErrorVariable ev -ErrorAction SilentlyContinue
        $ev | Should -BeNullOrEmpty
        @(Get-ChildProcess | Where-Object Id -EQ $p.Id).Count | Should -Be 0
        Get-ChildExitCode -Id $p.Id -ErrorVariable ev2 -ErrorAction SilentlyContinue
        $ev2.Count | Should -Be 1
        $ev2[0].FullyQualifiedErrorId | Should -BeLike 'ChildProcessNotFound*'
    }

    It 'Remove-ChildProcess refuses a running child with ChildProcessRunning and keeps it' {
        $p = Start-ChildProcess -FilePath sleep -ArgumentList 300
        Remove-ChildProcess $p -ErrorVariable ev -ErrorAction SilentlyContinue
        $ev.Count | Should -Be 1
        $ev[0].FullyQualifiedErrorId | Should -BeLike 'ChildProcessRunning*'
        @(Get-ChildProcess | Where-Object Id -EQ $p.Id).Count | Should -Be 1
        Test-ChildProcess $p | Should -BeTrue
        Test-PidAlive -Id $p.Id | Should -BeTrue
    }

    It 'Remove-ChildProcess refuses only the running ones and still removes the exited ones' {
        $running = Start-ChildProcess -FilePath sleep -ArgumentList 300
        $done = Start-ChildProcess -FilePath true
        Wait-ChildProcess $done -Timeout 60 -ErrorAction Stop
        Remove-ChildProcess $running, $done -ErrorVariable ev -ErrorAction SilentlyContinue
        $ev.Count | Should -Be 1
        $ev[0].FullyQualifiedErrorId | Should -BeLike 'ChildProcessRunning*'
        @(Get-ChildProcess).Id | Should -Be @($running.Id)
    }

    It 'Remove-ChildProcess -Force stops a running child first and forgets it' {
        $p = Start-ChildProcess -FilePath sleep -ArgumentList 300
        Remove-ChildProcess $p -Force -ErrorVariable ev -ErrorAction SilentlyContinue
        $ev | Should -BeNullOrEmpty
        @(Get-ChildProcess | Where-Object Id -EQ $p.Id).Count | Should -Be 0
        Test-PidAlive -Id $p.Id | Should -BeFalse
        Test-ZombieOfSession -Id $p.Id | Should -BeFalse
    }

    It 'Get-ChildProcess | Remove-ChildProcess removes all exited children' {
        1..3 | ForEach-Object { $null = Start-ChildProcess -FilePath true }
        Get-ChildProcess | Wait-ChildProcess -Timeout 60 -ErrorAction Stop
        Get-ChildProcess | Remove-ChildProcess
        @(Get-ChildProcess).Count | Should -Be 0
    }
}
