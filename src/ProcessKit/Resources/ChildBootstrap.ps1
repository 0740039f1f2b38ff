# ProcessKit child bootstrap: a one-off scriptblock child, after ChildRecords.ps1 (docs/protocol.md). The payload
# (one CLIXML hashtable) is the whole of stdin.
if ($env:PROCESSKIT_WARM_HOST) {
    # An idle warm host: warm up what every child uses (the deserializer, a merged pipeline), then say it is ready
    # (the session drops this line) and wait for the payload. Nothing else is written before it arrives.
    # A dry run of the path below, writing to nowhere, so that a child's own run finds it compiled; nothing of it is
    # left behind (variables, $Error, environment, name).
    $script:__pkWriter = [System.IO.StreamWriter]::new([System.IO.Stream]::Null)
    $__pkWarm = [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize(
        @{ Script = '1'; Args = @(); Using = @{}; Start = @{ Name = $env:PROCESSKIT_NAME; Environment = @{ PROCESSKIT_WARM_UP = 'x' }; Location = (Get-Location).ProviderPath } }, 3))
    __pkApplyStart $__pkWarm.Start
    Remove-Item -LiteralPath env:PROCESSKIT_WARM_UP
    $__pkBlock = [scriptblock]::Create('1; "x"; 2.5; [pscustomobject]@{ a = 1 }; Write-Warning w; Write-Information i')
    & { & $__pkBlock @() } *>&1 | ForEach-Object -Process $__pkEmit
    $script:__pkWriter = $null
    $script:__pkFailed = $false
    Remove-Variable __pkWarm, __pkBlock
    $Error.Clear()
    [Console]::Out.Write("processkit-warm-host-ready`n")
    [Console]::Out.Flush()
}
$__pkText = [System.IO.StreamReader]::new([Console]::OpenStandardInput(), [System.Text.UTF8Encoding]::new($false)).ReadToEnd()
# EOF without a payload: the session that kept this host is gone (however it ended). Leave quietly.
if (-not $__pkText) { exit 0 }
$__pkPayload = [System.Management.Automation.PSSerializer]::Deserialize($__pkText)
Remove-Variable __pkText
if ($__pkPayload.Protocol -ne $__pkProtocol.Version) {
    [Console]::Error.WriteLine("ProcessKit: protocol version $($__pkPayload.Protocol) from the session, $($__pkProtocol.Version) in the child")
    exit 2
}
__pkApplyStart $__pkPayload.Start
if ($__pkPayload.Start) {
    # A warm host: the log level may have changed since it started, and native children start in the process's own
    # directory, which follows the location here as it would have been set at a cold start.
    $__pkLevel = $env:PROCESSKIT_LOG_LEVEL
    [System.Environment]::CurrentDirectory = (Get-Location -PSProvider FileSystem).ProviderPath
}
$__pkPlain = $__pkPayload.Mode -eq $__pkProtocol.Modes.Plain
# Plain output (stdout to a file) with stderr captured: errors still travel whole, as E frames on the records channel.
__pkOpenRecords $(if ($__pkPlain -and $__pkPayload.ErrorRecords) { $__pkProtocol.Modes.Records } else { $__pkPayload.Mode })
$__pkErrorsToStderr = [bool]$__pkPayload.ErrorsToStderr
$__PKUsing = $__pkPayload.Using
$__pkArgs = @($__pkPayload.Args)
$__pkBlock = [scriptblock]::Create($__pkPayload.Script)
$__pkRun = { if ($__pkPayload.HasInput) { $__pkPayload.Input | & $__pkBlock @__pkArgs } else { & $__pkBlock @__pkArgs } }
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
    exit 1
}
__pkLog 20 'process exiting with exitcode 0'
exit 0
