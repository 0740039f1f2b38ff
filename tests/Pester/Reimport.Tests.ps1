#Requires -Version 7.4
# `Import-Module ProcessKit -Force` (a common first line of scripts) re-imports the module: the daemons of the session
# live on and stay tracked. Only a real Remove-Module (or the session's end) ends them.

Describe 'Module re-import' {
    BeforeAll {
        Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
        $ModulePath = Get-ProcessKitModulePath
        Import-Module $ModulePath -Force

        # Runs $Script in a fresh runspace of its own (so removing the module there leaves this one alone) and
        # returns its output; the pids it reports are registered for cleanup by the caller.
        function Invoke-Isolated([string] $Script) {
            $ps = [powershell]::Create()
            try {
                $null = $ps.AddScript($Script).AddArgument($ModulePath)
                $out = $ps.Invoke()
                if ($ps.Streams.Error.Count) { throw "Errors in the inner runspace: $($ps.Streams.Error | Out-String)" }
                $out
            } finally {
                $ps.Runspace.Dispose()
                $ps.Dispose()
            }
        }
    }
    AfterEach { Clear-TestProcess }
    AfterAll { Clear-TestProcess }

    It 'daemons survive Import-Module -Force and are still listed and controllable' {
        $r = Invoke-Isolated @'
param($ModulePath)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$d = Start-ChildProcess -FilePath sleep -ArgumentList 300 -Daemon -Name keep
$n = Start-ChildProcess -FilePath sleep -ArgumentList 300 -Name plain
$after = @{ Id = $d.Id; PlainId = $n.Id }
Import-Module $ModulePath -Force
$after.StateAfterReimport = "$((Get-ChildProcess -Name keep).State)"
$after.AliveAfterReimport = [bool](Test-ChildProcess -Name keep)
$after.Listed = @(Get-ChildProcess | ForEach-Object Id)
Import-Module $ModulePath -Force -DisableNameChecking   # twice, with other parameters
$after.AliveAfterSecond = [bool](Test-ChildProcess -Name keep)
Stop-ChildProcess -Name keep, plain
$after.Exit = Get-ChildExitCode -Name keep
[pscustomobject]$after
'@
        Register-ExtraPid -Id $r.Id, $r.PlainId
        $r.StateAfterReimport | Should -Be 'Running'
        $r.AliveAfterReimport | Should -BeTrue
        $r.Listed | Should -Contain $r.Id
        $r.Listed | Should -Contain $r.PlainId
        $r.AliveAfterSecond | Should -BeTrue
        $r.Exit | Should -Be -15
    }

    It 'Remove-Module still ends the daemons' {
        $r = Invoke-Isolated @'
param($ModulePath)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$d = Start-ChildProcess -FilePath sleep -ArgumentList 300 -Daemon -Name gone
$d.Id
Remove-Module ProcessKit
'@
        $id = [int]($r | Select-Object -Last 1)
        Register-ExtraPid -Id $id
        Wait-Until -Timeout 30 { -not (Test-PidAlive -Id $id) } | Should -BeTrue
    }
}
