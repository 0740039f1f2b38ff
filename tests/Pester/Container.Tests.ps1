#Requires -Version 7.4
# pwsh as PID 1 (a container's entrypoint): .NET then reaps every child of the process, so without care the exit
# codes of ProcessKit's children came back Lost, at random. Run inside a new PID namespace (unshare -p -f), where
# the session is PID 1, several times over.

Describe 'pwsh as PID 1' {
    BeforeAll {
        Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
        $ModulePath = Get-ProcessKitModulePath
        Import-Module $ModulePath -Force

        $Unshare = (Get-Command unshare -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1).Source
        $SkipWhy = $null
        if (-not $Unshare) {
            $SkipWhy = 'unshare (util-linux) is not installed'
        } else {
            $probe = & $Unshare -p -f --mount-proc /bin/sh -c 'echo $$' 2>&1
            if ($LASTEXITCODE -ne 0 -or "$probe".Trim() -ne '1') { $SkipWhy = "unshare -p -f --mount-proc is not permitted here (needs root or user namespaces): $probe" }
        }

        # Exit codes 0..5 and SIGTERM (-15) for 20 children in a row, 10 at once, and pwsh's own native commands
        # between them (which .NET's Process reaps), printed as "name expected got".
        $Script = Join-Path $TestDrive 'pid1.ps1'
        Set-Content -LiteralPath $Script -Value @'
param([string] $ModulePath)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
"pid $PID"
foreach ($i in 1..20) {
    $code = $i % 6
    $c = Start-ChildProcess -FilePath /bin/sh -ArgumentList '-c', "exit $code"
    $null = $c | Wait-ChildProcess -Timeout 60
    "seq$i $code $(Get-ChildExitCode $c)"
    if ($i % 5 -eq 0) { /bin/sh -c "exit $code"; "native$i $code $LASTEXITCODE" }
}
$t = Start-ChildProcess -FilePath /bin/sh -ArgumentList '-c', 'kill -TERM $$'
$null = $t | Wait-ChildProcess -Timeout 60
"term -15 $(Get-ChildExitCode $t)"
$s = Start-ChildProcess -FilePath sleep -ArgumentList 300
Stop-ChildProcess -InputObject $s
"stopped -15 $(Get-ChildExitCode $s)"
$many = foreach ($i in 1..10) { Start-ChildProcess -FilePath /bin/sh -ArgumentList '-c', "sleep 0.$i; exit $($i % 6)" }
$null = $many | Wait-ChildProcess -Timeout 60
foreach ($i in 1..10) { "par$i $($i % 6) $(Get-ChildExitCode $many[$i - 1])" }
"done"
'@
    }
    AfterEach { Clear-TestProcess }

    It 'exit codes are right as PID 1 (run <_>)' -ForEach 1, 2, 3 {
        if ($SkipWhy) { Set-ItResult -Skipped -Because $SkipWhy; return }
        $cmd = @('-p', '-f', '--mount-proc') + (Get-PwshCommand) + @('-NoProfile', '-NonInteractive', '-File', $Script, $ModulePath)
        # The namespace ends with its PID 1, and every process in it with it: nothing to clean up after.
        $out = @(& $Unshare @cmd 2>&1 | ForEach-Object { "$_" })
        $LASTEXITCODE | Should -Be 0 -Because ($out -join "`n")
        $out | Should -Contain 'pid 1'
        $out | Should -Contain 'done' -Because ($out -join "`n")
        $rows = @($out | Where-Object { $_ -match '^(seq|native|term|stopped|par)\d* ' })
        $rows.Count | Should -Be 36
        $wrong = @($rows | Where-Object { $f = -split $_; $f[1] -ne $f[2] })
        $wrong | Should -BeNullOrEmpty -Because 'every exit code is reported, none Lost'
        $out | Should -Not -Match 'WARNING: ProcessKit'
    }
}
