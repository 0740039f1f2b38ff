# ProcessKit child bootstrap: a one-off scriptblock child, after ChildRecords.ps1 (docs/protocol.md). The payload
# (one CLIXML hashtable) is the whole of stdin.
# Everything a child does between its payload and the user's code, as one function that a warm host also runs on a
# dry payload before it says it is ready: the child's own run then finds every step compiled. $recordsPath stands in
# for fd 3 in that dry run.
function __pkPrepare([string]$text, [string]$recordsPath) {
    $script:__pkPayload = [System.Management.Automation.PSSerializer]::Deserialize($text)
    if ($__pkPayload.Protocol -ne $__pkProtocol.Version) {
        [Console]::Error.WriteLine("ProcessKit: protocol version $($__pkPayload.Protocol) from the session, $($__pkProtocol.Version) in the child")
        exit 2
    }
    __pkApplyStart $__pkPayload.Start
    if ($__pkPayload.Start) {
        # A warm host: the log level may have changed since it started, and native children start in the process's own
        # directory, which follows the location here as it would have been set at a cold start.
        $script:__pkLevel = $env:PROCESSKIT_LOG_LEVEL
        [System.Environment]::CurrentDirectory = $ExecutionContext.SessionState.Path.CurrentFileSystemLocation.ProviderPath
    }
    $script:__pkPlain = $__pkPayload.Mode -eq $__pkProtocol.Modes.Plain
    # Plain output (stdout to a file) with stderr captured: errors still travel whole, as E frames on the records channel.
    # A warm host opened its records channel before it was ready (it only ever becomes a child in records mode).
    if (-not $__pkWriter) {
        __pkOpenRecords $(if ($__pkPlain -and $__pkPayload.ErrorRecords) { $__pkProtocol.Modes.Records } else { $__pkPayload.Mode }) $recordsPath
    }
    $script:__pkErrorsToStderr = [bool]$__pkPayload.ErrorsToStderr
    $script:__PKUsing = $__pkPayload.Using
    $script:__pkArgs = @($__pkPayload.Args)
    $script:__pkBlock = [scriptblock]::Create($__pkPayload.Script)
}
# Runs the user's code; sets $__pkExitCode (1 when it threw). A user's `exit N` leaves from inside, as pwsh does.
function __pkInvoke {
    __pkLog 20 'child process calling scriptblock'
    try {
        if ($__pkPlain) {
            & $__pkRun 2>&1 | ForEach-Object {
                if ($_ -isnot [System.Management.Automation.ErrorRecord]) { $_ }
                elseif ($__pkWriter) { __pkFrame $__pkTag.Error $_ }
                else { [Console]::Error.WriteLine((__pkErrorText $_)) }
            } | Out-Default
        } else {
            & $__pkRun *>&1 | ForEach-Object -Process $__pkEmit
        }
    } catch {
        if ($__pkWriter -and -not $__pkErrorsToStderr) { __pkFrame $__pkTag.Error $_ } else { [Console]::Error.WriteLine((__pkErrorText $_)) }
        __pkLog 20 'process exiting with exitcode 1'
        $script:__pkExitCode = 1
        return
    }
    __pkLog 20 'process exiting with exitcode 0'
    $script:__pkExitCode = 0
}
$__pkRun = { if ($__pkPayload.HasInput) { $__pkPayload.Input | & $__pkBlock @__pkArgs } else { & $__pkBlock @__pkArgs } }
if ($env:PROCESSKIT_WARM_HOST) {
    # An idle warm host: a dry run of the path below, writing to nowhere, then say it is ready (the session drops this
    # line) and wait for the payload. Nothing of the dry run is left behind (variables, $Error, environment, name,
    # the Write-Progress relay) and nothing else is written before the payload arrives.
    __pkInitExit
    $__pkWarmText = [System.Management.Automation.PSSerializer]::Serialize(@{
        Protocol = $__pkProtocol.Version; Script = '1; "x"; 2.5; [pscustomobject]@{ a = 1 }; Write-Warning w; Write-Information i'
        Args = @(); Using = @{}; HasInput = $false; Input = @(); Mode = $__pkProtocol.Modes.Records; ErrorRecords = $false; ErrorsToStderr = $false
        Start = @{ Name = $env:PROCESSKIT_NAME; Environment = @{ PROCESSKIT_WARM_UP = 'x' }; Location = (Get-Location).ProviderPath }
    }, $__pkProtocol.Depth)
    __pkPrepare $__pkWarmText '/dev/null'
    __pkInvoke
    $null = __pkCanExitFast
    $__pkWriter.Dispose()
    $__pkWriter = $null
    $__pkFailed = $false
    $__pkPayload = $__pkBlock = $__PKUsing = $__pkArgs = $null
    Remove-Item -LiteralPath env:PROCESSKIT_WARM_UP, function:global:Write-Progress -ErrorAction Ignore
    Remove-Variable __pkWarmText
    # The records channel, for real: a warm host is only ever taken by a child in records mode.
    __pkOpenRecords $__pkProtocol.Modes.Records
    $Error.Clear()
    [Console]::Out.Write("processkit-warm-host-ready`n")
    [Console]::Out.Flush()
}
$__pkText = [System.IO.StreamReader]::new([Console]::OpenStandardInput(), [System.Text.UTF8Encoding]::new($false)).ReadToEnd()
# EOF without a payload: the session that kept this host is gone (however it ended). Leave quietly.
if (-not $__pkText) { exit 0 }
__pkPrepare $__pkText
Remove-Variable __pkText
__pkInvoke
__pkExit $__pkExitCode
