using System;

namespace ProcessKit.Windows
{
    /// <summary>Windows behind the same seam. The design (docs/design.md): a job object per child with
    /// JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE, the child created suspended, assigned, then resumed; graceful stop by
    /// CTRL_BREAK to its console process group, forced stop by TerminateJobObject; -15 / -9 reported as on Unix.
    /// Not implemented yet: every entry point says so instead of half-working.</summary>
    internal sealed class WindowsPlatform : ProcessPlatform
    {
        private const string NotYet = "ProcessKit does not support Windows yet: the job-object implementation is designed (docs/design.md) but not written.";

        internal override ChildProcess Start(string name, SpawnRequest request, ChildTable table) =>
            throw new PlatformNotSupportedException(NotYet);

        internal override void SignalGroup(ChildProcess child, ChildSignal signal) =>
            throw new PlatformNotSupportedException(NotYet);

        public override bool IsExecutable(string path) => System.IO.File.Exists(path);
    }
}
