#Requires -Version 7.4
# Arguments reaching the child intact, and output capture (Receive-ChildProcess, redirection to files).

Describe 'Arguments' {
    BeforeAll {
        Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
        $ModulePath = Get-ProcessKitModulePath
        Import-Module $ModulePath -Force

        # Every element must reach a program as exactly one argument, unchanged.
        $TrickyArgs = @(
            'plain'
            'with space'
            '  leading and trailing  '
            ''
            'double "quoted" text'
            "single 'quoted' text"
            "it's"
            '"'
            "'"
            'back\slash'
            'trailing backslash\'
            'two trailing backslashes\\'
            '\"escaped quote\"'
            '$HOME'
            '${PATH}'
            '$(echo injected)'
            '`backtick`'
            '*'
            '?'
            '[a-z]'
            '~'
            ';'
            '&&'
            '|'
            '<>'
            '-n'
            '--'
            '%PATH%'
            'a=b'
            "tab`there"
            'ünïcödé'
            '日本語'
            '🙂'
            ''
        )
    }
    AfterAll { Clear-TestProcess }
    AfterEach { Clear-TestProcess }

    It 'arguments with spaces, quotes, empty strings, unicode, $ and backslashes reach sh intact (read back with Receive-ChildProcess -Wait)' {
        $p = Start-ChildProcess -FilePath sh -ArgumentList (@('-c', 'for a in "$@"; do printf "[%s]\n" "$a"; done', 'sh') + $TrickyArgs)
        $lines = @(Receive-ChildProcess $p -Wait)
        Get-ChildExitCode $p | Should -Be 0
        $lines.Count | Should -Be $TrickyArgs.Count
        for ($i = 0; $i -lt $TrickyArgs.Count; $i++) {
            "$($lines[$i])" | Should -BeExactly "[$($TrickyArgs[$i])]" -Because "argument #$i"
        }
    }

    It 'arguments reach sh intact (written to a file, independent of output capture)' {
        $file = Join-Path $TestDrive 'args-sh.txt'
        $p = Start-ChildProcess -FilePath sh -ArgumentList (@('-c', 'f=$1; shift; for a in "$@"; do printf "[%s]\n" "$a"; done > "$f"', 'sh', $file) + $TrickyArgs)
        Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop
        Get-ChildExitCode $p | Should -Be 0
        $lines = @([System.IO.File]::ReadAllLines($file, [System.Text.UTF8Encoding]::new($false)))
        $lines.Count | Should -Be $TrickyArgs.Count
        for ($i = 0; $i -lt $TrickyArgs.Count; $i++) {
            $lines[$i] | Should -BeExactly "[$($TrickyArgs[$i])]" -Because "argument #$i"
        }
    }

    It 'arguments reach python3 intact (sys.argv as JSON in a file)' -Skip:(-not (Get-Command python3 -CommandType Application -ErrorAction Ignore)) {
        $file = Join-Path $TestDrive 'args.json'
        $code = 'import sys, json; open(sys.argv[1], "w", encoding="utf-8").write(json.dumps(sys.argv[2:]))'
        $p = Start-ChildProcess -FilePath python3 -ArgumentList (@('-c', $code, $file) + $TrickyArgs)
        Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop
        Get-ChildExitCode $p | Should -Be 0
        $got = @(Get-Content -LiteralPath $file -Raw -Encoding utf8 | ConvertFrom-Json -NoEnumerate)[0]
        @($got).Count | Should -Be $TrickyArgs.Count
        for ($i = 0; $i -lt $TrickyArgs.Count; $i++) {
            $got[$i] | Should -BeExactly $TrickyArgs[$i] -Because "argument #$i"
        }
    }

    It 'a single empty-string argument is passed (not dropped)' {
        $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'exit $#', 'sh', ''
        Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop
        Get-ChildExitCode $p | Should -Be 1
    }

    It 'no -ArgumentList means no arguments' {
        $file = Join-Path $TestDrive 'noargs.sh'
        [System.IO.File]::WriteAllText($file, "#!/bin/sh`nexit `$#`n")
        & chmod +x -- $file
        $p = Start-ChildProcess -FilePath $file
        Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop
        Get-ChildExitCode $p | Should -Be 0
    }

    It 'a scriptblock child gets -ArgumentList values (with quotes, unicode, empty) and $using: variables' {
        $usingValue = 'from $using: "quoted" ü'
        $p = Start-ChildProcess {
            param($a, $b, $c, $n)
            "a=[$a]"
            "b=[$b]"
            "c=[$c]"
            "n=[$($n + 1)]"
            "u=[$using:usingValue]"
        } -ArgumentList 'x "y" ''z''', '', '日本 $HOME \', 41
        $out = @(Receive-ChildProcess $p -Wait)
        Get-ChildExitCode $p | Should -Be 0
        $out | Should -Be @(
            'a=[x "y" ''z'']'
            'b=[]'
            'c=[日本 $HOME \]'
            'n=[42]'
            'u=[from $using: "quoted" ü]'
        )
    }

    It 'a scriptblock child reads -InputObject from the pipeline through $input' {
        $p = 21 | Start-ChildProcess { @($input) | ForEach-Object { $_ * 2 } }
        $out = @(Receive-ChildProcess $p -Wait)
        Get-ChildExitCode $p | Should -Be 0
        $out | Should -Be @(42)
    }
}

Describe 'Receive-ChildProcess' {
    BeforeAll {
        Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
        $ModulePath = Get-ProcessKitModulePath
        Import-Module $ModulePath -Force
    }
    AfterAll { Clear-TestProcess }
    AfterEach { Clear-TestProcess }

    It 'a program''s stdout arrives as lines of text' {
        $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'echo one; echo "two words"; printf "no newline"'
        $out = @(Receive-ChildProcess $p -Wait)
        $out | Should -Be @('one', 'two words', 'no newline')
        foreach ($o in $out) { $o | Should -BeOfType [string] }
    }

    It 'consumes what it outputs; -Keep leaves it' {
        $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'echo kept'
        Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop
        @(Receive-ChildProcess $p -Keep) | Should -Be @('kept')
        @(Receive-ChildProcess $p -Keep) | Should -Be @('kept')
        @(Receive-ChildProcess $p) | Should -Be @('kept')
        @(Receive-ChildProcess $p).Count | Should -Be 0
    }

    It 'without -Wait returns what is there so far and does not block on a running child' {
        $ready = Join-Path $TestDrive 'partial.ready'
        $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'echo first; touch "$1"; sleep 300', 'sh', $ready
        Wait-Until { Test-Path -LiteralPath $ready } -Timeout 60 | Should -BeTrue
        $ok = Wait-Until { @(Receive-ChildProcess $p -Keep) -contains 'first' } -Timeout 30
        $ok | Should -BeTrue -Because 'output written before the child blocks must become receivable'
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $null = Receive-ChildProcess $p
        $sw.Elapsed.TotalSeconds | Should -BeLessThan 10
        Test-ChildProcess $p | Should -BeTrue
    }

    It 'a program''s stderr arrives as error records' {
        $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'echo to-out; echo to-err >&2'
        $out = @(Receive-ChildProcess $p -Wait -ErrorVariable ev -ErrorAction SilentlyContinue)
        $out | Should -Be @('to-out')
        $ev.Count | Should -Be 1
        $ev[0] | Should -BeOfType [System.Management.Automation.ErrorRecord]
        "$($ev[0])" | Should -Match 'to-err'
    }

    It 'a scriptblock child''s output arrives as deserialized objects; errors and warnings in their own streams' {
        $p = Start-ChildProcess {
            'text'
            42
            [pscustomobject]@{ A = 1; B = 'two'; C = @(3, 4) }
            Write-Warning 'careful'
            Write-Error 'went wrong'
            Write-Verbose 'chatty' -Verbose
        }
        $out = @(Receive-ChildProcess $p -Wait -ErrorVariable ev -ErrorAction SilentlyContinue -WarningVariable wv -WarningAction SilentlyContinue -Verbose 4>&1)
        $verbose = @($out | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] })
        $objects = @($out | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] })
        $objects.Count | Should -Be 3
        $objects[0] | Should -BeExactly 'text'
        $objects[1] | Should -Be 42
        $objects[1] | Should -BeOfType [int]
        $objects[2].A | Should -Be 1
        $objects[2].B | Should -BeExactly 'two'
        @($objects[2].C) | Should -Be @(3, 4)
        @($wv | Where-Object { "$_" -match 'careful' }).Count | Should -Be 1
        @($ev | Where-Object { "$_" -match 'went wrong' }).Count | Should -Be 1
        @($verbose | Where-Object { "$_" -match 'chatty' }).Count | Should -Be 1
    }

    It 'capture does not deadlock a child that writes a lot to stdout and stderr' {
        $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'yes out-line | head -n 200000; yes err-line | head -n 200000 >&2; echo done'
        Wait-ChildProcess $p -Timeout 120 -ErrorAction Stop
        Get-ChildExitCode $p | Should -Be 0
        $out = @(Receive-ChildProcess $p -ErrorAction SilentlyContinue)
        $out.Count | Should -BeGreaterThan 0 -Because 'some of the output is kept (the buffer is bounded, so not necessarily all)'
    }

    It '-RedirectStandardOutput and -RedirectStandardError write to files' {
        $outFile = Join-Path $TestDrive 'out.txt'
        $errFile = Join-Path $TestDrive 'err.txt'
        $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'echo to-out-file; echo to-err-file >&2' -RedirectStandardOutput $outFile -RedirectStandardError $errFile
        Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop
        Get-ChildExitCode $p | Should -Be 0
        (Get-Content -LiteralPath $outFile -Raw) | Should -BeExactly "to-out-file`n"
        (Get-Content -LiteralPath $errFile -Raw) | Should -BeExactly "to-err-file`n"
    }

    It '-RedirectStandardOutput with a relative path is resolved against the PowerShell location' {
        $dir = Join-Path $TestDrive 'redir'
        $null = New-Item -ItemType Directory -Path $dir
        $saved = [Environment]::CurrentDirectory
        Push-Location -LiteralPath $dir
        try {
            [Environment]::CurrentDirectory = '/'
            $p = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'echo relative' -RedirectStandardOutput 'rel-out.txt'
            Wait-ChildProcess $p -Timeout 60 -ErrorAction Stop
        } finally {
            Pop-Location
            [Environment]::CurrentDirectory = $saved
        }
        Get-Content -LiteralPath (Join-Path $dir 'rel-out.txt') -Raw | Should -BeExactly "relative`n"
    }
}
