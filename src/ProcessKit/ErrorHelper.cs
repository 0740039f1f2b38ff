using System;
using System.Management.Automation;

namespace ProcessKit
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

        /// <summary>The start failure as the core reported it: the exception keeps its OS error code
        /// (<see cref="ChildStartException.OsError"/>), and the message names it, so scripts can test either.</summary>
        public static ErrorRecord StartFailure(ChildStartException e, object? target) =>
            new ErrorRecord(e, StartFailed, ErrorCategory.InvalidOperation, target)
            {
                ErrorDetails = e.OsError == 0 ? null : new ErrorDetails($"{e.Message} (OS error {e.OsError}{(Errno.Name(e.OsError) is string name ? ", " + name : string.Empty)})"),
            };

        /// <summary>The category's target names the children still running ("a, b"), not the array type.</summary>
        public static ErrorRecord Timeout(string message, object target)
        {
            var record = new ErrorRecord(new TimeoutException(message), WaitTimeout, ErrorCategory.OperationTimeout, target);
            if (target is ChildProcess[] children)
            {
                record.CategoryInfo.TargetName = string.Join(", ", System.Linq.Enumerable.Select(children, c => c.Name));
            }
            return record;
        }

        public static ErrorRecord StillRunning(ChildProcess child) =>
            new ErrorRecord(new InvalidOperationException($"Child process {child.Name} (pid {child.Id}) is still running. Stop it first or use -Force."), Running, ErrorCategory.ResourceBusy, child);

        public static ErrorRecord WasRemoved(ChildProcess child) =>
            new ErrorRecord(new InvalidOperationException($"Child process {child.Name} (pid {child.Id}) was removed with Remove-ChildProcess; its output is gone."), Removed, ErrorCategory.InvalidOperation, child);
    }
}
