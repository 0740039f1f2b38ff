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

    /// <summary>The platform's handle of one spawned child. Opaque to the core, which only reads its id.</summary>
    internal interface IChildHandle
    {
        /// <summary>The OS process id; also its process group id (every child leads its own group).</summary>
        int Id { get; }
    }

    /// <summary>What a platform reports a watched child's output and exit to. <see cref="ChildProcess"/> implements it.</summary>
    internal interface IChildObserver
    {
        /// <summary>The child's name, for the platform's own debug records.</summary>
        string Name { get; }

        OutputBuffer StandardOutput { get; }

        OutputBuffer StandardError { get; }

        /// <summary>A scriptblock child's protocol frames (its fd 3, see <see cref="SpawnRequest.CaptureRecords"/>).</summary>
        OutputBuffer Records { get; }

        /// <summary>The child was reaped: its exit code (<c>-N</c> when signal N ended it), or null when another
        /// process reaped it first and the status is unknown. Called once, from the platform's thread, with no lock held.</summary>
        void OnExited(int? exitCode);

        /// <summary>The running child was stopped by signal <paramref name="signal"/> (job control) or, when
        /// <paramref name="suspended"/> is false, continued. Called from the platform's thread, or from a reader of
        /// <see cref="ChildProcess.IsSuspended"/> that saw it first (<see cref="IJobControlPeek"/>), with no lock held.</summary>
        void OnSuspended(bool suspended, int signal);
    }

    /// <summary>A platform that can tell, at once and without consuming the notification, whether a child is stopped by
    /// job control now (Unix: waitid with WNOWAIT); the event loop's sweep, which records and logs it, runs only once
    /// a second.</summary>
    internal interface IJobControlPeek
    {
        /// <summary>True: stopped (by <paramref name="signal"/>); false: continued; null: nothing new to tell (or the
        /// child is gone).</summary>
        bool? PeekSuspended(IChildHandle child, out int signal);
    }

    /// <summary>The OS work of the lifecycle and nothing else: spawn, watch, signal a group, list live groups, and the
    /// lifeline the core arms for daemons. The rules (when to signal, how long to wait, which children end with a
    /// session) live in <see cref="ChildSupervisor"/>, which is tested against a fake implementation of this.</summary>
    internal interface IProcessPlatform
    {
        /// <summary>Starts the child described by <paramref name="request"/>; it runs, but its exit is not reported and its
        /// output not read until <see cref="Watch"/>. Throws <see cref="ChildStartException"/> with the OS reason.</summary>
        IChildHandle Spawn(string name, SpawnRequest request);

        /// <summary>Ties a daemon to the session's process, so the OS ends its group when that process dies, however it
        /// dies. Called before <see cref="Watch"/>. Throws <see cref="ChildStartException"/> when it cannot.</summary>
        void ArmLifeline(IChildHandle child, string name, TimeSpan gracePeriod);

        /// <summary>Undoes a spawn that must not be tracked (its lifeline could not be armed): kills and reaps it.</summary>
        void Discard(IChildHandle child);

        /// <summary>From here on the child's output goes to <paramref name="observer"/>'s buffers and its exit is reported.</summary>
        void Watch(IChildHandle child, IChildObserver observer);

        /// <summary>The writable end of the child's stdin pipe, for a child started with
        /// <see cref="SpawnRequest.KeepStandardInputOpen"/>; the caller owns it (disposing it closes the pipe).</summary>
        System.IO.Stream TakeStandardInput(IChildHandle child);

        /// <summary>Signals the child's whole process group. False, and nothing sent, once the child has been reaped:
        /// a reaped pid may already belong to another process.</summary>
        bool Signal(IChildHandle child, ChildSignal signal);

        /// <summary>Of the given process groups, those that still have a live (not zombie) member. Used after a stopped
        /// child's leader exited, to find what it left behind in its group.</summary>
        ISet<int> LiveProcessGroups(IReadOnlyCollection<int> processGroups);

        /// <summary>SIGKILL to a process group whose leader has been reaped. Only called right after
        /// <see cref="LiveProcessGroups"/> saw a live member: while one lives, the kernel keeps the group id reserved.</summary>
        void KillGroup(int processGroup);

        /// <summary>The session's process is ending: give the output of children that outlive it a reader of its own,
        /// so their next write does not kill them. Returns once done (or after a bounded wait).</summary>
        void HandOffOutput();

        /// <summary>True when <paramref name="path"/> names a file this process may execute.</summary>
        bool IsExecutable(string path);

        /// <summary>True when the platform honours <see cref="SpawnRequest.CaptureRecords"/> (a records pipe as the child's fd 3).</summary>
        bool SupportsRecordsChannel { get; }
    }

    /// <summary>Creates the platform of this machine.</summary>
    internal static class Platforms
    {
        public static IProcessPlatform ForThisMachine()
        {
            if (RuntimeInformation.IsOSPlatform(OSPlatform.Windows))
            {
                return new Windows.WindowsPlatform();
            }
            return ForUnix();
        }

        [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
        private static IProcessPlatform ForUnix() => new Unix.UnixPlatform();

        internal static string SignalName(ChildSignal signal) => signal == ChildSignal.Kill ? "SIGKILL" : "SIGTERM";
    }
}
