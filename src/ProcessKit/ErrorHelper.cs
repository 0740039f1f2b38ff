using System;
using System.Management.Automation;

namespace ProcessKit.Commands
{
    /// <summary>Every error ProcessKit writes, with its stable FullyQualifiedErrorId and category, built in one place.</summary>
    internal static class ErrorHelper
    {
        public const string NotFound = "ChildProcessNotFound";
        public const string StartFailed = "ChildProcessStartFailed";
        public const string WaitTimeout = "ChildProcessWaitTimeout";
        public const string Running = "ChildProcessRunning";
        public const string Removed = "ChildProcessRemoved";
        public const string StandardError = "ChildProcessStandardError";
        public const string LogPath = "ChildProcessLogPathInvalid";

        public static ErrorRecord ChildNotFound(string what, object target) =>
            new ErrorRecord(new ItemNotFoundException($"No child process of this session matches {what}."), NotFound, ErrorCategory.ObjectNotFound, target);

        public static ErrorRecord StartFailure(string message, object? target, Exception? inner = null) =>
            new ErrorRecord(new ChildStartException(message), StartFailed, ErrorCategory.InvalidOperation, target)
            {
                ErrorDetails = inner is null ? null : new ErrorDetails(message),
            };

        public static ErrorRecord Timeout(string message, object target) =>
            new ErrorRecord(new TimeoutException(message), WaitTimeout, ErrorCategory.OperationTimeout, target);

        public static ErrorRecord StillRunning(ChildProcess child) =>
            new ErrorRecord(new InvalidOperationException($"Child process {child.Name} (pid {child.Id}) is still running. Stop it first or use -Force."), Running, ErrorCategory.ResourceBusy, child);

        public static ErrorRecord WasRemoved(ChildProcess child) =>
            new ErrorRecord(new InvalidOperationException($"Child process {child.Name} (pid {child.Id}) was removed with Remove-ChildProcess; its output is gone."), Removed, ErrorCategory.InvalidOperation, child);
    }
}
