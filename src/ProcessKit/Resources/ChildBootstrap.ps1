# ProcessKit child bootstrap: a one-off scriptblock child, after ChildRecords.ps1 (docs/protocol.md). The payload
# (one CLIXML hashtable) is the whole of stdin.
$__pkPayload = [System.Management.Automation.PSSerializer]::Deserialize([System.IO.StreamReader]::new([Console]::OpenStandardInput(), [System.Text.UTF8Encoding]::new($false)).ReadToEnd())
if ($__pkPayload.Protocol -ne $__pkProtocol.Version) {
    [Console]::Error.WriteLine("ProcessKit: protocol version $($__pkPayload.Protocol) from the session, $($__pkProtocol.Version) in the child")
    exit 2
}
__pkApplyStart $__pkPayload.Start
__pkOpenRecords $__pkPayload.Mode
$__pkErrorsToStderr = [bool]$__pkPayload.ErrorsToStderr
$__PKUsing = $__pkPayload.Using
$__pkArgs = @($__pkPayload.Args)
$__pkBlock = [scriptblock]::Create($__pkPayload.Script)
$__pkRun = { if ($__pkPayload.HasInput) { $__pkPayload.Input | & $__pkBlock @__pkArgs } else { & $__pkBlock @__pkArgs } }
__pkLog 20 'child process calling scriptblock'
try {
    if (-not $__pkWriter) {
        & $__pkRun 2>&1 | ForEach-Object {
            if ($_ -is [System.Management.Automation.ErrorRecord]) { [Console]::Error.WriteLine((__pkErrorText $_)) } else { $_ }
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
