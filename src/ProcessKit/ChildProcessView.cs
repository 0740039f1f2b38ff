using System;
using System.Management.Automation;

namespace ProcessKit
{
    /// <summary>Properties a person reads in the default views (ProcessKit.Types.ps1xml adds them to
    /// ProcessKit.ChildProcess as CodeProperties), computed here from the model rather than stored in it.</summary>
    public static class ChildProcessView
    {
        /// <summary>As a job's HasMoreData: output or records that Receive-ChildProcess has not handed over yet (with
        /// -Keep it stays true). Spilled bytes count; a partial line being written counts where a read would take it.</summary>
        public static bool HasMoreData(PSObject instance) =>
            instance?.BaseObject is ChildProcess child && !child.Removed &&
            (Unread(child.Records) || Unread(child.StandardOutput) || Unread(child.StandardError));

        /// <summary>How long the child ran (to its exit), or has run so far.</summary>
        public static TimeSpan? Duration(PSObject instance) =>
            instance?.BaseObject is ChildProcess child ? (child.ExitTime ?? DateTime.Now) - child.StartTime : null;

        private static bool Unread(OutputBuffer buffer) => buffer.MemoryBytes > 0 || buffer.SpilledBytes > 0 || buffer.HasPartialLine;
    }
}
