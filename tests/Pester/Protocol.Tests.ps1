#Requires -Version 7.4
# The scriptblock child protocol (docs/protocol.md): records on a descriptor of their own, records rehydrated with
# their identity, progress relayed, $using: as Start-Job resolves it. Each test failed before its fix.

Describe 'Child protocol' {
    BeforeAll {
        Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
        $ModulePath = Get-ProcessKitModulePath
        Import-Module $ModulePath -Force
    }
    AfterAll { Clear-TestProcess }
    AfterEach { Clear-TestProcess }

    Context 'records channel (reliability item 3)' {
        It 'a [Console]::Write without newline does not corrupt the next record' {
            $r = @(Start-ChildProcess { [Console]::Write('50% '); Get-Date; 'next' } | Receive-ChildProcess -Wait)
            @($r | Where-Object { $_ -is [datetime] }).Count | Should -Be 1 -Because 'the DateTime arrives as an object, not as protocol text'
            $r | Should -Contain 'next'
            $r | Should -Contain '50% ' -Because "the child's plain stdout text arrives as a string"
            $r | ForEach-Object { "$_" | Should -Not -Match "`u{1e}" }
        }

        It '$Host.UI.Write and a native program writing to the inherited stdout leave records intact' {
            $r = @(Start-ChildProcess { $Host.UI.Write('partial'); @{ a = 1 }; sh -c 'printf "no newline"'; [pscustomobject]@{ b = 2 } } | Receive-ChildProcess -Wait)
            ($r | Where-Object { $_ -is [hashtable] }).a | Should -Be 1
            ($r | Where-Object { $_.PSObject.Properties['b'] }).b | Should -Be 2
            $r | ForEach-Object { "$_" | Should -Not -Match "`u{1e}" }
        }

        It 'the records pipe is not inherited by the child''s own children' {
            # ls opens /proc/self/fd as fd 3 itself; any other pipe above 2 would be the records pipe leaking.
            $lines = @(Start-ChildProcess { ls -l /proc/self/fd } | Receive-ChildProcess -Wait)
            $leaked = $lines | Where-Object { $_ -match '\s(\d+) -> pipe:' -and [int]$Matches[1] -gt 2 }
            $leaked | Should -BeNullOrEmpty
        }

        It 'a grandchild that outlives the child holds no pipe of the child''s (so it cannot keep the records open)' {
            $gpid = Start-ChildProcess { sh -c 'sleep 60 >/dev/null 2>&1 </dev/null & echo $!' } | Receive-ChildProcess -Wait
            Register-ExtraPid -Id ([int]$gpid)
            $fds = Get-ChildItem "/proc/$gpid/fd" | ForEach-Object { "$($_.Name) -> $($_.LinkTarget)" }
            $fds | Where-Object { $_ -match 'pipe:' } | Should -BeNullOrEmpty
        }
    }

    Context 'error identity (reliability item 12)' {
        It 'keeps FullyQualifiedErrorId, CategoryInfo and TargetObject as Receive-Job does' {
            $e = Start-ChildProcess { Get-Item /nonexistent } | Receive-ChildProcess -Wait 2>&1 | Select-Object -First 1
            $e | Should -BeOfType System.Management.Automation.ErrorRecord
            $e.FullyQualifiedErrorId | Should -BeExactly 'PathNotFound,Microsoft.PowerShell.Commands.GetItemCommand'
            $e.CategoryInfo.ToString() | Should -BeExactly 'ObjectNotFound: (/nonexistent:String) [Get-Item], ItemNotFoundException'
            $e.TargetObject | Should -BeExactly '/nonexistent'
        }

        It 'a terminating error keeps its identity and gives exit code 1' {
            $p = Start-ChildProcess { Get-Item /nonexistent -ErrorAction Stop }
            $e = Receive-ChildProcess $p -Wait 2>&1 | Select-Object -First 1
            $e.FullyQualifiedErrorId | Should -BeExactly 'PathNotFound,Microsoft.PowerShell.Commands.GetItemCommand'
            # Receive -Wait streams, so Select -First 1 may return before the child has exited.
            Wait-ChildProcess $p -Timeout 60
            Get-ChildExitCode $p | Should -Be 1
        }

        It 'with -RedirectStandardOutput one error is one error record with its identity, without bootstrap positions' {
            $out = Join-Path $TestDrive 'out.txt'
            $r = @(Start-ChildProcess { Get-Item /nonexistent; 'after' } -RedirectStandardOutput $out | Receive-ChildProcess -Wait 2>&1)
            $r.Count | Should -Be 1
            $r[0] | Should -BeOfType System.Management.Automation.ErrorRecord
            $r[0].FullyQualifiedErrorId | Should -BeExactly 'PathNotFound,Microsoft.PowerShell.Commands.GetItemCommand'
            $r[0].TargetObject | Should -BeExactly '/nonexistent'
            "$($r[0])" | Should -BeExactly "Cannot find path '/nonexistent' because it does not exist."
            Get-Content $out | Should -Be 'after'
        }

        It 'with -RedirectStandardError the errors are written to that file, once each' {
            $err = Join-Path $TestDrive 'err.txt'
            $r = @(Start-ChildProcess { Get-Item /nonexistent; 'after' } -RedirectStandardError $err | Receive-ChildProcess -Wait 2>&1)
            $r | Should -Be 'after'
            @(Get-Content $err) | Should -Be @("Get-Item: Cannot find path '/nonexistent' because it does not exist.")
        }
    }

    Context 'stream records (reliability item 11)' {
        It 'verbose and debug records the child emitted are shown without -Verbose/-Debug on the receiver' {
            # As Receive-Job: the records reach the host even at SilentlyContinue; a separate pwsh shows what its host printed.
            $script = @'
$p = Start-ChildProcess { Write-Verbose 'v-line' -Verbose; Write-Debug 'd-line' -Debug; 'out' }
$VerbosePreference = 'SilentlyContinue'; $DebugPreference = 'SilentlyContinue'
Receive-ChildProcess $p -Wait
'@
            $path = Join-Path $TestDrive 'receive.ps1'
            $log = Join-Path $TestDrive 'receive.log'
            Set-Content $path ("Import-Module '$ModulePath'`n" + $script)
            $proc = Start-PwshScript -ScriptPath $path -LogPath $log
            $proc.WaitForExit(120000) | Should -BeTrue
            $text = Get-Content $log -Raw
            $text | Should -Match 'VERBOSE: v-line'
            $text | Should -Match 'DEBUG: d-line'
            $text | Should -Match 'out'
        }

        It 'with -Verbose and -Debug they go to the streams (redirectable), and -Debug does not prompt' {
            $p = Start-ChildProcess { Write-Verbose 'v-line' -Verbose; Write-Debug 'd-line' -Debug }
            $r = @(Receive-ChildProcess $p -Wait -Verbose -Debug 4>&1 5>&1)
            ($r | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message | Should -Be 'v-line'
            ($r | Where-Object { $_ -is [System.Management.Automation.DebugRecord] }).Message | Should -Be 'd-line'
        }

        It 'keeps InformationRecord whole: Source, Tags, and Write-Host -NoNewline' {
            $r = @(Start-ChildProcess { Write-Host -NoNewline 'hi'; Write-Information 'info' -Tags 'mine' } | Receive-ChildProcess -Wait 6>&1)
            $r.Count | Should -Be 2
            $r[0].Source | Should -Be 'Write-Host'
            $r[0].MessageData | Should -BeOfType System.Management.Automation.HostInformationMessage
            $r[0].MessageData.NoNewLine | Should -BeTrue
            $r[0].MessageData.Message | Should -Be 'hi'
            $r[1].Source | Should -Be 'Write-Information'
            $r[1].Tags | Should -Contain 'mine'
            $r[1].MessageData | Should -Be 'info'
        }

        It 'progress records arrive in a hosted runspace''s Streams.Progress' {
            $ps = [powershell]::Create()
            try {
                $null = $ps.AddScript("Import-Module '$ModulePath'; Start-ChildProcess { Write-Progress -Activity 'copying' -Status 'half' -PercentComplete 50; Write-Progress -Activity 'copying' -Completed; 'done' } | Receive-ChildProcess -Wait")
                $out = $ps.Invoke()
                $out | Should -Be 'done'
                $ps.Streams.Progress.Count | Should -Be 2
                $ps.Streams.Progress[0].Activity | Should -Be 'copying'
                $ps.Streams.Progress[0].StatusDescription | Should -Be 'half'
                $ps.Streams.Progress[0].PercentComplete | Should -Be 50
                $ps.Streams.Progress[1].RecordType | Should -Be 'Completed'
            } finally {
                $null = $ps.AddScript('Get-ChildProcess | Remove-ChildProcess -Force')
                $ps.Dispose()
            }
        }

        It 'the child''s -ProgressAction SilentlyContinue is honoured' {
            $ps = [powershell]::Create()
            try {
                $null = $ps.AddScript("Import-Module '$ModulePath'; Start-ChildProcess { Write-Progress -Activity 'hidden' -ProgressAction SilentlyContinue; Write-Progress -Activity 'shown' } | Receive-ChildProcess -Wait")
                $null = $ps.Invoke()
                @($ps.Streams.Progress).Activity | Should -Be @('shown')
            } finally {
                $ps.Dispose()
            }
        }
    }

    Context '$using: (reliability item 13)' {
        It 'a $using: inside a nested ForEach-Object -Parallel or Start-ThreadJob block is left to the child' {
            $inner = 'from-session'
            $r = Start-ChildProcess {
                $inner = 'from-child'
                1 | ForEach-Object -Parallel { "parallel:$using:inner" }
                & { "nested:$using:inner" }
            } | Receive-ChildProcess -Wait
            $r | Should -Be @('parallel:from-child', 'nested:from-session')
        }

        It 'a $using: defined only in the child is not looked up in the session' {
            Remove-Variable onlyInChild -ErrorAction Ignore
            $r = Start-ChildProcess { $onlyInChild = 7; 1 | ForEach-Object -Parallel { $using:onlyInChild * 2 } } | Receive-ChildProcess -Wait
            $r | Should -Be 14
        }

        It 'an undefined $using: variable refuses the start with Start-Job''s error, and nothing starts' {
            Remove-Variable pkUndefinedThing -ErrorAction Ignore
            $before = @(Get-ChildProcess).Count
            $p = Start-ChildProcess { $using:pkUndefinedThing } -ErrorVariable ev -ErrorAction SilentlyContinue
            $p | Should -BeNullOrEmpty
            $ev.Count | Should -Be 1
            $ev[0].FullyQualifiedErrorId | Should -BeExactly 'UsingVariableIsUndefined,ProcessKit.Commands.StartChildProcessCommand'
            $ev[0].CategoryInfo.Category | Should -Be 'InvalidOperation'
            "$($ev[0])" | Should -BeExactly "The value of the using variable '`$using:pkUndefinedThing' cannot be retrieved because it has not been set in the local session."
            @(Get-ChildProcess).Count | Should -Be $before
        }

        It 'a $using: variable set to $null is defined and passes $null' {
            $pkNull = $null
            Start-ChildProcess { $null -eq $using:pkNull } | Receive-ChildProcess -Wait | Should -BeTrue
        }
    }
}
