# ProcessKit: the child's side of the records channel, shared by the one-off child (ChildBootstrap.ps1) and the pool
# worker (PoolWorker.ps1), which ScriptBlockLauncher puts after it. The protocol's values come in `$__pkProtocol = @{...}`
# (ProcessKit.Core's ChildProtocol, docs/protocol.md), in front of this text. Names start with __pk: the user's code
# shares this scope.
$__pkWriter = $null
$__pkPrefix = $__pkProtocol.Prefix
$__pkTag = $__pkProtocol.Tags
$__pkLevel = $env:PROCESSKIT_LOG_LEVEL
$__pkNewlines = [char[]]"`r`n"
$__pkErrorsToStderr = $false
# The assemblies of Microsoft.PowerShell.Utility and .Management, not the modules: their types (say
# [Microsoft.PowerShell.Commands.WebRequestMethod]) then resolve in every child, cold or warm, for ~10 ms, where importing
# the modules costs ~90 and ~25 ms; the modules are imported at their first cmdlet, as in pwsh -c. Without this a type
# resolves or not by chance: pwsh's start-up profile playback may or may not have loaded the assembly yet.
foreach ($__pkName in 'Microsoft.PowerShell.Commands.Utility', 'Microsoft.PowerShell.Commands.Management') {
    try { $null = [System.Reflection.Assembly]::Load($__pkName) } catch { $Error.Clear() }
}
# The start entry: what a host takes on before it runs anything (a pre-started host gets it in a T frame).
function __pkApplyStart($start) {
    if (-not $start) { return }
    if ($start.Environment) {
        foreach ($key in @($start.Environment.Keys)) {
            # What the Env: provider does, without a provider call per variable. $null removes: passed as
            # [NullString]::Value, since PowerShell turns a $null argument for a string parameter into ''.
            $value = $start.Environment[$key]
            [System.Environment]::SetEnvironmentVariable($key, $(if ($null -eq $value) { [NullString]::Value } else { $value }))
        }
        # What pwsh does with PATH as it starts, redone for the PATH this child now has: $PSHOME first, unless it is.
        if ($start.Environment.Contains('PATH')) {
            $prefix = $PSHOME + [System.IO.Path]::PathSeparator
            if (-not "$env:PATH".StartsWith($prefix, [System.StringComparison]::Ordinal)) { $env:PATH = $prefix + $env:PATH }
        }
    }
    if ($start.Name) { $env:PROCESSKIT_NAME = $start.Name }
    if ($start.Location) { Set-Location -LiteralPath $start.Location }
}
# $path stands in for the records descriptor in a warm host's dry run (/dev/null), which must not close fd 3.
function __pkOpenRecords([string]$mode, [string]$path) {
    if ($mode -eq $__pkProtocol.Modes.Records) {
        # Reopen the records pipe through /dev/fd: .NET opens with O_CLOEXEC, so the child's own children (native
        # programs, Start-Job) never inherit it and cannot hold it open after this process ends. Then close fd 3 itself.
        $handle = [System.IO.File]::OpenHandle($(if ($path) { $path } else { "/dev/fd/$($__pkProtocol.RecordsFd)" }), [System.IO.FileMode]::Open, [System.IO.FileAccess]::Write, [System.IO.FileShare]::ReadWrite)
        if (-not $path) { [Microsoft.Win32.SafeHandles.SafeFileHandle]::new([IntPtr]$__pkProtocol.RecordsFd, $true).Dispose() }
        $script:__pkWriter = [System.IO.StreamWriter]::new([System.IO.FileStream]::new($handle, [System.IO.FileAccess]::Write, 1), [System.Text.UTF8Encoding]::new($false))
    } elseif ($mode -eq $__pkProtocol.Modes.RecordsOnStdout) {
        $script:__pkWriter = [System.IO.StreamWriter]::new([Console]::OpenStandardOutput(), [System.Text.UTF8Encoding]::new($false))
    }
    if (-not $script:__pkWriter) { return }
    $script:__pkWriter.AutoFlush = $true
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
# One record of the user's code (all streams merged) as one frame. Strings, numbers and bools travel without CLIXML.
# Sets $__pkFailed when the record is an error. if/elseif, not switch: switch would enumerate an array sent as one
# object (,@(1,2)).
$__pkEmit = {
    if ($_ -is [string] -and $_.IndexOfAny($__pkNewlines) -lt 0) { $__pkWriter.WriteLine("$__pkPrefix$($__pkTag.String) $_"); return }
    if ($_ -is [int]) { $__pkWriter.WriteLine("$__pkPrefix$($__pkTag.Int) $_"); return }
    if ($_ -is [long]) { $__pkWriter.WriteLine("$__pkPrefix$($__pkTag.Long) $_"); return }
    if ($_ -is [double]) { $__pkWriter.WriteLine("$__pkPrefix$($__pkTag.Double) " + $_.ToString('R', [cultureinfo]::InvariantCulture)); return }
    if ($_ -is [bool]) { $__pkWriter.WriteLine("$__pkPrefix$($__pkTag.Bool) $_"); return }
    if ($_ -is [System.Management.Automation.ErrorRecord]) {
        $script:__pkFailed = $true
        if ($__pkErrorsToStderr) { [Console]::Error.WriteLine((__pkErrorText $_)); return }
    }
    $tag = if ($_ -is [System.Management.Automation.ErrorRecord]) { $__pkTag.Error }
        elseif ($_ -is [System.Management.Automation.WarningRecord]) { $__pkTag.Warning }
        elseif ($_ -is [System.Management.Automation.VerboseRecord]) { $__pkTag.Verbose }
        elseif ($_ -is [System.Management.Automation.DebugRecord]) { $__pkTag.Debug }
        elseif ($_ -is [System.Management.Automation.InformationRecord]) { $__pkTag.Information }
        else { $__pkTag.Output }
    __pkFrame $tag $_
}
