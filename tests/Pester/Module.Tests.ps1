#Requires -Version 7.4
# The module as a whole: imports cleanly, exports the cmdlets, parameter shapes users rely on.

Describe 'ProcessKit module' {
    BeforeAll {
        Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
        $ModulePath = Get-ProcessKitModulePath
        Import-Module $ModulePath -Force
        $CoreCmdlets = @(
            'Start-ChildProcess', 'Wait-ChildProcess', 'Stop-ChildProcess', 'Test-ChildProcess',
            'Get-ChildExitCode', 'Get-ChildProcess', 'Remove-ChildProcess', 'Receive-ChildProcess'
        )
    }
    AfterAll { Clear-TestProcess }

    It 'imports without warnings or errors' {
        $w = $null; $e = $null
        Import-Module $ModulePath -Force -WarningVariable w -WarningAction SilentlyContinue -ErrorVariable e -ErrorAction SilentlyContinue
        $w.Count | Should -Be 0 -Because ($w | Out-String)
        $e.Count | Should -Be 0 -Because ($e | Out-String)
        Get-Module ProcessKit | Should -Not -BeNullOrEmpty
    }

    It 'exports the core cmdlets as cmdlets' {
        $names = @(Get-Command -Module ProcessKit -CommandType Cmdlet).Name
        foreach ($c in $CoreCmdlets) { $names | Should -Contain $c }
    }

    It 'exports only cmdlets with approved verbs' {
        $approved = @(Get-Verb).Verb
        foreach ($c in Get-Command -Module ProcessKit) { $approved | Should -Contain $c.Verb }
    }

    It 'Start-ChildProcess: ScriptBlock is the default set, -ScriptBlock position 0, -ArgumentList position 1, FilePath set exists' {
        $c = Get-Command Start-ChildProcess -Module ProcessKit
        $c.DefaultParameterSet | Should -Be 'ScriptBlock'
        $c.ParameterSets.Name | Should -Contain 'FilePath'
        $sb = @($c.Parameters['ScriptBlock'].Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] })
        @($sb | Where-Object Position -EQ 0).Count | Should -BeGreaterThan 0
        $al = @($c.Parameters['ArgumentList'].Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] -and $_.ParameterSetName -in 'ScriptBlock', '__AllParameterSets' })
        @($al | Where-Object Position -EQ 1).Count | Should -BeGreaterThan 0
        foreach ($p in 'Name', 'Daemon', 'GracePeriod', 'WorkingDirectory', 'Environment', 'RedirectStandardOutput', 'RedirectStandardError', 'UseConsole', 'InputObject') {
            $c.Parameters.Keys | Should -Contain $p
        }
        $c.Parameters['Environment'].ParameterType | Should -Be ([System.Collections.IDictionary])
        $c.Parameters['Daemon'].ParameterType | Should -Be ([switch])
    }

    It 'Stop-ChildProcess supports -WhatIf/-Confirm and has -Force, -GracePeriod, -PassThru' {
        $c = Get-Command Stop-ChildProcess -Module ProcessKit
        foreach ($p in 'WhatIf', 'Confirm', 'Force', 'GracePeriod', 'PassThru') { $c.Parameters.Keys | Should -Contain $p }
    }

    It 'Wait-ChildProcess has -Timeout [double], -Any and -PassThru' {
        $c = Get-Command Wait-ChildProcess -Module ProcessKit
        foreach ($p in 'Timeout', 'Any', 'PassThru') { $c.Parameters.Keys | Should -Contain $p }
        $c.Parameters['Timeout'].ParameterType | Should -BeIn @([double], [System.Nullable[double]])
    }

    It 'a fresh pwsh imports the module with no warnings and no errors' {
        $pwsh = @(Get-PwshCommand)
        $exe = $pwsh[0]
        $pre = @($pwsh | Select-Object -Skip 1)
        $cmd = "`$w = `$null; Import-Module '$ModulePath' -WarningVariable w -ErrorAction Stop; `"warnings=`$(`$w.Count)`"; `"cmdlets=`$(@(Get-Command -Module ProcessKit).Count)`""
        $out = & $exe @pre -NoProfile -NonInteractive -Command $cmd 2>&1 | Out-String
        $LASTEXITCODE | Should -Be 0 -Because $out
        $out | Should -Match 'warnings=0'
        $out | Should -Match 'cmdlets=([89]|1\d)'
    }

    It 'ships about_ProcessKit, found by Get-Help, covering the topics users ask about' {
        $about = Get-Help about_ProcessKit | Out-String
        foreach ($topic in 'SESSIONS', 'DAEMONS AND THE LIFELINE', 'EXIT CODES', 'OUTPUT CAPTURE AND ITS BOUNDS', 'THE PYTHON MAPPING', 'WHEN TO USE PROCESSKIT INSTEAD OF JOBS') {
            $about | Should -Match ([regex]::Escape($topic))
        }
    }

    It 'the README''s example runs as written and prints what its comments say' {
        $readme = Get-Content -Raw (Join-Path $PSScriptRoot '../../README.md')
        $m = [regex]::Match($readme, '(?s)## Example\s+```powershell\r?\n(.*?)```')
        $m.Success | Should -BeTrue
        $out = @(& ([scriptblock]::Create($m.Groups[1].Value)) -ErrorAction Stop)
        $out[0] | Should -Be 'hello bob'
        $out[1] | Should -Be 0
        $out[2] | Should -BeTrue
        $out[3] | Should -Be -15
        $out[4..13] | Should -Be (0..9 | ForEach-Object { $_ * $_ })
        Clear-TestProcess
    }
}
