using System;
using System.Collections.Generic;
using System.Linq;
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

        /// <summary>At process exit, wait this long in line for daemons to take their SIGTERM (so their exit is
        /// logged); the lifeline (guardians on Unix, job objects on Windows) finishes the job once the process is
        /// gone, so `exit` is never held up by a daemon that ignores SIGTERM.</summary>
        private static readonly TimeSpan ProcessExitWait = TimeSpan.FromMilliseconds(300);

        private int _ending;

        protected ProcessPlatform()
        {
            AppDomain.CurrentDomain.ProcessExit += (_, _) => OnSessionProcessEnding("the session is exiting");
        }

        /// <summary>The platform of this machine, created on first use.</summary>
        public static ProcessPlatform Current => Instance.Value;

        /// <summary>The session's process is ending gracefully (exit, end of script, a terminating signal): end the
        /// daemons of every session in it, once, then let the platform hand over what must outlive it.</summary>
        protected void OnSessionProcessEnding(string why)
        {
            if (System.Threading.Interlocked.Exchange(ref _ending, 1) != 0)
            {
                return;
            }
            var daemons = ChildTable.AllRunningDaemons();
            ProcessLog.Info($"process shutting down: {why}; {daemons.Count} daemon(s) to end");
            ChildTable.EndDaemons(daemons, why, ProcessExitWait);
            HandOffOutput();
        }

        /// <summary>Called once the session's daemons were ended at process exit: gives the output of children that
        /// outlive the session a reader of its own. Nothing to do where the OS does not need it.</summary>
        protected virtual void HandOffOutput()
        {
        }

        /// <summary>The Debug record of a spawn, built only when Debug is on (it joins the whole argv).</summary>
        protected static void LogSpawning(string name, SpawnRequest request)
        {
            if (ProcessLog.IsEnabled(LogLevel.Debug))
            {
                var argv = new[] { request.FileName }.Concat(request.Arguments).Select(Abbreviate);
                ProcessLog.Debug($"spawning {name}: argv [{string.Join(", ", argv)}], working directory '{request.WorkingDirectory}', output {request.OutputMode}");
            }
        }

        /// <summary>The Info record of a start; written before the child's exit can be reported.</summary>
        protected static void LogStarted(ChildProcess child) =>
            ProcessLog.Info($"child process {child.Name} started (pid {child.Id}{(child.Daemon ? ", daemon" : "")}): {child.Command}");

        /// <summary>Long arguments (the encoded bootstrap of a scriptblock child) are cut for the debug log.</summary>
        private static string Abbreviate(string arg) => arg.Length <= 80 ? arg : arg.Substring(0, 40) + $"…({arg.Length} chars)";

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

        /// <summary>True when the platform honours <see cref="SpawnRequest.CaptureRecords"/> (a records pipe as the child's fd 3).</summary>
        public virtual bool SupportsRecordsChannel => false;

        /// <summary>True when <paramref name="path"/> names a file this process may execute.</summary>
        public abstract bool IsExecutable(string path);

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
