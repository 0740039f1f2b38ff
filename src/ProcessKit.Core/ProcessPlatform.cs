using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;

namespace ProcessKit
{
    /// <summary>The signals ProcessKit sends. On Windows they map to CTRL_BREAK / TerminateJobObject.</summary>
    public enum ChildSignal
    {
        /// <summary>SIGTERM: ask politely (Python's <c>terminate()</c>).</summary>
        Terminate = 15,
        /// <summary>SIGKILL: end at once (Python's <c>kill()</c>).</summary>
        Kill = 9,
    }

    /// <summary>The one seam between the lifecycle and the OS: spawning, signalling a child's group, and
    /// the lifeline that ends daemons when the session's process dies. <c>Unix/</c> and <c>Windows/</c> implement it.</summary>
    public abstract class ProcessPlatform
    {
        private static readonly Lazy<ProcessPlatform> Instance = new Lazy<ProcessPlatform>(Create);

        /// <summary>The platform of this machine, created on first use.</summary>
        public static ProcessPlatform Current => Instance.Value;

        /// <summary>Starts the child described by <paramref name="request"/>; throws <see cref="ChildStartException"/>.</summary>
        internal abstract ChildProcess Start(string name, SpawnRequest request, ChildTable table);

        /// <summary>Signals the child's whole process group. Called under the child's lock, only while it is unreaped.</summary>
        internal abstract void SignalGroup(ChildProcess child, ChildSignal signal);

        /// <summary>Of the given process groups, those that still have a live (not zombie) member. Used after a
        /// stopped child's leader exited, to find what it left behind in its group.</summary>
        internal virtual ISet<int> LiveProcessGroups(IReadOnlyCollection<int> pgids) => new HashSet<int>();

        /// <summary>SIGKILL to a process group whose leader has already been reaped. Only called right after
        /// <see cref="LiveProcessGroups"/> saw a live member: while one lives, the kernel keeps the group id reserved.</summary>
        internal virtual void KillOrphanedGroup(int pgid)
        {
        }

        /// <summary>True when <paramref name="path"/> names a file this process may execute.</summary>
        public abstract bool IsExecutable(string path);

        /// <summary>Where the lifeline guardian writes its own records (null: nowhere).</summary>
        public virtual void SetLogPath(string? path)
        {
        }

        internal static string SignalName(ChildSignal signal) => signal == ChildSignal.Kill ? "SIGKILL" : "SIGTERM";

        private static ProcessPlatform Create()
        {
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
            {
                return new Windows.WindowsPlatform();
            }
            return CreateUnix();
        }

        [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
        private static ProcessPlatform CreateUnix()
        {
            return new Unix.UnixPlatform();
        }
    }
}
