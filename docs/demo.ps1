#Requires -Version 7.4
<#
.SYNOPSIS
    ProcessKit demo: the Python multiprocessing tutorial this project comes from, translated to PowerShell.
.DESCRIPTION
    Run it with `dotnet pwsh ./build.ps1 Demo` (builds first), or after a build with
    `pwsh -NoProfile -File docs/demo.ps1`.
    Part 1 is the tutorial ProcessKit was made from (a "Python Multiprocessing Tutorial": spawn, names, daemons,
    join, terminate, is_alive, exitcode, log_to_stderr, and its Performance feature as a pool), its examples in
    its order and with its own messages. Part 2 translates a second, longer tutorial. Each section prints the
    Python original, then the PowerShell it runs and that code's output, then checks the result. Exits 1 if
    anything did not come out as expected. Write-Host throughout: everything here is for the person watching.
    Run it in a fresh pwsh (as both commands do): it lists and removes the session's children.
    The program children use `sh` and `sleep`, so the demo runs on Linux and macOS.
#>
$ErrorActionPreference = 'Stop'

$modulePath = $env:PROCESSKIT_MODULE_PATH
if (-not $modulePath) { $modulePath = Join-Path $PSScriptRoot '../out/ProcessKit/ProcessKit.psd1' }
Import-Module $modulePath

$unexpected = [System.Collections.Generic.List[string]]::new()
$clock = [System.Diagnostics.Stopwatch]::StartNew()
$before = @(Get-ChildProcess)   # children the session had before the demo: the clean-up leaves them alone
$daemonPid = $null
$runspace = $null

function Write-Section([string] $Title, [string] $Python, [string] $Text) {
    Write-Host ''
    Write-Host "=== $Title ==="
    Write-Host "Python: $Python"
    Write-Host $Text
}

# Part 1's sections: the tutorial's Python beside the PowerShell that does the same.
function Write-Original([string] $Title, [string] $Text, [string] $Python) {
    Write-Host ''
    Write-Host "=== $Title ==="
    Write-Host $Text
    Write-Host ''
    Write-Host '  Python:'
    foreach ($line in $Python -split '\r?\n') { Write-Host ('    ' + $line) }
    Write-Host ''
    Write-Host '  PowerShell:'
}

# Prints the code, dedented and indented by four, before it runs; the caller then dot-sources it,
# so its variables stay in the script scope.
function Show-Code([scriptblock] $Code) {
    $lines = @($Code.ToString() -split '\r?\n' | Where-Object { $_.Trim() })
    $indent = ($lines | ForEach-Object { $_.Length - $_.TrimStart().Length } | Measure-Object -Minimum).Minimum
    Write-Host ''
    foreach ($line in $lines) { Write-Host ('    ' + $line.Substring($indent)) }
    Write-Host ''
}

function Assert-Demo([bool] $Condition, [string] $Expectation) {
    if ($Condition) { Write-Host "  ok: $Expectation" }
    else { Write-Host "  NOT AS EXPECTED: $Expectation"; $script:unexpected.Add($Expectation) }
}

# True while the process exists and is not a zombie (it is not one of this session's children, so no State to ask).
function Test-PidAlive([int] $Id) {
    if ($IsLinux) {
        $stat = Get-Content -Raw "/proc/$Id/stat" -ErrorAction SilentlyContinue
        return [bool] $stat -and ($stat -replace '^.*\)\s+', '')[0] -ne 'Z'
    }
    $stat = "$(ps -o stat= -p $Id 2>$null)".Trim()
    return [bool] $stat -and -not $stat.StartsWith('Z')
}

try {
    Write-Host '##### Part 1: the Python multiprocessing tutorial this project comes from #####'

    # ---------------------------------------------------------------------------------------------
    Write-Original 'Import Multiprocessing Module/Library' 'The module gives the functions; ProcessKit is a PowerShell module.' 'import multiprocessing'
    $code = {
        Import-Module ProcessKit   # the demo imported the module it just built, above
    }
    Show-Code $code
    Assert-Demo ([bool] (Get-Command Start-ChildProcess -ErrorAction SilentlyContinue)) 'the cmdlets are there'

    # ---------------------------------------------------------------------------------------------
    Write-Original 'Spawn Multiple Processes' 'Three processes, each started once, each printing its message.' @'
def foo(message):
    print(message)
if __name__ == '__main__':
    p = multiprocessing.Process(target=foo, args=("This is a spawn",))
    p.start()
    p = multiprocessing.Process(target=foo, args=("This is a spawn 2",))
    p.start()
    p = multiprocessing.Process(target=foo, args=("This is a spawn 3",))
    p.start()
'@
    $code = {
        $foo = { param($message) $message }
        $spawns = foreach ($message in 'This is a spawn', 'This is a spawn 2', 'This is a spawn 3') {
            Start-ChildProcess $foo -ArgumentList $message
        }
        ($printed = $spawns | Receive-ChildProcess -Wait)
    }
    Show-Code $code; . $code | Out-Host
    Assert-Demo ((@($printed | Sort-Object) -join '|') -eq 'This is a spawn|This is a spawn 2|This is a spawn 3') 'each of the three processes printed its message'

    # ---------------------------------------------------------------------------------------------
    Write-Original 'Set Name For Created Processes' 'name= names the process; inside it, current_process().name is $env:PROCESSKIT_NAME.' @'
def daemon(message):
    print(multiprocessing.current_process().name)
    print(message)
if __name__ == '__main__':
    p = multiprocessing.Process(name="This process name is daemon", target=daemon, args=("This is a spawn",))
    p.start()
'@
    $code = {
        $daemon = { param($message) $env:PROCESSKIT_NAME; $message }
        $p = Start-ChildProcess $daemon -ArgumentList 'This is a spawn' -Name 'This process name is daemon'
        ($printed = Receive-ChildProcess $p -Wait)
    }
    Show-Code $code; . $code | Out-Host
    Assert-Demo (($printed -join '|') -eq 'This process name is daemon|This is a spawn') 'the child printed its name, then its message'

    # ---------------------------------------------------------------------------------------------
    Write-Original 'Create Daemon Processes' 'p.daemon = True is -Daemon: the child ends when the main process (the session) ends.' @'
def daemon(message):
    print(message)
if __name__ == '__main__':
    p = multiprocessing.Process(target=daemon, args=("Waiting For Tasks",))
    p.daemon = True
    p.start()
    print("This will not printed bec")
'@
    $code = {
        $p = Start-ChildProcess { param($message) $message } -ArgumentList 'Waiting For Tasks' -Daemon
        'This will not printed bec'
        "daemon: $($p.Daemon)"
    }
    Show-Code $code; . $code | Out-Host
    Assert-Demo $p.Daemon 'the child is a daemon: it ends with this session, however the session ends (part 2, section 3)'

    # ---------------------------------------------------------------------------------------------
    Write-Original 'Wait For Process To Complete' 'join() is Wait-ChildProcess: the main process waits for the child to exit.' @'
    p = multiprocessing.Process(target=daemon, args=("Waiting For Tasks",))
    p.daemon = True
    p.start()
    p.join()
    print("This will not printed bec")
'@
    $code = {
        $p = Start-ChildProcess { param($message) $message } -ArgumentList 'Waiting For Tasks' -Daemon
        Wait-ChildProcess $p
        Receive-ChildProcess $p
        'This will not printed bec'
    }
    Show-Code $code; . $code | Out-Host
    Assert-Demo (-not (Test-ChildProcess $p) -and $p.ExitCode -eq 0) 'the wait returned once the child had exited, with exit code 0'

    # ---------------------------------------------------------------------------------------------
    Write-Original 'Terminate Process' 'terminate() is Stop-ChildProcess (SIGTERM); it returns once the child has exited.' @'
    p = multiprocessing.Process(target=daemon, args=("Waiting For Tasks",))
    p.daemon = True
    p.start()
    p.terminate()
    print("Process Is Terminated")
'@
    $code = {
        $p = Start-ChildProcess { param($message) $message } -ArgumentList 'Waiting For Tasks' -Daemon
        Stop-ChildProcess $p
        'Process Is Terminated'
        "exit code: $($p.ExitCode)"
    }
    Show-Code $code; . $code | Out-Host
    Assert-Demo ($p.ExitCode -eq -15) 'the terminated child has exit code -15 (SIGTERM)'

    # ---------------------------------------------------------------------------------------------
    Write-Original 'Check If Given Child Process Is Running or Alive' 'is_alive() is Test-ChildProcess.' @'
    p = multiprocessing.Process(target=daemon, args=("Waiting For Tasks",))
    p.daemon = True
    p.start()
    print(p.is_alive())
'@
    $code = {
        $p = Start-ChildProcess { param($message) $message } -ArgumentList 'Waiting For Tasks' -Daemon
        ($alive = Test-ChildProcess $p)
    }
    Show-Code $code; . $code | Out-Host
    Assert-Demo ($alive -eq $true) 'a child that was just started is alive: True'

    # ---------------------------------------------------------------------------------------------
    Write-Original 'Print Process Exit Status' 'exitcode is Get-ChildExitCode: 0 success, above 0 an error, below 0 the signal that ended it.' @'
    p1 = multiprocessing.Process(target=foo, args=("Waiting For Tasks",))
    p2 = multiprocessing.Process(target=foo, args=("Waiting For Tasks",))
    p1.start()
    p2.start()
    p2.terminate()
    time.sleep(3)
    print(p1.exitcode)
    print(p2.exitcode)
'@
    $code = {
        $p1 = Start-ChildProcess $foo -ArgumentList 'Waiting For Tasks'
        $p2 = Start-ChildProcess $foo -ArgumentList 'Waiting For Tasks'
        Stop-ChildProcess $p2
        Wait-ChildProcess $p1                  # instead of time.sleep(3): returns as soon as p1 has exited
        Get-ChildExitCode $p1
        Get-ChildExitCode $p2
    }
    Show-Code $code; . $code | Out-Host
    Assert-Demo ((Get-ChildExitCode $p1) -eq 0 -and (Get-ChildExitCode $p2) -eq -15) 'the finished child exited with 0, the terminated one with -15'

    # ---------------------------------------------------------------------------------------------
    Write-Original 'Log Multiprocess Operations' 'log_to_stderr(logging.DEBUG) is Enable-ChildProcessLog -Level Debug: the records go to standard error.' @'
    multiprocessing.log_to_stderr(logging.DEBUG)
    p1 = multiprocessing.Process(target=foo, args=("Waiting For Tasks",))
    p2 = multiprocessing.Process(target=foo, args=("Waiting For Tasks",))
    p1.start()
    p2.start()
    p2.terminate()
    time.sleep(3)
    print(p1.exitcode)
    print(p2.exitcode)
'@
    $code = {
        Enable-ChildProcessLog -Level Debug
        $p1 = Start-ChildProcess $foo -ArgumentList 'Waiting For Tasks'
        $p2 = Start-ChildProcess $foo -ArgumentList 'Waiting For Tasks'
        Stop-ChildProcess $p2
        Wait-ChildProcess $p1
        Get-ChildExitCode $p1
        Get-ChildExitCode $p2
        Disable-ChildProcessLog
    }
    Show-Code $code; . $code | Out-Host
    $records = @(Get-ChildProcessLog -ProcessName MainProcess | Where-Object { $_.Message -match "\b($($p1.Name)|$($p2.Name))\b" })
    Assert-Demo (@($records | Where-Object Level -eq Debug).Count -gt 0) 'DEBUG records were written (the spawn details)'
    Assert-Demo (@($records | Where-Object Message -match "sending SIGTERM to $($p2.Name)").Count -eq 1) 'the terminate() of p2 is logged'
    Assert-Demo (@(Get-ChildProcessLog -ProcessName $p1.Name | Where-Object Message -match 'process exiting with exitcode 0').Count -eq 1) 'p1 logged its own exit, under its own name'

    # ---------------------------------------------------------------------------------------------
    Write-Original 'Multiprocessing Features: Performance' 'A task divided among processes completes in less time: Pool.map is Invoke-ChildProcessPool, whose workers start once and take item after item.' @'
def work(n):
    time.sleep(0.5)
    return n * n
if __name__ == '__main__':
    with multiprocessing.Pool(4) as pool:
        pool.map(work, range(4))   # (not in the tutorial: the workers start, as the PowerShell below shows)
        print(pool.map(work, range(8)))
'@
    $code = {
        $pool = New-ChildProcessPool -ThrottleLimit 4           # with Pool(4) as pool:
        $null = 1..4 | Invoke-ChildProcessPool { Start-Sleep -Milliseconds 500 } -Pool $pool -BatchSize 1   # the 4 workers start, once
        $timer = [System.Diagnostics.Stopwatch]::StartNew()
        $squares = 0..7 | Invoke-ChildProcessPool { Start-Sleep -Milliseconds 500; $_ * $_ } -Pool $pool -BatchSize 1
        "$squares"
        '8 items of 0.5 s each took {0:N1} s on the pool''s {1} workers (one after another: 4.0 s)' -f $timer.Elapsed.TotalSeconds, $pool.Workers.Count
        Remove-ChildProcessPool $pool                           # pool.close(); pool.join()
    }
    Show-Code $code; . $code | Out-Host
    Assert-Demo (($squares -join ',') -eq '0,1,4,9,16,25,36,49') 'the results come back in input order, as pool.map returns them'
    Get-ChildProcess | Stop-ChildProcess -Force
    Get-ChildProcess | Remove-ChildProcess

    Write-Host ''
    Write-Host '##### Part 2: a second tutorial (spawning, naming, daemons, waiting, terminating, exit status, listing, logging) #####'

    # ---------------------------------------------------------------------------------------------
    Write-Section '1. Spawning processes' 'Process(target=worker, args=(i,)).start(); p.join()' @'
A scriptblock child runs in a new pwsh process; -ArgumentList feeds its param() block.
Start three, wait for all of them (join), then read what each one printed.
'@
    $code = {
        $workers = foreach ($i in 0..2) {
            Start-ChildProcess { param($num) "Worker: $num" } -ArgumentList $i
        }
        $workers | Wait-ChildProcess
        $said = foreach ($w in $workers) { Receive-ChildProcess $w }
        $said
    }
    Show-Code $code; . $code | Out-Host
    Assert-Demo (($said -join '|') -eq 'Worker: 0|Worker: 1|Worker: 2') 'each worker printed its own number'
    Assert-Demo (@($workers | Where-Object ExitCode -eq 0).Count -eq 3) 'all three exited with code 0'

    # ---------------------------------------------------------------------------------------------
    Write-Section '2. Naming processes' "Process(name='my_service', ...); current_process().name" @'
-Name names a child; without it the name is Process-N, counted per session as Python does.
Inside the child its name is $env:PROCESSKIT_NAME.
'@
    $code = {
        $worker = { "$env:PROCESSKIT_NAME Starting"; "$env:PROCESSKIT_NAME Exiting" }
        $service = Start-ChildProcess $worker -Name my_service
        $unnamed = Start-ChildProcess $worker
        ($serviceSaid = Receive-ChildProcess $service -Wait)
        ($unnamedSaid = Receive-ChildProcess $unnamed -Wait)
    }
    Show-Code $code; . $code | Out-Host
    Assert-Demo (($serviceSaid -join '|') -eq 'my_service Starting|my_service Exiting') 'the named child printed its name'
    Assert-Demo ($unnamed.Name -like 'Process-*' -and $unnamedSaid -contains "$($unnamed.Name) Starting") `
        "the unnamed child is called Process-N ($($unnamed.Name)) and knows it"

    # ---------------------------------------------------------------------------------------------
    Write-Section '3. Daemon processes' 'd = Process(name="daemon", ...); d.daemon = True' @'
A -Daemon child ends with the session that started it; a non-daemon child is independent.
While this session lives, the daemon keeps running after the non-daemon has finished.
'@
    $code = {
        $d = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'echo "Starting: $PROCESSKIT_NAME"; sleep 30; echo "Exiting: $PROCESSKIT_NAME"' -Name daemon -Daemon
        $n = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'echo "Starting: $PROCESSKIT_NAME"; echo "Exiting: $PROCESSKIT_NAME"' -Name non-daemon
        Receive-ChildProcess $n -Wait
        "daemon is alive: $(Test-ChildProcess $d)"
    }
    Show-Code $code; . $code | Out-Host
    Assert-Demo ((Test-ChildProcess $d) -and -not (Test-ChildProcess $n)) 'the daemon runs on after the non-daemon finished'
    Assert-Demo ($d.Daemon -and -not $n.Daemon) 'the Daemon property tells them apart'

    Write-Host ''
    Write-Host 'When the session ends, its daemons end too. A second runspace is a session of its own:'
    Write-Host 'start a daemon there, close the runspace, and the daemon is gone.'
    $code = {
        $runspace = [runspacefactory]::CreateRunspace(); $runspace.Open()
        $shell = [powershell]::Create($runspace)
        $null = $shell.AddScript({ param($path) Import-Module $path; (Start-ChildProcess -FilePath sleep -ArgumentList 30 -Daemon).Id }).AddArgument($modulePath)
        $daemonPid = $shell.Invoke()[0]
        "daemon $daemonPid alive while its session is open: $(Test-PidAlive $daemonPid)"
        $shell.Dispose(); $runspace.Dispose()          # the session ends
        $deadline = (Get-Date).AddSeconds(3)
        while ((Test-PidAlive $daemonPid) -and (Get-Date) -lt $deadline) { Start-Sleep -Milliseconds 50 }
        "daemon $daemonPid alive after its session closed: $(Test-PidAlive $daemonPid)"
    }
    Show-Code $code; . $code | Out-Host
    Assert-Demo ($daemonPid -gt 0 -and -not (Test-PidAlive $daemonPid)) 'closing the runspace ended its daemon'

    # ---------------------------------------------------------------------------------------------
    Write-Section '4. Waiting for processes' 'd.join(0.5); d.is_alive(); n.join()' @'
Wait-ChildProcess is join(): it waits until the child exits. With -Timeout it gives up after that many seconds
with a non-terminating ChildProcessWaitTimeout error, and leaves the child running.
'@
    $code = {
        $n = Start-ChildProcess -FilePath sh -ArgumentList '-c', 'sleep 1; echo "non-daemon done"' -Name non-daemon
        $timer = [System.Diagnostics.Stopwatch]::StartNew()
        Wait-ChildProcess $d -Timeout 0.5 -ErrorAction SilentlyContinue -ErrorVariable waitError
        'Wait-ChildProcess $d -Timeout 0.5 gave up after {0:N1} s: {1}' -f $timer.Elapsed.TotalSeconds, $waitError[0]
        "daemon is alive: $(Test-ChildProcess $d)"
        Wait-ChildProcess $n
        "non-daemon is alive after the wait: $(Test-ChildProcess $n); it said: $(Receive-ChildProcess $n)"
    }
    Show-Code $code; . $code | Out-Host
    Assert-Demo ($waitError.Count -eq 1 -and $waitError[0].FullyQualifiedErrorId -like 'ChildProcessWaitTimeout*') 'the timed wait reported ChildProcessWaitTimeout'
    Assert-Demo ($timer.Elapsed.TotalSeconds -ge 0.4 -and (Test-ChildProcess $d)) 'it waited about 0.5 s and left the daemon running'
    Assert-Demo (-not (Test-ChildProcess $n) -and (Get-ChildExitCode $n) -eq 0) 'the plain wait returned once the child had exited'

    # ---------------------------------------------------------------------------------------------
    Write-Section '5. Terminating processes' 'p.terminate(); p.join(); p.is_alive()' @'
Stop-ChildProcess is terminate(): SIGTERM, then SIGKILL if the child is still there after the grace period.
Unlike terminate() it returns once the child has exited, so no join() is needed before checking.
'@
    $code = {
        $slow = Start-ChildProcess -FilePath sleep -ArgumentList 30 -Name slow_worker
        "DURING:     alive = $(Test-ChildProcess $slow)"
        Stop-ChildProcess $slow
        "TERMINATED: alive = $(Test-ChildProcess $slow), exit code = $(Get-ChildExitCode $slow)"
    }
    Show-Code $code; . $code | Out-Host
    Assert-Demo (-not (Test-ChildProcess $slow)) 'the child is not alive after Stop-ChildProcess'
    Assert-Demo ((Get-ChildExitCode $slow) -eq -15) 'its exit code is -15 (ended by SIGTERM)'

    # ---------------------------------------------------------------------------------------------
    Write-Section '6. Process exit status' 'p.exitcode' @'
Get-ChildExitCode is exitcode: $null while running, the exit status once it exited, -N when signal N ended it.
An error escaping a scriptblock gives 1, like an uncaught exception. Stop-ChildProcess -Force is kill(): SIGKILL, -9.
'@
    $code = {
        $children = @(
            Start-ChildProcess -FilePath sh -ArgumentList '-c', 'exit 0' -Name exit_ok
            Start-ChildProcess -FilePath sh -ArgumentList '-c', 'exit 1' -Name exit_error
            Start-ChildProcess { throw 'boom' } -Name raises
        )
        $children | Wait-ChildProcess
        Stop-ChildProcess $d -Force                      # kill() the daemon from section 3
        foreach ($c in $children + $slow + $d) { '{0,-12} exit code {1,4}  {2}' -f $c.Name, (Get-ChildExitCode $c), $c.State }
    }
    Show-Code $code; . $code | Out-Host
    $expected = [ordered]@{ exit_ok = 0, 'Completed'; exit_error = 1, 'Failed'; raises = 1, 'Failed'; slow_worker = -15, 'Stopped'; daemon = -9, 'Stopped' }
    foreach ($c in $children + $slow + $d) {
        $wantCode, $wantState = $expected[$c.Name]
        Assert-Demo ((Get-ChildExitCode $c) -eq $wantCode -and "$($c.State)" -eq $wantState) "$($c.Name): exit code $wantCode, $wantState"
    }

    # ---------------------------------------------------------------------------------------------
    Write-Section '7. Listing and closing' 'active_children(); p.close()' @'
Get-ChildProcess lists the session's children, running and exited, until Remove-ChildProcess lets them go.
'@
    $code = {
        Get-ChildProcess | Format-Table Name, Id, Daemon, State, ExitCode | Out-String -Stream | Where-Object { $_ }
        Get-ChildProcess | Remove-ChildProcess
        "children still tracked: $(@(Get-ChildProcess).Count)"
    }
    Show-Code $code; . $code | Out-Host
    Assert-Demo (@(Get-ChildProcess).Count -eq 0) 'Remove-ChildProcess released every exited child'

    # ---------------------------------------------------------------------------------------------
    Write-Section '8. Logging' 'multiprocessing.log_to_stderr(logging.INFO)' @'
Enable-ChildProcessLog is log_to_stderr(): lifecycle records in Python's format, [LEVEL/ProcessName] message.
Here they go to a file and are read back with Get-ChildProcessLog; a scriptblock child logs its own side.
'@
    $logFile = Join-Path ([IO.Path]::GetTempPath()) "processkit-demo-$PID.log"
    $code = {
        Enable-ChildProcessLog -Level Info -Path $logFile
        $w = Start-ChildProcess { 'doing some work' } -Name logged_worker
        $s = Start-ChildProcess -FilePath sleep -ArgumentList 30 -Name logged_sleeper
        Wait-ChildProcess $w
        Stop-ChildProcess $s
        Disable-ChildProcessLog
        Get-ChildProcessLog | Where-Object { $_.Message -match 'logged_' -or $_.ProcessName -eq 'logged_worker' } | ForEach-Object ToString
    }
    Show-Code $code; $logLines = @(. $code); $logLines | Out-Host
    Assert-Demo ($logLines -match '^\[INFO/\S+\] child process logged_worker started').Count 'the start of each child is logged'
    Assert-Demo ($logLines -match '^\[INFO/logged_worker\] child process calling scriptblock').Count 'the scriptblock child logged its own side under its name'
    Assert-Demo ($logLines -match 'sending SIGTERM to logged_sleeper').Count 'the signal sent by Stop-ChildProcess is logged'
    Assert-Demo ($logLines -match 'logged_sleeper \(pid \d+\) exited with exitcode -15').Count 'the exit code is logged'
    Assert-Demo ((Get-Content -LiteralPath $logFile | Measure-Object).Count -ge $logLines.Count) 'the same records were appended to the file'
    Remove-Item -LiteralPath $logFile -ErrorAction SilentlyContinue
} catch {
    Write-Host "The demo stopped with an error: $_"
    $unexpected.Add("error: $_")
} finally {
    # Leave nothing running: the demo's own children, and the second session's daemon if it survived.
    $leftover = @(Get-ChildProcess | Where-Object { $before -notcontains $_ })
    if ($leftover) {
        $leftover | Stop-ChildProcess -Force -ErrorAction Continue
        $leftover | Remove-ChildProcess -Force -ErrorAction Continue
    }
    if ($daemonPid -and (Test-PidAlive $daemonPid)) { Stop-Process -Id $daemonPid -Force -ErrorAction Continue }
    if ($runspace) { $runspace.Dispose() }
}

Write-Host ''
if ($unexpected.Count) {
    Write-Host "$($unexpected.Count) thing(s) did not come out as expected:"
    $unexpected | ForEach-Object { Write-Host "  - $_" }
    exit 1
}
Write-Host ('Everything came out as expected ({0:N1} s).' -f $clock.Elapsed.TotalSeconds)
exit 0
