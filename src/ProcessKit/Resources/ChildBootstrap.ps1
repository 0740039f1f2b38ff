# ProcessKit child bootstrap: a one-off scriptblock child, after ChildRecords.ps1 (docs/protocol.md). The payload
# (one CLIXML hashtable) is the whole of stdin.
# Leaving fast. A pwsh that ends with `exit` spends 60-100 ms after the child's last record shutting down: the
# runspace, the multi-core JIT profile it rewrites, .NET's exit handlers. None of that is the child's work when
# nothing in this process needs it, so __pkExit then flushes what this process wrote and calls _exit(2) - through a
# P/Invoke emitted at run time, as no compiler is at hand here - and the exit code is the same. Anything that does
# need pwsh's own exit keeps it: an engine event subscriber, a job, a transcript (pwsh's exit writes its footer), a
# ProcessKit loaded in the child (its supervisor ends that child's own daemons), or a user's `exit N` (which never
# reaches __pkExit). Set up once by __pkInitExit (in a warm host, before it is ready); any failure there keeps the
# slow exit. The transcripts are read through reflection: TranscriptionData is internal, and PowerShell's adapter
# does not see the members of an internal type. This lives here, not in ChildRecords.ps1: measured, the same
# functions in the text the pool worker shares doubled its time per item (0.4 -> 0.8 ms).
$__pkExitNow = $null
$__pkTranscription = $null
$__pkTranscripts = $null
$__pkSystemTranscript = $null
function __pkInitExit {
    try {
        $builder = [System.Reflection.Emit.AssemblyBuilder]::DefineDynamicAssembly([System.Reflection.AssemblyName]::new('ProcessKitChildExit'), [System.Reflection.Emit.AssemblyBuilderAccess]::Run)
        $type = $builder.DefineDynamicModule('ProcessKitChildExit').DefineType('ProcessKitChildExit', [System.Reflection.TypeAttributes]'Public, Sealed, Abstract')
        foreach ($entry in @(@('_exit', [void], [type[]]@([int])), @('getpid', [int], [type[]]@()))) {
            $method = $type.DefinePInvokeMethod($entry[0], 'libc', [System.Reflection.MethodAttributes]'Public, Static, PinvokeImpl',
                [System.Reflection.CallingConventions]::Standard, $entry[1], $entry[2], [System.Runtime.InteropServices.CallingConvention]::Cdecl,
                [System.Runtime.InteropServices.CharSet]::Ansi)
            # As [DllImport] does: the native return value is the method's (not an HRESULT to translate).
            $method.SetImplementationFlags([System.Reflection.MethodImplAttributes]::PreserveSig)
        }
        $created = $type.CreateType()
        # A call through the same path as _exit's, that returns: libc is loaded and the call compiled before it counts.
        if ($created.GetMethod('getpid').Invoke($null, @()) -ne $PID) { return }
        $flags = [System.Reflection.BindingFlags]'Public, NonPublic, Instance'
        $script:__pkTranscription = [System.Management.Automation.Host.PSHostUserInterface].GetProperty('TranscriptionData', $flags)
        if (-not $__pkTranscription) { return }
        $script:__pkTranscripts = $__pkTranscription.PropertyType.GetProperty('Transcripts', $flags)
        $script:__pkSystemTranscript = $__pkTranscription.PropertyType.GetProperty('SystemTranscript', $flags)
        if (-not $__pkTranscripts -or -not $__pkSystemTranscript) { return }
        $null = __pkCanExitFast
        $script:__pkExitNow = $created.GetMethod('_exit')
    } catch {
        $script:__pkExitNow = $null   # not this platform or runtime: pwsh's own exit, as before
    }
}
function __pkCanExitFast {
    if ($ExecutionContext.Events.Subscribers.Count -gt 0) { return $false }
    if (@(Get-Job).Count -gt 0) { return $false }
    $data = $__pkTranscription.GetValue($Host.UI)
    if ($null -eq $data -or $__pkTranscripts.GetValue($data).Count -gt 0 -or $null -ne $__pkSystemTranscript.GetValue($data)) { return $false }
    -not ('ProcessKit.ChildProtocol' -as [type])
}
function __pkExit([int]$code) {
    if ($__pkExitNow -and (__pkCanExitFast)) {
        if ($__pkWriter) { $__pkWriter.Flush() }
        [Console]::Out.Flush()
        [Console]::Error.Flush()
        $null = $__pkExitNow.Invoke($null, @($code))
    }
    exit $code
}
# Everything a child does between its payload and the user's code, as one function that a warm host also runs on a
# dry payload before it says it is ready: the child's own run then finds every step compiled. $recordsPath stands in
# for fd 3 in that dry run.
function __pkPrepare([string]$text, [string]$recordsPath) {
    # EOF without a payload: the session that kept this host is gone (however it ended). Leave quietly.
    if (-not $text) { exit 0 }
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
# The user's code runs in a pipeline of its own, in this runspace and on this thread, as a job's code runs in Start-Job's
# runspace: a statement-terminating error (an unknown command, a .NET method that throws) is written and the script goes
# on, as in pwsh -c; what ends a script - `throw`, -ErrorAction Stop, `exit N` - ends only that pipeline and comes back
# here, as an exception or as the $LASTEXITCODE that `exit` sets. A try/catch around the user's code would instead turn
# every statement-terminating error into the end of the script. The marker tells a finished script from an `exit`; the
# one-pass loop takes a `break` or `continue` of the user's outside any loop of theirs (which ends the script, as in
# pwsh -c), so that it too reaches the marker and a native command's leftover $LASTEXITCODE is not taken for an exit.
$__pkUserPipeline = @'
do {
    if ($__pkPlain) {
        & $__pkRun 2>&1 | ForEach-Object {
            if ($_ -isnot [System.Management.Automation.ErrorRecord]) { $_ }
            elseif ($__pkWriter) { __pkFrame $__pkTag.Error $_ }
            else { [Console]::Error.WriteLine((__pkErrorText $_)) }
        } | Out-Default
    } else {
        & $__pkRun *>&1 | ForEach-Object -Process $__pkEmit
    }
} while ($false)
$global:__pkFinished = $true
'@
# Runs the user's code; sets $__pkExitCode: 1 when an error ended it, N for `exit N`, else 0.
function __pkInvoke {
    __pkLog 20 'child process calling scriptblock'
    $global:__pkFinished = $false
    $pipeline = [powershell]::Create([System.Management.Automation.RunspaceMode]::CurrentRunspace)
    try {
        $null = $pipeline.AddScript($__pkUserPipeline).Invoke()
    } catch {
        # Invoke wraps what ended the pipeline; the user's own record is inside, wrapped as a catch block would see it.
        $inner = $_.Exception.InnerException
        $record = if ($inner -is [System.Management.Automation.IContainsErrorRecord]) { [System.Management.Automation.ErrorRecord]::new($inner.ErrorRecord, $inner) } else { $_ }
        if ($__pkWriter -and -not $__pkErrorsToStderr) { __pkFrame $__pkTag.Error $record } else { [Console]::Error.WriteLine((__pkErrorText $record)) }
        __pkLog 20 'process exiting with exitcode 1'
        $script:__pkExitCode = 1
        return
    } finally {
        # Errors of the framing itself (the user's are merged into its output above), as pwsh would show them.
        foreach ($e in $pipeline.Streams.Error) { [Console]::Error.WriteLine((__pkErrorText $e)) }
        $pipeline.Dispose()
    }
    $code = 0
    if (-not $__pkFinished -and $global:LASTEXITCODE -is [int]) { $code = $global:LASTEXITCODE }
    __pkLog 20 "process exiting with exitcode $code"
    $script:__pkExitCode = $code
}
$__pkRun = { if ($__pkPayload.HasInput) { $__pkPayload.Input | & $__pkBlock @__pkArgs } else { & $__pkBlock @__pkArgs } }
if ($env:PROCESSKIT_WARM_HOST) {
    # An idle warm host: a dry run of the path below, writing to nowhere, then say it is ready (the session drops this
    # line) and wait for the payload. Nothing of the dry run is left behind (variables, $Error, environment, name,
    # the Write-Progress relay) and nothing else is written before the payload arrives.
    __pkInitExit
    # Loaded while the host is idle, so a warm child's first Write-Output or Set-Location does not import them (≈90 and
    # ≈25 ms); a cold child imports them at their first cmdlet, as pwsh -c does (README, "Warm starts").
    Import-Module Microsoft.PowerShell.Utility, Microsoft.PowerShell.Management -ErrorAction Ignore   # a host without them stays usable
    $__pkWarmText = [System.Management.Automation.PSSerializer]::Serialize(@{
        Protocol = $__pkProtocol.Version; Script = '1; "x"; 2.5; [pscustomobject]@{ a = 1 }; Write-Warning w; Write-Information i'
        Args = @(); Using = @{}; HasInput = $false; Input = @(); Mode = $__pkProtocol.Modes.Records; ErrorRecords = $false; ErrorsToStderr = $false
        Start = @{ Name = $env:PROCESSKIT_NAME; Environment = @{ PROCESSKIT_WARM_UP = 'x' }; Location = (Get-Location).ProviderPath }
    }, $__pkProtocol.Depth)
    __pkPrepare $__pkWarmText '/dev/null'
    __pkInvoke
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
# The payload goes straight to __pkPrepare, in no variable: removing one with Remove-Variable would import
# Microsoft.PowerShell.Utility (the first call of one of its cmdlets does), 70-100 ms of a cold child's start that its
# user's code may never need. A warm host imports it above, on purpose.
__pkPrepare ([System.IO.StreamReader]::new([Console]::OpenStandardInput(), [System.Text.UTF8Encoding]::new($false)).ReadToEnd())
__pkInvoke
__pkExit $__pkExitCode
