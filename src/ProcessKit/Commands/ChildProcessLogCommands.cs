using System;
using System.IO;
using System.Management.Automation;

namespace ProcessKit.Commands
{
    /// <summary>Python's <c>log_to_stderr(level)</c>: lifecycle records as <c>[LEVEL/ProcessName] message</c> on the
    /// host process's stderr, or appended to -Path.</summary>
    [Cmdlet(VerbsLifecycle.Enable, "ChildProcessLog")]
    [OutputType(typeof(void))]
    public sealed class EnableChildProcessLogCommand : PSCmdlet
    {
        [Parameter(Position = 0)]
        public LogLevel Level { get; set; } = LogLevel.Info;

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Path { get; set; }

        protected override void EndProcessing()
        {
            string? full = null;
            if (Path != null)
            {
                full = GetUnresolvedProviderPathFromPSPath(Path);
                string? dir = System.IO.Path.GetDirectoryName(full);
                if (string.IsNullOrEmpty(dir) || !Directory.Exists(dir))
                {
                    ThrowTerminatingError(new ErrorRecord(new DirectoryNotFoundException($"Cannot log to '{full}': the folder '{dir}' does not exist."),
                        ErrorHelper.LogPath, ErrorCategory.ObjectNotFound, Path));
                }
            }
            try
            {
                ProcessLog.Enable(Level, full);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException)
            {
                // A directory, /proc, no permission: an error now, not records silently lost later.
                ThrowTerminatingError(new ErrorRecord(new IOException($"Cannot log to '{full}': {e.Message}", e),
                    ErrorHelper.LogPath, ErrorCategory.WriteError, Path));
            }
        }
    }

    [Cmdlet(VerbsLifecycle.Disable, "ChildProcessLog")]
    [OutputType(typeof(void))]
    public sealed class DisableChildProcessLogCommand : PSCmdlet
    {
        protected override void EndProcessing()
        {
            ProcessLog.Disable();
        }
    }

    /// <summary>Recent records as objects (time, level, process name, pid, message), newest last.</summary>
    [Cmdlet(VerbsCommon.Get, "ChildProcessLog")]
    [OutputType(typeof(LogRecord))]
    public sealed class GetChildProcessLogCommand : PSCmdlet
    {
        [Parameter]
        [ValidateRange(1, ProcessLog.RingSize)]
        public int Last { get; set; } = ProcessLog.RingSize;

        protected override void EndProcessing() => WriteObject(ProcessLog.Recent(Last), enumerateCollection: true);
    }
}
