#Requires -Version 7.4
# What children say (Receive-ChildProcess): object round-trips, the child's streams, terminating errors,
# text encoding, stderr handling, capture of huge output (spilled, not dropped), redirection/console edge cases, -Wait, -Keep,
# removed children and child names seen from inside a child.
# Complements Output.Tests.ps1 (basic text lines, -Keep on text, stderr records, simple objects, redirection to files).

Describe 'Receive-ChildProcess: scriptblock children' {
    BeforeAll {
        Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
        $ModulePath = Get-ProcessKitModulePath
        Import-Module $ModulePath -Force

        # Scriptblock children cost a cold pwsh each: start them all here, wait for all of them once.
        $Objects = Start-ChildProcess {
            [pscustomobject]@{ a = 1; b = 'x' }
            @{ k1 = 'v1'; k2 = 2 }
            [pscustomobject]@{ name = 'outer'; inner = [pscustomobject]@{ c = 3; d = 'deep' } }
            [datetime]::new(2021, 3, 4, 5, 6, 7, [DateTimeKind]::Utc)
        }
        $Streams = Start-ChildProcess {
            Write-Verbose 'verbose-while-silent'    # the child's own default preference hides this one
            $VerbosePreference = 'Continue'
            Write-Verbose 'verbose-msg'
            Write-Information 'info-msg'
            Write-Warning 'warn-msg'
            Write-Error 'soft-error-msg'
            'still-running-after-error'
        }
        $Terminating = Start-ChildProcess { 'before-throw'; throw 'boom-terminating'; 'never-reached' }
        $usingText = 'using "text" ü'
        $usingTable = @{ key = 'table-value'; n = 41 }
        $Using = @('first', 2, [pscustomobject]@{ p = 'piped-prop' }) | Start-ChildProcess {
            $items = @($input)
            "count=$($items.Count)"
            "types=$($items[0].GetType().Name),$($items[1].GetType().Name)"
            "third=$($items[2].p)"
            "plain=$using:usingText"
            "member=$($using:usingTable.key)"
            "index=$($using:usingTable['key'])"
            $using:usingTable.n + 1
        }
        $KeepChild = Start-ChildProcess { 'kept-object'; Write-Warning 'kept-warning'; Write-Error 'kept-error' }
        $ParentName = New-TestName 'outer'
        $Nested = Start-ChildProcess -Name $ParentName {
            Import-Module $using:ModulePath
            $one = Start-ChildProcess -FilePath true
            $two = Start-ChildProcess -FilePath true
            $null = Wait-ChildProcess $one, $two -Timeout 60
            "self=$env:PROCESSKIT_NAME"
            "first=$($one.Name)"
            "second=$($two.Name)"
            "codes=$((Get-ChildExitCode $one, $two) -join ',')"
        }
        $All = @($Objects, $Streams, $Terminating, $Using, $KeepChild, $Nested)
        Wait-ChildProcess $All -Timeout 120 -ErrorAction Stop

        function Get-Diagnostics($Child) {
            # For -Because: everything the child said, merged.
            (@(Receive-ChildProcess $Child -Keep -ErrorAction SilentlyContinue -WarningAction SilentlyContinue *>&1) | Out-String).Trim()
        }
    }
    # The children above are shared by the tests below (read with -Keep), so no AfterEach cleanup here.
    AfterAll { Clear-TestProcess }

    It 'a [pscustomobject] round-trips with its properties' {
        $out = @(Receive-ChildProcess $Objects -Keep)
        Get-ChildExitCode $Objects | Should -Be 0 -Because (Get-Diagnostics $Objects)
        $out.Count | Should -Be 4
        $out[0].a | Should -Be 1
        $out[0].a | Should -BeOfType [int]
        $out[0].b | Should -BeExactly 'x'
        @($out[0].PSObject.Properties.Name) | Should -Be @('a', 'b')
    }

    It 'a hashtable round-trips as a hashtable with its keys and values' {
        $h = @(Receive-ChildProcess $Objects -Keep)[1]
        $h | Should -BeOfType [hashtable]
        @($h.Keys | Sort-Object) | Should -Be @('k1', 'k2')
        $h['k1'] | Should -BeExactly 'v1'
        $h['k2'] | Should -Be 2
    }

    It 'a nested object keeps its properties one level deep' {
        $o = @(Receive-ChildProcess $Objects -Keep)[2]
        $o.name | Should -BeExactly 'outer'
        $o.inner | Should -Not -BeNullOrEmpty
        $o.inner.c | Should -Be 3
        $o.inner.d | Should -BeExactly 'deep'
    }

    It 'a [datetime] round-trips as a [datetime] with the same instant' {
        $d = @(Receive-ChildProcess $Objects -Keep)[3]
        $d | Should -BeOfType [datetime]
        $d.ToUniversalTime() | Should -Be ([datetime]::new(2021, 3, 4, 5, 6, 7, [DateTimeKind]::Utc))
    }

    It 'Write-Error arrives as a non-terminating error record with the child''s message; output after it still arrives' {
        $out = @(Receive-ChildProcess $Streams -Keep -ErrorVariable ev -ErrorAction SilentlyContinue -WarningAction SilentlyContinue)
        Get-ChildExitCode $Streams | Should -Be 0 -Because 'a non-terminating error does not fail the child'
        $out | Should -Be @('still-running-after-error')
        $ev.Count | Should -Be 1
        $ev[0] | Should -BeOfType [System.Management.Automation.ErrorRecord]
        $ev[0].Exception.Message | Should -BeExactly 'soft-error-msg'
    }

    It 'Write-Warning lands in the warning stream (-WarningVariable), not in the output' {
        $out = @(Receive-ChildProcess $Streams -Keep -ErrorAction SilentlyContinue -WarningVariable wv -WarningAction SilentlyContinue)
        @($wv | ForEach-Object { "$_" }) | Should -Be @('warn-msg')
        @($out | Where-Object { "$_" -match 'warn-msg' }).Count | Should -Be 0
    }

    It 'Write-Verbose lands in the verbose stream when the child''s $VerbosePreference is Continue (and not before)' {
        $all = @(Receive-ChildProcess $Streams -Keep -Verbose -ErrorAction SilentlyContinue -WarningAction SilentlyContinue 4>&1)
        $verbose = @($all | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] })
        @($verbose | ForEach-Object Message) | Should -Be @('verbose-msg')
        @($all | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] }) | Should -Be @('still-running-after-error')
    }

    It 'Write-Information lands in the information stream (-InformationVariable)' {
        $out = @(Receive-ChildProcess $Streams -Keep -ErrorAction SilentlyContinue -WarningAction SilentlyContinue -InformationVariable iv -InformationAction SilentlyContinue)
        @($iv | ForEach-Object { "$($_.MessageData)" }) | Should -Be @('info-msg')
        $iv[0] | Should -BeOfType [System.Management.Automation.InformationRecord]
        @($out | Where-Object { "$_" -match 'info-msg' }).Count | Should -Be 0
    }

    It 'a terminating error gives an error record with its message and exit code 1; output before it arrives' {
        $out = @(Receive-ChildProcess $Terminating -Keep -ErrorVariable ev -ErrorAction SilentlyContinue)
        Get-ChildExitCode $Terminating | Should -Be 1
        $Terminating.State | Should -Be 'Failed'
        $out | Should -Be @('before-throw')
        $ev.Count | Should -Be 1
        $ev[0].Exception.Message | Should -BeExactly 'boom-terminating'
    }

    It 'several piped items reach $input in order with their types; $using: works plain, in strings, with member and index access' {
        $out = @(Receive-ChildProcess $Using -Keep)
        Get-ChildExitCode $Using | Should -Be 0 -Because (Get-Diagnostics $Using)
        $out | Should -Be @(
            'count=3'
            'types=String,Int32'
            'third=piped-prop'
            'plain=using "text" ü'
            'member=table-value'
            'index=table-value'
            42
        )
    }

    It 'without -Keep, objects and stream records are consumed; -Keep leaves all of them' {
        foreach ($round in 1..2) {
            $out = @(Receive-ChildProcess $KeepChild -Keep -ErrorVariable ev -ErrorAction SilentlyContinue -WarningVariable wv -WarningAction SilentlyContinue)
            $out | Should -Be @('kept-object') -Because "-Keep read #$round"
            @($wv | ForEach-Object { "$_" }) | Should -Be @('kept-warning') -Because "-Keep read #$round"
            @($ev | ForEach-Object { $_.Exception.Message }) | Should -Be @('kept-error') -Because "-Keep read #$round"
        }
        $out = @(Receive-ChildProcess $KeepChild -ErrorVariable ev -ErrorAction SilentlyContinue -WarningVariable wv -WarningAction SilentlyContinue)
        $out | Should -Be @('kept-object')
        $wv.Count | Should -Be 1
        $ev.Count | Should -Be 1
        $again = @(Receive-ChildProcess $KeepChild -ErrorVariable ev2 -ErrorAction SilentlyContinue -WarningVariable wv2 -WarningAction SilentlyContinue -InformationVariable iv2 -Verbose 4>&1)
        $again.Count | Should -Be 0
        $ev2.Count | Should -Be 0
        $wv2.Count | Should -Be 0
        $iv2.Count | Should -Be 0
    }

    It 'children started inside a named child (module path via $using:) are named after it: name:1 and name:2' {
        $out = @(Receive-ChildProcess $Nested -Keep)
        Get-ChildExitCode $Nested | Should -Be 0 -Because (Get-Diagnostics $Nested)
        $out | Should -Be @(
            "self=$ParentName"
            "first=${ParentName}:1"
            "second=${ParentName}:2"
            'codes=0,0'
        )
    }
}

Describe 'Receive-ChildProcess: program children and capture' {
    BeforeAll {
        Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
        $ModulePath = Get-ProcessKitModulePath
        Import-Module $ModulePath -Force
    }
    AfterAll { Clear-TestProcess }
    AfterEach { Clear-TestProcess }

    It '-Wait on running children returns everything they wrote, after they exited (like Receive-Job -Wait)' {
        $a = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'echo a1; sleep 0.5; echo a2; sleep 0.5; echo a3; exit 5'
        $b = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'echo b1; sleep 1; echo b2 >&2; echo b3'
        $out = @(Receive-ChildProcess $a, $b -Wait -ErrorVariable ev -ErrorAction SilentlyContinue)
        Test-ChildProcess $a, $b | Should -Be @($false, $false) -Because 'Receive -Wait returns only after the children exited'
        Get-ChildExitCode $a, $b | Should -Be @(5, 0)
        @($out | Where-Object { $_ -like 'a*' }) | Should -Be @('a1', 'a2', 'a3') -Because 'each child''s lines keep their order (the children stream side by side)'
        @($out | Where-Object { $_ -like 'b*' }) | Should -Be @('b1', 'b3')
        @($ev | ForEach-Object { $_.Exception.Message }) | Should -Be @('b2')
        @(Receive-ChildProcess $a, $b -ErrorAction SilentlyContinue 2>&1).Count | Should -Be 0 -Because '-Wait consumed everything'
    }

    It 'stderr lines are error records with FullyQualifiedErrorId ChildProcessStandardError; -StandardErrorAsText makes them strings' {
        $script = 'echo out-1; echo err-1 >&2; echo err-2 >&2'
        $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', $script
        $q = Start-ChildProcess -FilePath sh -ArgumentList '-c', $script
        Wait-ChildProcess $p, $q -Timeout 60 -ErrorAction Stop

        $out = @(Receive-ChildProcess $p -ErrorVariable ev -ErrorAction SilentlyContinue)
        $out | Should -Be @('out-1')
        $ev.Count | Should -Be 2
        foreach ($e in $ev) { $e.FullyQualifiedErrorId | Should -BeLike 'ChildProcessStandardError*' }
        @($ev | ForEach-Object { $_.Exception.Message }) | Should -Be @('err-1', 'err-2')

        $text = @(Receive-ChildProcess $q -StandardErrorAsText -ErrorVariable ev2)
        $ev2.Count | Should -Be 0 -Because '-StandardErrorAsText writes no error records'
        @($text | Sort-Object) | Should -Be @('err-1', 'err-2', 'out-1')
        foreach ($t in $text) { $t | Should -BeOfType [string] }
    }

    It 'invalid UTF-8 on stdout becomes U+FFFD in the line, with no error' {
        $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', "printf '\377\376abc\n'; echo next"
        $out = @(Receive-ChildProcess $p -Wait -ErrorVariable ev)
        $ev.Count | Should -Be 0
        Get-ChildExitCode $p | Should -Be 0
        $out.Count | Should -Be 2
        $out[0] | Should -BeOfType [string]
        $out[0] | Should -Match 'abc$'
        $out[0].Contains([char]0xFFFD) | Should -BeTrue -Because "the invalid bytes are replaced by U+FFFD (got code points $([int[]]$out[0].ToCharArray() -join ','))"
        $out[1] | Should -BeExactly 'next'
    }

    It 'a child that closes stdout early, keeps writing stderr and exits does not hang anything' {
        $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'echo before-close; exec 1>&-; for i in 1 2 3; do sleep 0.2; echo "err-$i" >&2; done; exit 3'
        Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop
        $sw = [System.Diagnostics.Stopwatch]::StartNew()
        $out = @(Receive-ChildProcess $p -Wait -StandardErrorAsText)
        $sw.Elapsed.TotalSeconds | Should -BeLessThan 30
        Get-ChildExitCode $p | Should -Be 3
        $out | Should -Be @('before-close', 'err-1', 'err-2', 'err-3')
    }

    It '100 MB on stdout: the child is not blocked, memory stays bounded (the rest is spilled to disk), Receive returns every line and warns of nothing' {
        [GC]::Collect(); [GC]::WaitForPendingFinalizers(); [GC]::Collect()
        $before = [System.Diagnostics.Process]::GetCurrentProcess().WorkingSet64
        # 1,000,000 lines of 100 'x'; a numbered last line tells the newest line is kept.
        $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', "head -c 100000000 /dev/zero | tr '\0' x | fold -w 100; echo; echo last-line"
        Wait-ChildProcess $p -Timeout 120 -ErrorAction Stop
        Get-ChildExitCode $p | Should -Be 0

        $count = 0; $first = $null; $prev = $null; $last = $null
        Receive-ChildProcess $p -Wait -WarningVariable wv -WarningAction SilentlyContinue | ForEach-Object {
            if ($count -eq 0) { $first = $_ }
            $count++; $prev = $last; $last = $_
        }
        $count | Should -Be 1000001 -Because 'nothing is dropped below the disk cap'
        $first | Should -BeExactly ('x' * 100)
        $prev | Should -BeExactly ('x' * 100)
        $last | Should -BeExactly 'last-line'
        $wv.Count | Should -Be 0

        $again = @(Receive-ChildProcess $p -WarningVariable wv2 -WarningAction SilentlyContinue)
        $again.Count | Should -Be 0
        $wv2.Count | Should -Be 0

        [GC]::Collect(); [GC]::WaitForPendingFinalizers(); [GC]::Collect()
        $after = [System.Diagnostics.Process]::GetCurrentProcess().WorkingSet64
        ($after - $before) / 1MB | Should -BeLessThan 200 -Because "the capture is bounded (working set $([math]::Round($before / 1MB)) MB -> $([math]::Round($after / 1MB)) MB)"
    }

    It 'with both streams redirected to files, the files get the exact bytes and Receive returns nothing' {
        $outFile = Join-Path $TestDrive 'bytes-out.bin'
        $errFile = Join-Path $TestDrive 'bytes-err.bin'
        $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', "printf 'a\377b\r\nno-newline'; printf 'e1\ne2\n' >&2" -RedirectStandardOutput $outFile -RedirectStandardError $errFile
        Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop
        Get-ChildExitCode $p | Should -Be 0
        [System.IO.File]::ReadAllBytes($outFile) | Should -Be ([byte[]](0x61, 0xFF, 0x62, 0x0D, 0x0A) + [System.Text.Encoding]::ASCII.GetBytes('no-newline'))
        [System.IO.File]::ReadAllText($errFile) | Should -BeExactly "e1`ne2`n"
        @(Receive-ChildProcess $p -Wait -ErrorAction SilentlyContinue 2>&1).Count | Should -Be 0
    }

    It 'redirecting <Stream> into a missing folder is ChildProcessStartFailed and tracks nothing' -TestCases @(
        @{ Stream = 'stdout'; Param = 'RedirectStandardOutput' }
        @{ Stream = 'stderr'; Param = 'RedirectStandardError' }
    ) {
        $marker = Join-Path $TestDrive "must-not-run-$Stream"
        $target = Join-Path $TestDrive "no-such-folder-$Stream/out.txt"
        $splat = @{ FilePath = 'sh'; ArgumentList = @('-c', 'touch "$1"', 'sh', $marker); $Param = $target }
        $all = @(Start-ChildProcess @splat 2>&1)
        $errs = @($all | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
        @($all | Where-Object { $_ -isnot [System.Management.Automation.ErrorRecord] }).Count | Should -Be 0
        $errs.Count | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'ChildProcessStartFailed*'
        "$($errs[0])" | Should -Match "no-such-folder-$Stream"
        @(Get-ChildProcess).Count | Should -Be 0
        Start-Sleep -Milliseconds 300
        Test-Path -LiteralPath $marker | Should -BeFalse -Because 'nothing was started'
    }

    It 'redirecting into a path that is a directory is ChildProcessStartFailed and tracks nothing' {
        { Start-ChildProcess -FilePath true -RedirectStandardOutput $TestDrive -ErrorAction Stop } | Should -Throw -ErrorId 'ChildProcessStartFailed*'
        @(Get-ChildProcess).Count | Should -Be 0
    }

    It '-UseConsole: the child shares the session''s stdout, runs and exits 0; Receive returns nothing' {
        $file = Join-Path $TestDrive 'console-fd1.txt'
        # The child records where its fd 1 points (the same terminal/pipe/file as the session's when shared).
        $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'o=$(readlink /proc/$$/fd/1); e=$(readlink /proc/$$/fd/2); printf "%s\n%s\n" "$o" "$e" > "$1"', 'sh', $file -UseConsole
        Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop
        Get-ChildExitCode $p | Should -Be 0
        $lines = @(Get-Content -LiteralPath $file)
        $lines[0] | Should -BeExactly (& readlink "/proc/$PID/fd/1") -Because 'stdout is the session''s own'
        $lines[1] | Should -BeExactly (& readlink "/proc/$PID/fd/2") -Because 'stderr is the session''s own'
        @(Receive-ChildProcess $p -Wait -ErrorAction SilentlyContinue 2>&1).Count | Should -Be 0
    }

    It 'Receive on a removed child is a ChildProcessRemoved error and outputs nothing' {
        $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'echo gone'
        Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop
        Remove-ChildProcess $p
        $out = @(Receive-ChildProcess $p -ErrorVariable ev -ErrorAction SilentlyContinue)
        $out.Count | Should -Be 0
        $ev.Count | Should -Be 1
        $ev[0].FullyQualifiedErrorId | Should -BeLike 'ChildProcessRemoved*'
        { Receive-ChildProcess $p -ErrorAction Stop } | Should -Throw -ErrorId 'ChildProcessRemoved*'
    }
}

Describe 'Scriptblock children outside capture, and pipeline input to programs' {
    BeforeAll {
        Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
        Import-Module (Get-ProcessKitModulePath) -Force
    }
    AfterEach { Clear-TestProcess }

    It 'a scriptblock child with -RedirectStandardOutput writes formatted text, not ProcessKit records' {
        $out = Join-Path $TestDrive 'sb.out'
        $p = Start-ChildProcess { 'to file'; 7; [pscustomobject]@{ answer = 42 } } -RedirectStandardOutput $out
        Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop
        $p.ExitCode | Should -Be 0
        $text = Get-Content -LiteralPath $out -Raw
        $text | Should -Not -Match "`u{1e}"
        $text | Should -Match 'to file'
        $text | Should -Match '(?m)^7\s*$'
        $text | Should -Match 'answer'
        $text | Should -Match '(?m)^\s*42\s*$'
    }

    It 'a scriptblock child with -RedirectStandardOutput that throws exits 1 and writes the error to stderr' {
        $out = Join-Path $TestDrive 'throw.out'
        $err = Join-Path $TestDrive 'throw.err'
        $p = Start-ChildProcess { 'before'; throw 'kaboom' } -RedirectStandardOutput $out -RedirectStandardError $err
        Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop
        $p.ExitCode | Should -Be 1
        Get-Content -LiteralPath $out -Raw | Should -Match 'before'
        Get-Content -LiteralPath $err -Raw | Should -Match 'kaboom'
        Get-Content -LiteralPath $err -Raw | Should -Not -Match 'CLIXML'
    }

    It 'pipeline input reaches a program child''s stdin as lines of text' {
        $p = 'a', 'b c', 3 | Start-ChildProcess -FilePath cat
        Receive-ChildProcess $p -Wait | Should -Be @('a', 'b c', '3')
        $p.ExitCode | Should -Be 0
    }

    It 'without pipeline input a program child reads end of file at once' {
        $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'cat; echo done'
        Receive-ChildProcess $p -Wait | Should -Be @('done')
    }
}

