using System;
using System.IO;
using System.Linq;
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

    /// <summary>Recent records as objects (time, level, process name, pid, message), newest last; -Level keeps the
    /// records at that level or above (as a logger's level does), -ProcessName those of the matching processes.</summary>
    [Cmdlet(VerbsCommon.Get, "ChildProcessLog")]
    [OutputType(typeof(LogRecord))]
    public sealed class GetChildProcessLogCommand : PSCmdlet
    {
        /// <summary>Applied after the filters: the last N records that pass them.</summary>
        [Parameter]
        [ValidateRange(1, ProcessLog.RingSize)]
        public int Last { get; set; } = ProcessLog.RingSize;

        [Parameter]
        public LogLevel Level { get; set; } = LogLevel.Debug;

        [Parameter(Position = 0)]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        public string[]? ProcessName { get; set; }

        protected override void EndProcessing()
        {
            var patterns = ProcessName?.Select(n => WildcardPattern.Get(n, WildcardOptions.IgnoreCase)).ToList();
            var records = ProcessLog.Recent(ProcessLog.RingSize)
                .Where(r => r.Level >= Level)
                .Where(r => patterns is null || patterns.Any(p => p.IsMatch(r.ProcessName)))
                .ToList();
            WriteObject(records.Skip(System.Math.Max(0, records.Count - Last)), enumerateCollection: true);
        }
    }
}
