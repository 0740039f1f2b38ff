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

Describe 'Hardening: names with wildcard characters (item 21)' {
    BeforeAll {
        Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
        Import-Module (Get-ProcessKitModulePath) -Force
    }
    AfterEach { Clear-TestProcess }

    It 'a name equal to a child''s name selects it (any case) even with wildcard characters; the pattern reading does not add others' {
        $bracket = Start-ChildProcess -FilePath sleep -ArgumentList 300 -Name 'w[1]'
        $w1 = Start-ChildProcess -FilePath sleep -ArgumentList 300 -Name 'w1'
        @(Get-ChildProcess -Name 'w[1]') | Should -Be @($bracket)
        @(Get-ChildProcess -Name 'W[1]') | Should -Be @($bracket)
        @(Test-ChildProcess -Name 'w[1]') | Should -Be @($true)
        Stop-ChildProcess -Name 'w[1]' -Force
        $bracket.IsAlive | Should -BeFalse
        $w1.IsAlive | Should -BeTrue
        @(Get-ChildExitCode -Name 'w[1]') | Should -Be @(-9)
        Remove-ChildProcess -Name 'w[1]'
        @(Get-ChildProcess) | Should -Be @($w1)
    }

    It 'a name with * or ? selects itself exactly; otherwise it is still a wildcard; escapes still work' {
        $star = Start-ChildProcess -FilePath sleep -ArgumentList 300 -Name 'job*'
        $job2 = Start-ChildProcess -FilePath sleep -ArgumentList 300 -Name 'job2'
        @(Get-ChildProcess -Name 'job*') | Should -Be @($star)
        @(Get-ChildProcess -Name 'jo?2') | Should -Be @($job2)
        @(Get-ChildProcess -Name 'j*' | Sort-Object Id) | Should -Be @(@($star, $job2) | Sort-Object Id)
        @(Get-ChildProcess -Name ([WildcardPattern]::Escape('job*'))) | Should -Be @($star)
    }

    It 'an invalid pattern that is no child''s name matches nothing (ChildProcessNotFound), without throwing' {
        $null = Start-ChildProcess -FilePath sleep -ArgumentList 300 -Name 'w[1]'
        @(Get-ChildExitCode -Name 'w[' -ErrorVariable ev -ErrorAction SilentlyContinue).Count | Should -Be 0
        $ev.Count | Should -Be 1
        $ev[0].FullyQualifiedErrorId | Should -BeLike 'ChildProcessNotFound*'
    }

    It 'tab completion offers a name with wildcard characters from a literal prefix, quoted' {
        $null = Start-ChildProcess -FilePath sleep -ArgumentList 300 -Name 'w[1]'
        $line = 'Stop-ChildProcess -Name w['
        $r = TabExpansion2 -inputScript $line -cursorColumn $line.Length
        @($r.CompletionMatches.CompletionText) | Should -Contain "'w[1]'"
    }
}

Describe 'Hardening: a reused pid selects the running child (item 6)' {
    BeforeAll {
        Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
        Import-Module (Get-ProcessKitModulePath) -Force

        function Start-OnReusedPid {
            # Starts `sleep 300` as a tracked child on the pid of the exited tracked child $Old, by setting
            # ns_last_pid (root only) just before the start; other threads may take the pid first, so it retries.
            # Returns the new child, or $null when the kernel does not let us choose pids.
            param([Parameter(Mandatory)] $Old)
            for ($attempt = 0; $attempt -lt 50; $attempt++) {
                try { [System.IO.File]::WriteAllText('/proc/sys/kernel/ns_last_pid', [string]($Old.Id - 1)) } catch { return $null }
                $new = Start-ChildProcess -FilePath sleep -ArgumentList 300
                if ($new.Id -eq $Old.Id) { return $new }
                Stop-ChildProcess $new -Force
                Remove-ChildProcess $new
            }
            throw "pid $($Old.Id) was not reused in 50 attempts although ns_last_pid is writable"
        }
    }
    AfterEach { Clear-TestProcess }

    It '-Id and by-property binding pick the running child over an exited one with the same pid; then the newest' {
        $old = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'exit 3' -Name 'pk-old'
        Wait-ChildProcess $old -Timeout 30
        $old.IsAlive | Should -BeFalse
        $new = Start-OnReusedPid -Old $old
        if ($null -eq $new) { Set-ItResult -Skipped -Because 'ns_last_pid is not writable (needs root)'; return }
        $new.Id | Should -Be $old.Id
        @(Get-ChildProcess | Where-Object Id -EQ $old.Id).Count | Should -Be 2 -Because 'both children are tracked'

        @(Get-ChildProcess -Id $old.Id) | Should -Be @($new)
        @(Test-ChildProcess -Id $old.Id) | Should -Be @($true)
        @(Get-ChildExitCode -Id $old.Id) | Should -Be @($null)
        # A deserialized child (what a remote or a job hands back) binds by property name: Id and Name.
        $copy = [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize($old))
        @($copy | Test-ChildProcess) | Should -Be @($true)
        @([pscustomobject]@{ Id = $old.Id } | Test-ChildProcess) | Should -Be @($true)

        Stop-ChildProcess -Id $old.Id -Force
        $new.IsAlive | Should -BeFalse -Because 'Stop-ChildProcess -Id stops the running child, not the exited one'
        # Both exited now: the newest is the one meant.
        @(Get-ChildExitCode -Id $old.Id) | Should -Be @(-9)
        @(Get-ChildProcess -Id $old.Id) | Should -Be @($new)
    }
}

Describe 'Hardening: paths that are not file-system paths (item 19)' {
    BeforeAll {
        Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
        $ModulePath = Get-ProcessKitModulePath
        Import-Module $ModulePath -Force

        function Assert-StartFailed {
            # No output, no terminating error, one ChildProcessStartFailed matching every $MessagePattern, nothing tracked.
            param([scriptblock] $Start, [string[]] $MessagePattern = @())
            $before = @(Get-ChildProcess).Count
            $all = @(& $Start 2>&1)
            $errs = @($all | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
            @($all | Where-Object { $_ -isnot [System.Management.Automation.ErrorRecord] }).Count | Should -Be 0
            $errs.Count | Should -Be 1
            $errs[0].FullyQualifiedErrorId | Should -BeLike 'ChildProcessStartFailed*'
            foreach ($pattern in $MessagePattern) { "$($errs[0])" | Should -Match $pattern }
            @(Get-ChildProcess).Count | Should -Be $before -Because 'a failed start tracks nothing'
        }
    }
    AfterEach { Clear-TestProcess }

    It '-FilePath <Path> is refused, naming the path and the provider, instead of running /usr/bin/sleep' -TestCases @(
        @{ Path = 'Env:/sleep' }, @{ Path = 'Env:sleep' }, @{ Path = 'Function:/sleep' }
    ) {
        Assert-StartFailed -Start { Start-ChildProcess -FilePath $Path -ArgumentList 300 } `
            -MessagePattern ([regex]::Escape($Path)), '(?i)provider'
    }

    It '-WorkingDirectory Env:/ is refused, naming the path and the Environment provider' {
        Assert-StartFailed -Start { Start-ChildProcess -FilePath true -WorkingDirectory Env:/ } -MessagePattern ([regex]::Escape('Env:/')), 'Environment provider'
    }

    It '-WorkingDirectory on a drive that does not exist is a non-terminating start failure naming the drive' {
        $reached = & {
            Assert-StartFailed -Start { Start-ChildProcess -FilePath true -WorkingDirectory NoSuchDrive:/x } -MessagePattern 'NoSuchDrive'
            'reached'
        }
        $reached | Should -Be 'reached'
    }

    It '-Redirect<Stream> to <Path> is refused, naming the path and the provider' -TestCases @(
        @{ Stream = 'StandardOutput'; Path = 'Env:/pk-out'; Provider = 'Environment' }
        @{ Stream = 'StandardError'; Path = 'Function:/pk-err'; Provider = 'Function' }
        @{ Stream = 'StandardOutput'; Path = 'NoSuchDrive:/pk-out'; Provider = 'NoSuchDrive' }
    ) {
        $splat = @{ "Redirect$Stream" = $Path }
        Assert-StartFailed -Start { Start-ChildProcess -FilePath true @splat } -MessagePattern ([regex]::Escape($Path)), $Provider
        Test-Path -LiteralPath Env:/pk-out | Should -BeFalse
    }

    It 'a working directory without search permission is reported as such, not as the program''s failure' {
        $setpriv = @('/usr/bin/setpriv', '/bin/setpriv') | Where-Object { Test-Path -LiteralPath $_ } | Select-Object -First 1
        if (-not $setpriv -or (& id -u) -ne '0') { Set-ItResult -Skipped -Because 'needs root and setpriv to drop CAP_DAC_OVERRIDE'; return }
        $dir = Join-Path $TestDrive 'no-search'
        $null = New-Item -ItemType Directory -Path $dir
        & chmod 000 -- $dir
        $script = Join-Path $TestDrive 'chdir.ps1'
        Set-Content -LiteralPath $script -Value @"
Import-Module '$ModulePath'
Start-ChildProcess -FilePath true -WorkingDirectory '$dir' 2>&1 | ForEach-Object { "`$_" }
"@
        # Root without CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH is refused a mode-000 directory as anyone else is.
        $pwsh = @(Get-PwshCommand)
        $out = (& $setpriv --bounding-set=-dac_override,-dac_read_search --inh-caps=-all @pwsh -NoProfile -NonInteractive -File $script 2>&1) -join "`n"
        & chmod 700 -- $dir
        $out | Should -Match ([regex]::Escape("Cannot start in working directory '$dir': Permission denied")) -Because "output: $out"
        $out | Should -Match 'OS error 13, EACCES'
    }
}

Describe 'Hardening: redirecting to a FIFO nobody reads (item 17)' {
    BeforeAll {
        Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
        $ModulePath = Get-ProcessKitModulePath
        Import-Module $ModulePath -Force
    }
    AfterEach { Clear-TestProcess }

    It 'Start-ChildProcess returns at once, the child waits for a reader, Stop ends it; with a reader the output arrives' {
        $fifo = Join-Path $TestDrive 'out.fifo'
        & mkfifo -- $fifo
        $script = Join-Path $TestDrive 'fifo.ps1'
        $log = Join-Path $TestDrive 'fifo.log'
        # In its own process: were Start-ChildProcess to block again, it would hang that process, not this run.
        Set-Content -LiteralPath $script -Value @"
Import-Module '$ModulePath'
`$p = Start-ChildProcess -FilePath sleep -ArgumentList 300 -RedirectStandardOutput '$fifo' -RedirectStandardError '$fifo'
"started `$(`$p.Id) alive `$(`$p.IsAlive)"
Stop-ChildProcess `$p
"stopped `$(`$p.ExitCode)"
`$q = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'echo to-out; echo to-err >&2; exit 7' -RedirectStandardOutput '$fifo' -RedirectStandardError '$fifo'
`$text = [System.IO.File]::ReadAllText('$fifo')
Wait-ChildProcess `$q -Timeout 30
"read `$((`$text -split '\s+' | Where-Object { `$_ }) -join ',') exit `$(`$q.ExitCode)"
"@
        $proc = Start-PwshScript -ScriptPath $script -LogPath $log
        try {
            $finished = $proc.WaitForExit(60000)
            $out = Get-Content -LiteralPath $log -Raw
            $finished | Should -BeTrue -Because "Start-ChildProcess must not block on the FIFO. Output so far: $out"
            $out | Should -Match 'started \d+ alive True' -Because "output: $out"
            $out | Should -Match 'stopped -15' -Because "Stop-ChildProcess ends the child waiting for a reader. Output: $out"
            $out | Should -Match 'read to-out,to-err exit 7' -Because "output: $out"
        } finally {
            if (-not $proc.HasExited) {
                # Release whatever waits in open() (a reader appears), then end the session and what it started.
                & /bin/sh -c 'exec 3<>"$1"; sleep 0.5' sh $fifo
                foreach ($c in @(& pgrep -P $proc.Id)) { Register-ExtraPid -Id ([int]$c) }
                $proc.Kill($true)
            }
            $proc.Dispose()
        }
    }
}

Describe 'Hardening: -Environment PATH finds the program (item 22)' {
    BeforeAll {
        Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
        Import-Module (Get-ProcessKitModulePath) -Force
        function New-Program {
            param([string] $Dir, [string] $Text)
            $null = New-Item -ItemType Directory -Path $Dir -Force
            $path = Join-Path $Dir 'pk-which-path'
            [System.IO.File]::WriteAllText($path, "#!/bin/sh`necho $Text`n")
            & chmod 0755 -- $path
        }
    }
    AfterEach { Clear-TestProcess }

    It 'a bare name is searched on the PATH that -Environment gives the child, not the session''s' {
        New-Program -Dir (Join-Path $TestDrive 'one') -Text 'one'
        New-Program -Dir (Join-Path $TestDrive 'two') -Text 'two'
        $saved = $env:PATH
        try {
            $env:PATH = (Join-Path $TestDrive 'one') + [System.IO.Path]::PathSeparator + $saved
            $p = Start-ChildProcess -FilePath pk-which-path -Environment @{ PATH = (Join-Path $TestDrive 'two') + [System.IO.Path]::PathSeparator + $saved }
            $q = Start-ChildProcess -FilePath pk-which-path
        } finally {
            $env:PATH = $saved
        }
        Wait-ChildProcess $p, $q -Timeout 30
        Receive-ChildProcess $p | Should -Be 'two'
        Receive-ChildProcess $q | Should -Be 'one' -Because 'without -Environment PATH the session''s PATH is searched'
        $p.Command | Should -BeLike "$(Join-Path $TestDrive 'two')*"
    }

    It 'a program only on the -Environment PATH is found' {
        New-Program -Dir (Join-Path $TestDrive 'only') -Text 'only'
        $p = Start-ChildProcess -FilePath pk-which-path -Environment @{ PATH = Join-Path $TestDrive 'only' }
        Wait-ChildProcess $p -Timeout 30
        Receive-ChildProcess $p | Should -Be 'only'
    }

    It '-Environment removing PATH still finds the program on the session''s PATH' {
        $p = Start-ChildProcess -FilePath env -Environment @{ PATH = $null; PK_MARK = 'x' }
        Wait-ChildProcess $p -Timeout 30
        $lines = @(Receive-ChildProcess $p)
        $lines | Should -Contain 'PK_MARK=x'
        @($lines | Where-Object { $_ -like 'PATH=*' }).Count | Should -Be 0 -Because 'the child has no PATH'
    }
}

Describe 'Hardening: objects piped to a program arrive as a native command gets them (item 18)' {
    BeforeAll {
        Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
        Import-Module (Get-ProcessKitModulePath) -Force
        function Get-ProgramInput {
            # What `cat` receives on stdin when $Items are piped to Start-ChildProcess, one line per element.
            param([object[]] $Items)
            $p = $Items | Start-ChildProcess -FilePath cat
            Wait-ChildProcess $p -Timeout 30
            , @(Receive-ChildProcess $p)
        }
    }
    AfterEach { Clear-TestProcess }

    It 'objects arrive as formatted text (Out-String -Stream), the same lines as `$objects | cat`, not as ToString()' {
        $objs = @([pscustomobject]@{ a = 1; b = 'x' }, [pscustomobject]@{ a = 2; b = 'y' })
        $got = Get-ProgramInput $objs
        $got | Should -Not -Contain '@{a=1; b=x}'
        ($got -join "`n") | Should -Be (@($objs | Out-String -Stream) -join "`n")
        ($got -join "`n") | Should -Be (@($objs | & cat) -join "`n")
        @($got | Where-Object { $_ -match '^\s*1\s+x\s*$' }).Count | Should -Be 1
    }

    It 'a mix of strings, numbers, $null and objects arrives as it does for a native command' {
        $mix = @('first', [pscustomobject]@{ a = 1 }, 3, $null, '', @{ k = 'v' }, '  last  ')
        $got = Get-ProgramInput $mix
        ($got -join "`n") | Should -Be (@($mix | & cat) -join "`n")
    }

    It 'strings stay exactly as they are (spaces kept, one line each, $null sends nothing)' {
        $got = Get-ProgramInput @('  a  ', 'b', $null, '', 'c d')
        $got | Should -Be @('  a  ', 'b', '', 'c d')
    }
}

Describe 'Hardening: parameter validation (item 20)' {
    BeforeAll {
        Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
        Import-Module (Get-ProcessKitModulePath) -Force
        function Assert-StartFailed {
            param([scriptblock] $Start, [string[]] $MessagePattern = @())
            $before = @(Get-ChildProcess).Count
            $all = @(& $Start 2>&1)
            $errs = @($all | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
            @($all | Where-Object { $_ -isnot [System.Management.Automation.ErrorRecord] }).Count | Should -Be 0
            $errs.Count | Should -Be 1
            $errs[0].FullyQualifiedErrorId | Should -BeLike 'ChildProcessStartFailed*'
            foreach ($pattern in $MessagePattern) { "$($errs[0])" | Should -Match $pattern }
            @(Get-ChildProcess).Count | Should -Be $before -Because 'a failed start tracks nothing'
        }
    }
    AfterEach { Clear-TestProcess }

    It '-GracePeriod without -Daemon is refused (ChildProcessStartFailed naming -Daemon); with -Daemon it is taken' {
        Assert-StartFailed -Start { Start-ChildProcess -FilePath sleep -ArgumentList 300 -GracePeriod 2 } -MessagePattern '-GracePeriod', '-Daemon'
        Assert-StartFailed -Start { Start-ChildProcess { 'x' } -GracePeriod 2 -Daemon:$false } -MessagePattern '-Daemon'
        $d = Start-ChildProcess -FilePath sleep -ArgumentList 300 -GracePeriod 2 -Daemon
        $d.Daemon | Should -BeTrue
        $d.DaemonGracePeriod | Should -Be ([timespan]::FromSeconds(2))
    }

    It '-Name with a control character (<What>) is a parameter validation error and starts nothing' -TestCases @(
        @{ What = 'newline'; Name = "evil`n[INFO/MainProcess] forged" }
        @{ What = 'carriage return'; Name = "a`rb" }
        @{ What = 'tab'; Name = "a`tb" }
        @{ What = 'escape'; Name = "a$([char]27)[31mb" }
    ) {
        { Start-ChildProcess -FilePath sleep -ArgumentList 300 -Name $Name } | Should -Throw -ErrorId 'ParameterArgumentValidationError,*'
        @(Get-ChildProcess).Count | Should -Be 0
    }

    It 'a name with spaces and punctuation is still fine' {
        (Start-ChildProcess -FilePath true -Name 'my worker #1 (w[1])').Name | Should -Be 'my worker #1 (w[1])'
    }

    It 'a scriptblock with no statements (<What>) is refused as {} is' -TestCases @(
        @{ What = 'empty'; Block = {} }
        @{ What = 'only a comment'; Block = { # only a comment
            } }
        @{ What = 'only a param block'; Block = { param($x) } }
        @{ What = 'empty named blocks'; Block = { begin { } process { } end { } } }
        @{ What = 'from text, only a comment'; Block = [scriptblock]::Create('<# nothing #>') }
    ) {
        Assert-StartFailed -Start { Start-ChildProcess -ScriptBlock $Block } -MessagePattern '(?i)empty|nothing to run'
    }

    It 'a scriptblock with a param block and a statement runs' {
        $p = Start-ChildProcess { param($x) "got $x" } -ArgumentList 5
        Wait-ChildProcess $p -Timeout 60
        Receive-ChildProcess $p | Should -Be 'got 5'
    }

    It 'Wait-ChildProcess -Timeout +Infinity waits without limit; NaN and negative stay refused' {
        $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'sleep 0.3'
        Wait-ChildProcess $p -Timeout ([double]::PositiveInfinity) -ErrorVariable ev
        $ev.Count | Should -Be 0
        $p.IsAlive | Should -BeFalse
        { Wait-ChildProcess $p -Timeout ([double]::NaN) } | Should -Throw -ErrorId 'ParameterArgumentValidationError,*'
        { Wait-ChildProcess $p -Timeout -0.5 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,*'
        { Wait-ChildProcess $p -Timeout ([double]::NegativeInfinity) } | Should -Throw -ErrorId 'ParameterArgumentValidationError,*'
    }
}
