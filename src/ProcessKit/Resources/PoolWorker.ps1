# ProcessKit pool worker, after ChildRecords.ps1 (docs/protocol.md, "Pool workers"): a long-lived pwsh that runs many
# items. Requests come as frame lines on the requests pipe (fd 4, named by $env:PROCESSKIT_REQUESTS_FD; over ssh, where
# there is none, stdin), records and one R frame per item go out on the records channel (fd 3). stdin is /dev/null
# here, so an item that reads it (a native program, [Console]::In) reads end of file, never a frame.
#   T <clixml @{ Protocol; Start; Init; Using }>   once, first: take on the start entry, run the initialization script
#   Q <clixml @{ Script; Args; Using; Items = @(@{ Id; Xml }...) }>   run the job's scriptblock once per item (Xml: the
#                                              item's own CLIXML; Script/Args/Using only when the job changes)
#   X                                              finish and exit
# EOF on the requests pipe means the session is gone: the worker exits (its lifeline; the guardian also ends it).
$__pkRequestsFd = [Environment]::GetEnvironmentVariable($__pkProtocol.RequestsVariable)
if ($__pkRequestsFd) {
    # Reopened through /dev/fd (close-on-exec, so the items' own children never hold it), then fd 4 itself closed.
    $__pkHandle = [System.IO.File]::OpenHandle("/dev/fd/$__pkRequestsFd", [System.IO.FileMode]::Open, [System.IO.FileAccess]::Read, [System.IO.FileShare]::ReadWrite)
    [Microsoft.Win32.SafeHandles.SafeFileHandle]::new([IntPtr][int]$__pkRequestsFd, $true).Dispose()
    $__pkIn = [System.IO.StreamReader]::new([System.IO.FileStream]::new($__pkHandle, [System.IO.FileAccess]::Read, 1), [System.Text.UTF8Encoding]::new($false))
    [Environment]::SetEnvironmentVariable($__pkProtocol.RequestsVariable, $null)
    $ExecutionContext.SessionState.PSVariable.Remove('__pkHandle')   # not Remove-Variable: it would import Microsoft.PowerShell.Utility (70-100 ms)
} else {
    $__pkIn = [System.IO.StreamReader]::new([Console]::OpenStandardInput(), [System.Text.UTF8Encoding]::new($false))
}
function __pkRead {
    $line = $__pkIn.ReadLine()
    if ($null -eq $line -or -not $line.StartsWith($__pkPrefix) -or $line.Length -lt $__pkPrefix.Length + 1) { exit 0 }
    $tag = $line[$__pkPrefix.Length]
    $body = if ($line.Length -gt $__pkPrefix.Length + 2) { $line.Substring($__pkPrefix.Length + 2) } else { '' }
    $value = if ($body) { [System.Management.Automation.PSSerializer]::Deserialize([System.Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($body))) }
    [pscustomobject]@{ Tag = $tag; Value = $value }
}
function __pkDone([string]$id, [bool]$failed) {
    $__pkWriter.WriteLine("$__pkPrefix$($__pkTag.Response) $id $(if ($failed) { $__pkProtocol.ResponseFailed } else { $__pkProtocol.ResponseOk })")
    $__pkWriter.Flush()
}
__pkOpenRecords $__pkProtocol.Modes.Records
$__pkWriter.AutoFlush = $false # one flush per item (__pkDone), not per record
$__pkStartFrame = __pkRead
if ($__pkStartFrame.Tag -ne $__pkTag.Start -or $__pkStartFrame.Value.Protocol -ne $__pkProtocol.Version) {
    [Console]::Error.WriteLine("ProcessKit: the pool worker expected a start frame of protocol version $($__pkProtocol.Version)")
    exit 2
}
__pkApplyStart $__pkStartFrame.Value.Start
__pkLog 20 'pool worker starting'
$__pkFailed = $false
if ($__pkStartFrame.Value.Init) {
    $__PKUsing = $__pkStartFrame.Value.Using
    try {
        # Dot-sourced here, so the functions, variables and modules it brings are there for every item.
        . ([scriptblock]::Create($__pkStartFrame.Value.Init)) *>&1 | ForEach-Object -Process $__pkEmit
    } catch {
        __pkFrame $__pkTag.Error $_
        $__pkFailed = $true
    }
}
__pkDone 0 $__pkFailed
if ($__pkFailed) { exit 1 }
$ExecutionContext.SessionState.PSVariable.Remove('__pkStartFrame')
# The item is $_ and the first argument (Python's f(x, *args)); a terminating error (throw, -ErrorAction Stop) ends only
# this item, caught by the wrapper's try. That try would also make every statement-terminating error of the item (an
# unknown command, a .NET method that throws, 1/0) end it, where pwsh -c, Start-Job, ForEach-Object -Parallel and a
# scriptblock child write the error and go on with the next statement: the engine decides by its ExecutionContext's
# PropagateExceptionsToEnclosingStatementBlock, which a try sets (and restores after). The wrapper clears it for the
# item, so the item's own try and trap still work and the rest behaves as at top level; a nested pipeline would do the
# same for ≈0.5 ms per item, this costs ≈7 µs. Where a PowerShell has no such member, an item ends at its first such
# error, as before. The one-pass loop takes a break or continue outside any loop of the item's: it ends the item, as
# in ForEach-Object -Parallel, not the worker's own loop over the batch.
$__pkCtx = [System.Management.Automation.EngineIntrinsics].GetField('_context', [System.Reflection.BindingFlags]'Instance,NonPublic')?.GetValue($ExecutionContext)
$__pkPropagate = ${__pkCtx}?.GetType().GetProperty('PropagateExceptionsToEnclosingStatementBlock', [System.Reflection.BindingFlags]'Instance,NonPublic,Public')
if ($__pkPropagate.PropertyType -ne [bool] -or -not $__pkPropagate.CanWrite) { $__pkPropagate = $null }
$__pkWrap = { param($__pkItem) $_ = $__pkItem; try { if ($__pkPropagate) { $__pkPropagate.SetValue($__pkCtx, $false) }; do { & $__pkBlock $__pkItem @__pkArgs } while ($false) } catch { $_ } }
# Up to this many records an item's are framed by a loop of dot-sourced calls, above it through one pipeline (below).
$__pkFewRecords = 8
while ($true) {
    $__pkRequest = __pkRead
    if ($__pkRequest.Tag -eq $__pkTag.Exit) { break }
    if ($__pkRequest.Tag -ne $__pkTag.Request) { continue } # a frame of a later revision: ignored, by the protocol's rule
    $__pkJob = $__pkRequest.Value
    # Indexed, not .Script: an -InitializationScript runs dot-sourced, so its Set-StrictMode (and its
    # $ErrorActionPreference) hold for this loop too, and under strict mode a missing key read as a property throws.
    if ($__pkJob['Script']) {
        $__pkBlock = [scriptblock]::Create($__pkJob.Script)
        $__PKUsing = $__pkJob.Using
        $__pkArgs = @($__pkJob.Args)
    }
    foreach ($__pkEntry in $__pkJob.Items) {
        $__pkFailed = $false
        # All streams collected first, then framed: for an item's few records, a loop of dot-sourced calls is several
        # times cheaper than setting up a pipeline into ForEach-Object (≈30-50 µs); for many, the pipeline is (≈4 against
        # ≈16-75 µs a record). @() keeps an array output as one object; a throw becomes the last record (what came
        # before it is kept).
        $__pkOut = @(& $__pkWrap ([System.Management.Automation.PSSerializer]::Deserialize($__pkEntry.Xml)) *>&1)
        if ($__pkOut.Count -le $__pkFewRecords) {
            foreach ($__pkRecord in $__pkOut) {
                $_ = $__pkRecord
                . $__pkEmit
            }
        } else {
            $__pkOut | ForEach-Object -Process $__pkEmit
        }
        __pkDone $__pkEntry.Id $__pkFailed
    }
}
__pkLog 20 'pool worker exiting with exitcode 0'
$__pkWriter.Flush()
exit 0
