#Requires -Version 7.4
# What outlives a session: helpers (guardians, drainers) that do not depend on the session's PATH, and pipes that a
# grandchild still holds after its parent (a start script that backgrounded a server) exited.

Describe 'Session end' {
    BeforeAll {
        Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
        $ModulePath = Get-ProcessKitModulePath
        Import-Module $ModulePath -Force

        # Lines in $Path that match $Pattern (0 when the file does not exist yet).
        function Get-LineCount([string] $Path, [string] $Pattern = '.') {
            if (-not (Test-Path -LiteralPath $Path)) { return 0 }
            @([System.IO.File]::ReadAllLines($Path) | Where-Object { $_ -match $Pattern }).Count
        }

        # A session script for a separate pwsh. Mode 'nopath': PATH is /nonexistent before anything starts; starts a
        # daemon that ignores SIGTERM (grace 4 s) and a chatty non-daemon, both ticking into files. Mode 'grandchild':
        # a non-daemon start script backgrounds a chatty grandchild and exits. Then the session exits or blocks.
        $SessionScript = Join-Path $TestDrive 'session.ps1'
        Set-Content -LiteralPath $SessionScript -Value @'
param([string] $ModulePath, [string] $Dir, [string] $Mode, [string] $End)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
if ($Mode -eq 'nopath') {
    $env:PATH = '/nonexistent'
    $d = Start-ChildProcess -FilePath /bin/sh -ArgumentList '-c', 'trap "echo term >> \"$1/daemon\"" TERM; while :; do echo tick >> "$1/daemon"; echo out; /bin/sleep 0.2; done', 'sh', $Dir -Daemon -GracePeriod 4 -Name stubborn
    $n = Start-ChildProcess -FilePath /bin/sh -ArgumentList '-c', 'while :; do echo line; echo err >&2; echo tick >> "$1/plain"; /bin/sleep 0.2; done', 'sh', $Dir -Name plain
    $ids = "$($d.Id) $($n.Id)"
} else {
    $s = Start-ChildProcess -FilePath /bin/sh -ArgumentList '-c', '(while :; do echo line; echo err >&2; echo tick >> "$1/grand"; sleep 0.2; done) & echo $! > "$1/grand.pid"', 'sh', $Dir -Name starter
    $s | Wait-ChildProcess -Timeout 30 | Out-Null
    while (-not (Test-Path "$Dir/grand.pid")) { Start-Sleep -Milliseconds 50 }
    $ids = "$($s.Id) $((Get-Content "$Dir/grand.pid" -Raw).Trim())"
}
[System.IO.File]::WriteAllText("$Dir/pids.tmp", "$ids $PID`n")
Move-Item -LiteralPath "$Dir/pids.tmp" -Destination "$Dir/pids"
if ($End -eq 'exit') { exit 0 }
Start-Sleep -Seconds 300
'@
        function Start-Session([string] $Mode, [string] $End) {
            $dir = Join-Path $TestDrive ([guid]::NewGuid().ToString('N'))
            New-Item -ItemType Directory -Path $dir | Out-Null
            $proc = Start-PwshScript -ScriptPath $SessionScript -ArgumentList $ModulePath, $dir, $Mode, $End -LogPath "$dir/log"
            $pids = Read-PidFile -Path "$dir/pids" -Count 3
            [pscustomobject]@{ Dir = $dir; Process = $proc; Pids = $pids }
        }
    }
    AfterEach { Clear-TestProcess }
    AfterAll { Clear-TestProcess }

    Context 'helpers do not depend on the session''s PATH' {
        It 'after SIGKILL of a session whose PATH finds no coreutils, a daemon that ignores SIGTERM still gets its grace, then SIGKILL' {
            $s = Start-Session -Mode nopath -End block
            $daemon = $s.Pids[0]
            Wait-Until -Timeout 30 { (Get-LineCount "$($s.Dir)/daemon" 'tick') -ge 2 } | Should -BeTrue
            Send-Signal -Id $s.Pids[2] -Signal KILL
            Wait-Until -Timeout 30 { (Get-LineCount "$($s.Dir)/daemon" 'term') -ge 1 } | Should -BeTrue
            # The guardian kills it once the 4 s grace is over, not before: it keeps ticking in the meantime.
            Wait-Until -Timeout 30 { -not (Test-PidAlive -Id $daemon) } | Should -BeTrue
            $lines = [System.IO.File]::ReadAllLines("$($s.Dir)/daemon")
            $after = $lines.Count - [array]::IndexOf($lines, 'term') - 1
            $after | Should -BeGreaterOrEqual 5 -Because 'the daemon ticks every 0.2 s during its 4 s grace'
        }

        It 'after a normal exit of a session whose PATH finds no coreutils, a non-daemon keeps running and writing' {
            $s = Start-Session -Mode nopath -End exit
            $plain = $s.Pids[1]
            $s.Process.WaitForExit(60000) | Should -BeTrue
            $before = Get-LineCount "$($s.Dir)/plain"
            Wait-Until -Timeout 30 { (Get-LineCount "$($s.Dir)/plain") -ge $before + 10 } | Should -BeTrue
            Test-PidAlive -Id $plain | Should -BeTrue
        }
    }

    Context 'pipes still held by a grandchild' {
        It 'a grandchild backgrounded by an exited start script keeps running and writing after the session exits' {
            $s = Start-Session -Mode grandchild -End exit
            $grand = $s.Pids[1]
            $s.Process.WaitForExit(60000) | Should -BeTrue
            $before = Get-LineCount "$($s.Dir)/grand"
            Wait-Until -Timeout 30 { (Get-LineCount "$($s.Dir)/grand") -ge $before + 10 } | Should -BeTrue
            Test-PidAlive -Id $grand | Should -BeTrue
        }
    }
}
