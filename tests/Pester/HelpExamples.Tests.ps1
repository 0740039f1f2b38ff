#Requires -Version 7.4
# Every example of Get-Help runs as copied: each in a fresh pwsh (in an empty folder, with the built module imported
# and $ErrorActionPreference = 'Stop', so an error it does not silence fails it), within a timeout, and leaves no
# process behind. Examples create what they use: no $p, worker or ./server from nowhere.

BeforeDiscovery {
    Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
    Import-Module (Get-ProcessKitModulePath) -Force
    $Examples = foreach ($cmd in Get-Command -Module ProcessKit -CommandType Cmdlet | Sort-Object Name) {
        $n = 0
        foreach ($e in @((Get-Help $cmd.Name).examples.example)) {
            $n++
            @{ Cmdlet = $cmd.Name; Number = $n; Code = "$($e.code)".Trim() }
        }
    }
}

Describe 'Help examples' {
    BeforeAll {
        Import-Module "$PSScriptRoot/TestHelpers.psm1" -Force
        $ModulePath = Get-ProcessKitModulePath
        Import-Module $ModulePath -Force
        $Examples = foreach ($cmd in Get-Command -Module ProcessKit -CommandType Cmdlet | Sort-Object Name) {
            $n = 0
            foreach ($e in @((Get-Help $cmd.Name).examples.example)) {
                $n++
                @{ Cmdlet = $cmd.Name; Number = $n; Code = "$($e.code)".Trim() }
            }
        }
        # Seconds one example may take; the slowest sleep a few seconds and start a few pwsh children.
        $TimeoutSeconds = 90
        $Runner = Join-Path $TestDrive 'run-example.ps1'
        Set-Content -LiteralPath $Runner -Value @'
param([string] $ModulePath, [string] $ExampleFile)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
try {
    . $ExampleFile
} finally {
    Disable-ChildProcessLog
    Get-ChildProcessPool | Remove-ChildProcessPool -Force
    Get-ChildProcess | Stop-ChildProcess -Force
}
'@

        function Get-ProcessKitChildOf([int] $SessionId) {
            # Every child finds its session's pid in PROCESSKIT_PARENT_ID: what an example left behind, even when its
            # session was killed at the timeout.
            foreach ($dir in Get-ChildItem /proc -Directory -ErrorAction SilentlyContinue | Where-Object Name -Match '^\d+$') {
                try {
                    $environ = [System.IO.File]::ReadAllText("$($dir.FullName)/environ")
                } catch {
                    continue   # another user's process, or one that just exited
                }
                if ($environ.Split([char]0) -contains "PROCESSKIT_PARENT_ID=$SessionId") { [int] $dir.Name }
            }
        }

        function Start-Example($Example) {
            $dir = Join-Path $TestDrive "$($Example.Cmdlet)-$($Example.Number)"
            $null = New-Item -ItemType Directory -Path $dir
            $file = Join-Path $dir 'example.ps1'
            Set-Content -LiteralPath $file -Value $Example.Code
            $log = Join-Path $TestDrive "$($Example.Cmdlet)-$($Example.Number).log"
            Push-Location $dir
            try {
                $proc = Start-PwshScript -ScriptPath $Runner -ArgumentList $ModulePath, $file -LogPath $log
            } finally {
                Pop-Location
            }
            [pscustomobject]@{ Key = "$($Example.Cmdlet)/$($Example.Number)"; Process = $proc; Log = $log; Started = [DateTime]::UtcNow
                Finished = $false; ExitCode = $null; Left = @() }
        }

        function Complete-Example($Run) {
            $left = [Math]::Max(0, $TimeoutSeconds - ([DateTime]::UtcNow - $Run.Started).TotalSeconds)
            $Run.Finished = $Run.Process.WaitForExit([int] ($left * 1000))
            try {
                if (-not $Run.Finished) { $Run.Process.Kill() }
                $Run.Process.WaitForExit()
                $Run.ExitCode = $Run.Process.ExitCode
            } finally {
                $Run.Left = @(Get-ProcessKitChildOf -SessionId $Run.Process.Id)
                $Run.Left | Register-ExtraPid
            }
        }

        # A few examples at once: each is mostly a pwsh waiting for its children to start.
        $Parallel = 3
        $Runs = @{}
        $running = [System.Collections.Generic.Queue[object]]::new()
        foreach ($example in $Examples) {
            if ($running.Count -ge $Parallel) { Complete-Example $running.Dequeue() }
            $run = Start-Example $example
            $Runs[$run.Key] = $run
            $running.Enqueue($run)
        }
        while ($running.Count) { Complete-Example $running.Dequeue() }
    }
    AfterAll { Clear-TestProcess }

    It '<Cmdlet> example <Number> parses' -ForEach $Examples {
        $errors = $null
        $null = [System.Management.Automation.Language.Parser]::ParseInput($Code, [ref] $null, [ref] $errors)
        @($errors).Count | Should -Be 0 -Because "the example must be PowerShell, not sample output:`n$Code"
    }

    It '<Cmdlet> example <Number> runs in a fresh pwsh and leaves nothing running' -ForEach $Examples {
        $run = $Runs["$Cmdlet/$Number"]
        $output = if (Test-Path $run.Log) { Get-Content -Raw $run.Log } else { '' }
        $run.Finished | Should -BeTrue -Because "the example must end within $TimeoutSeconds s:`n$Code`n$output"
        $run.ExitCode | Should -Be 0 -Because "the example must run without an error:`n$Code`n--- output ---`n$output"
        $run.Left | Where-Object { Test-PidAlive -Id $_ } | Should -BeNullOrEmpty -Because 'the example''s children are stopped at its end'
    }
}
