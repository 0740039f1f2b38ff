# ProcessKit child bootstrap: the child's half of the protocol in ProcessKit.Core's ChildProtocol (docs/protocol.md).
# ScriptBlockLauncher puts `$__pkProtocol = @{...}` (version, frame prefix, depth, records fd, log format) in front of
# this text, so no value of the protocol is repeated here. Names start with __pk: the user's code shares this scope.
$__pkPayload = [System.Management.Automation.PSSerializer]::Deserialize([System.IO.StreamReader]::new([Console]::OpenStandardInput(), [System.Text.UTF8Encoding]::new($false)).ReadToEnd())
if ($__pkPayload.Protocol -ne $__pkProtocol.Version) {
    [Console]::Error.WriteLine("ProcessKit: protocol version $($__pkPayload.Protocol) from the session, $($__pkProtocol.Version) in the child")
    exit 2
}
# The start entry: what a host takes on before it runs anything (a pre-started host gets it in a T frame).
if ($__pkPayload.Start) {
    $__pkStart = $__pkPayload.Start
    if ($__pkStart.Environment) {
        foreach ($__pkKey in @($__pkStart.Environment.Keys)) {
            # $null removes, as -Environment does
            $__pkValue = $__pkStart.Environment[$__pkKey]
            if ($null -eq $__pkValue) { Remove-Item -LiteralPath "env:$__pkKey" -ErrorAction Ignore }
            else { Set-Item -LiteralPath "env:$__pkKey" -Value $__pkValue }
        }
    }
    if ($__pkStart.Name) { $env:PROCESSKIT_NAME = $__pkStart.Name }
    if ($__pkStart.Location) { Set-Location -LiteralPath $__pkStart.Location }
    Remove-Variable __pkStart, __pkKey, __pkValue -ErrorAction Ignore
}
$__pkMode = $__pkPayload.Mode
$__pkWriter = $null
if ($__pkMode -eq $__pkProtocol.Modes.Records) {
    # Reopen the records pipe through /dev/fd: .NET opens with O_CLOEXEC, so the child's own children (native
    # programs, Start-Job) never inherit it and cannot hold it open after this process ends. Then close fd 3 itself.
    $__pkHandle = [System.IO.File]::OpenHandle("/dev/fd/$($__pkProtocol.RecordsFd)", [System.IO.FileMode]::Open, [System.IO.FileAccess]::Write, [System.IO.FileShare]::ReadWrite)
    [Microsoft.Win32.SafeHandles.SafeFileHandle]::new([IntPtr]$__pkProtocol.RecordsFd, $true).Dispose()
    $__pkWriter = [System.IO.StreamWriter]::new([System.IO.FileStream]::new($__pkHandle, [System.IO.FileAccess]::Write, 1), [System.Text.UTF8Encoding]::new($false))
    Remove-Variable __pkHandle
} elseif ($__pkMode -eq $__pkProtocol.Modes.RecordsOnStdout) {
    $__pkWriter = [System.IO.StreamWriter]::new([Console]::OpenStandardOutput(), [System.Text.UTF8Encoding]::new($false))
}
if ($__pkWriter) { $__pkWriter.AutoFlush = $true }
$__pkPrefix = $__pkProtocol.Prefix
$__pkTag = $__pkProtocol.Tags
$__pkLevel = $env:PROCESSKIT_LOG_LEVEL
function __pkFrame([char]$tag, $item) {
    $xml = [System.Management.Automation.PSSerializer]::Serialize($item, $__pkProtocol.Depth)
    $__pkWriter.WriteLine($__pkPrefix + $tag + ' ' + [Convert]::ToBase64String([System.Text.Encoding]::UTF8.GetBytes($xml)))
}
function __pkLog([int]$level, [string]$message) {
    if (-not $__pkLevel -or $level -lt [int]$__pkLevel) { return }
    if ($__pkWriter) { $__pkWriter.WriteLine("$__pkPrefix$($__pkTag.Log) $level $message"); return }
    $name = $__pkProtocol.LevelNames[$level]
    if (-not $name) { $name = $__pkProtocol.LevelNames[40] }
    [Console]::Error.WriteLine(($__pkProtocol.LogFormat -f $name, $env:PROCESSKIT_NAME, $message))
}
# An error as pwsh shows it at a prompt (ConciseView of a command typed there): one line per error, no position of
# this bootstrap.
function __pkErrorText($record) {
    $message = if ($record.ErrorDetails -and $record.ErrorDetails.Message) { $record.ErrorDetails.Message } else { $record.Exception.Message }
    $command = if ($record.InvocationInfo -and $record.InvocationInfo.MyCommand) { $record.InvocationInfo.MyCommand.Name } else { $null }
    if ($command) { "${command}: $message" } else { $message }
}
if ($__pkWriter) {
    # Progress goes to the host, which no redirection reaches: this proxy relays the child's Write-Progress records
    # as P frames (-ProgressAction and $ProgressPreference are honoured as by the cmdlet).
    function global:Write-Progress {
        [CmdletBinding()]
        param(
            [Parameter(Position = 0)] [string] $Activity,
            [Parameter(Position = 1)] [string] $Status,
            [Parameter(Position = 2)] [int] $Id = 0,
            [int] $PercentComplete = -1,
            [int] $SecondsRemaining = -1,
            [string] $CurrentOperation,
            [int] $ParentId = -1,
            [switch] $Completed,
            [int] $SourceId
        )
        if ($ProgressPreference -eq 'SilentlyContinue' -or $ProgressPreference -eq 'Ignore') { return }
        $record = [System.Management.Automation.ProgressRecord]::new($Id, $(if ($Activity) { $Activity } else { 'Processing' }), $(if ($Status) { $Status } else { 'Processing' }))
        $record.PercentComplete = [Math]::Min(100, $PercentComplete)
        $record.SecondsRemaining = $SecondsRemaining
        if ($CurrentOperation) { $record.CurrentOperation = $CurrentOperation }
        $record.ParentActivityId = $ParentId
        if ($Completed) { $record.RecordType = [System.Management.Automation.ProgressRecordType]::Completed }
        __pkFrame $__pkTag.Progress $record
    }
}
$__pkNewlines = [char[]]"`r`n"
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
        & $__pkRun *>&1 | ForEach-Object {
            if ($_ -is [string] -and $_.IndexOfAny($__pkNewlines) -lt 0) { $__pkWriter.WriteLine("$__pkPrefix$($__pkTag.String) $_"); return }
            if ($_ -is [int]) { $__pkWriter.WriteLine("$__pkPrefix$($__pkTag.Int) $_"); return }
            if ($_ -is [long]) { $__pkWriter.WriteLine("$__pkPrefix$($__pkTag.Long) $_"); return }
            if ($_ -is [double]) { $__pkWriter.WriteLine("$__pkPrefix$($__pkTag.Double) " + $_.ToString('R', [cultureinfo]::InvariantCulture)); return }
            if ($_ -is [bool]) { $__pkWriter.WriteLine("$__pkPrefix$($__pkTag.Bool) $_"); return }
            # if/elseif, not switch: switch would enumerate an array sent as one object (,@(1,2)).
            if ($__pkPayload.ErrorsToStderr -and $_ -is [System.Management.Automation.ErrorRecord]) { [Console]::Error.WriteLine((__pkErrorText $_)); return }
            $tag = if ($_ -is [System.Management.Automation.ErrorRecord]) { $__pkTag.Error }
                elseif ($_ -is [System.Management.Automation.WarningRecord]) { $__pkTag.Warning }
                elseif ($_ -is [System.Management.Automation.VerboseRecord]) { $__pkTag.Verbose }
                elseif ($_ -is [System.Management.Automation.DebugRecord]) { $__pkTag.Debug }
                elseif ($_ -is [System.Management.Automation.InformationRecord]) { $__pkTag.Information }
                else { $__pkTag.Output }
            __pkFrame $tag $_
        }
    }
} catch {
    if ($__pkWriter -and -not $__pkPayload.ErrorsToStderr) { __pkFrame $__pkTag.Error $_ } else { [Console]::Error.WriteLine((__pkErrorText $_)) }
    __pkLog 20 'process exiting with exitcode 1'
    exit 1
}
__pkLog 20 'process exiting with exitcode 0'
exit 0
