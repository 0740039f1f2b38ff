#Requires -Version 7.4
# -UseConsole children share the session's terminal for output, but not its input: they run in a background process
# group, where reading the terminal would stop them with SIGTTIN (and leave them Running forever). Their stdin is
# /dev/null, as multiprocessing.Process gives its children.

Describe 'UseConsole stdin' {
    BeforeAll {
        Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
        $ModulePath = Get-ProcessKitModulePath
        Import-Module $ModulePath -Force
        $Script = (Get-Command script -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1).Source

        # Runs in a separate pwsh on a pseudo-terminal (util-linux script), where the session is the terminal's
        # foreground process group: starts a -UseConsole child that reads its stdin, and reports how it ended.
        $SessionScript = Join-Path $TestDrive 'console.ps1'
        Set-Content -LiteralPath $SessionScript -Value @'
param([string] $ModulePath, [string] $Dir)
Import-Module $ModulePath
$c = Start-ChildProcess -FilePath /bin/sh -ArgumentList '-c', 'read x; echo "read=$?" > "$1/read"; exec cat', 'sh', $Dir -UseConsole -Name reader
"$($c.Id)`n" | Set-Content -NoNewline -LiteralPath "$Dir/pid"
$null = $c | Wait-ChildProcess -Timeout 20
"$($c.State) $(Get-ChildExitCode $c)" | Set-Content -LiteralPath "$Dir/result"
$c | Stop-ChildProcess -Force
'@
    }
    AfterEach { Clear-TestProcess }
    AfterAll { Clear-TestProcess }

    It 'a -UseConsole child that reads stdin gets EOF instead of being stopped by SIGTTIN' {
        if (-not $Script) { Set-ItResult -Skipped -Because 'util-linux script (to run the session on a terminal) is not installed'; return }
        $dir = Join-Path $TestDrive ([guid]::NewGuid().ToString('N'))
        New-Item -ItemType Directory -Path $dir | Out-Null
        $cmd = ((Get-PwshCommand) + @('-NoProfile', '-NonInteractive', '-File', $SessionScript, $ModulePath, $dir) |
            ForEach-Object { "'" + ($_ -replace "'", "'\''") + "'" }) -join ' '
        # script's own stdin is /dev/null: it must not wait for input of ours, only give the session a terminal.
        $psi = [System.Diagnostics.ProcessStartInfo]::new('/bin/sh')
        $psi.UseShellExecute = $false
        foreach ($a in @('-c', 'exec "$1" -qfec "$2" /dev/null </dev/null >"$3" 2>&1', 'sh', $Script, $cmd, "$dir/log")) { $psi.ArgumentList.Add($a) }
        $p = [System.Diagnostics.Process]::Start($psi)
        Register-ExtraPid -Id $p.Id
        $null = Read-PidFile -Path "$dir/pid"
        $p.WaitForExit(90000) | Should -BeTrue
        Get-Content -LiteralPath "$dir/result" -Raw | Should -Match '^Completed 0'
        Get-Content -LiteralPath "$dir/read" -Raw | Should -Match 'read=1'
    }
}
