using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace ProcessKit
{
    /// <summary>One child process and its lifecycle, as Python's <c>multiprocessing.Process</c>.
    /// Its exit is observed by the platform's supervisor; every cmdlet reads the same object.</summary>
    public sealed class ChildProcess
    {
        /// <summary>Stop-ChildProcess waits this long after SIGTERM before SIGKILL (SPEC: 5 s).</summary>
        public static readonly TimeSpan DefaultStopGracePeriod = TimeSpan.FromSeconds(5);

        /// <summary>Session end: SIGTERM → this → SIGKILL. One second leaves room inside SPEC's
        /// "nothing of a daemon is left two seconds after its session is gone".</summary>
        public static readonly TimeSpan DefaultDaemonGracePeriod = TimeSpan.FromSeconds(1);

        /// <summary>How long to wait for a SIGKILLed child to be reaped before giving up (a process in
        /// uninterruptible sleep can take a moment; it must not hang the caller forever).</summary>
        internal static readonly TimeSpan KillReapTimeout = TimeSpan.FromSeconds(30);

        private readonly TaskCompletionSource<bool> _exited =
            new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);

        private int? _exitCode;
        private DateTime? _exitTime;
        private ChildState _state = ChildState.Running;
        private volatile bool _stopRequested;

        internal ChildProcess(string name, int id, SpawnRequest request, ChildTable table)
        {
            Name = name;
            Id = id;
            Daemon = request.Daemon;
            Kind = request.Kind;
            Command = request.Command ?? request.FileName;
            OutputMode = request.OutputMode;
            DaemonGracePeriod = request.DaemonGracePeriod;
            StartTime = DateTime.Now;
            Table = table;
            HasRecordsChannel = request.CaptureRecords && ProcessPlatform.Current.SupportsRecordsChannel;
            if (Kind == ChildKind.ScriptBlock)
            {
                // Protocol frames (records and the child's own log records) arrive on the records pipe; without one
                // (a platform that has none) they are mixed into stdout, as before.
                OutputBuffer frames = HasRecordsChannel ? Records : StandardOutput;
                frames.LineFilter = line => ChildProtocol.TryRelayLog(line, Name, Id);
                frames.KeepLongLinesWhole = true;
            }
        }

        public string Name { get; }

        /// <summary>The OS process id (also its process group id: every child leads its own group).</summary>
        public int Id { get; }

        public bool Daemon { get; }

        public ChildKind Kind { get; }

        public string Command { get; }

        public OutputMode OutputMode { get; }

        public DateTime StartTime { get; }

        public TimeSpan DaemonGracePeriod { get; }

        public ChildState State
        {
            get { lock (Sync) { return _state; } }
        }

        /// <summary>Null while running; the exit status; <c>-N</c> when signal N ended it.</summary>
        public int? ExitCode
        {
            get { lock (Sync) { return _exitCode; } }
        }

        public DateTime? ExitTime
        {
            get { lock (Sync) { return _exitTime; } }
        }

        public bool IsAlive => State == ChildState.Running;

        /// <summary>Captured stdout (or object frames of a scriptblock child).</summary>
        internal OutputBuffer StandardOutput { get; } = new OutputBuffer();

        internal OutputBuffer StandardError { get; } = new OutputBuffer();

        /// <summary>A scriptblock child's protocol frames (its fd 3), when <see cref="HasRecordsChannel"/>; its stdout is
        /// then plain text, which no write of the child's own code can turn into a corrupt record.</summary>
        internal OutputBuffer Records { get; } = new OutputBuffer();

        /// <summary>True when the child's records arrive in <see cref="Records"/>, not framed in stdout.</summary>
        internal bool HasRecordsChannel { get; }

        /// <summary>Completes when the child has been reaped. Internal, as the buffers: a public Task&lt;bool&gt;
        /// property would make Export-Clixml or Format-List * block on its Result until the child exits.</summary>
        internal Task Exited => _exited.Task;

        /// <summary>Set once Remove-ChildProcess let it go.</summary>
        public bool Removed { get; internal set; }

        internal ChildTable Table { get; }

        /// <summary>Serialises reaping against signalling: a signal is only ever sent while the pid is
        /// still ours (unreaped, so the kernel cannot have reused it).</summary>
        internal object Sync { get; } = new object();

        /// <summary>Blocks until the child exited or the timeout passed (infinite when null).</summary>
        public bool WaitForExit(TimeSpan? timeout, CancellationToken cancellationToken = default)
        {
            try
            {
                return Exited.Wait(timeout.HasValue ? (int)Math.Min(int.MaxValue, Math.Ceiling(timeout.Value.TotalMilliseconds)) : Timeout.Infinite, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }

        /// <summary>Python's <c>terminate()</c> (SIGTERM to the group, SIGKILL after the grace period)
        /// or <c>kill()</c> when <paramref name="force"/>. Returns once the child exited; an exited child is left alone.</summary>
        public void Stop(bool force, TimeSpan gracePeriod, string reason = "stop requested", CancellationToken cancellationToken = default) =>
            StopAll(new[] { this }, force, _ => gracePeriod, reason, null, cancellationToken);

        /// <summary>Stops many children at once: every signal first, then one shared grace period, then SIGKILL for those
        /// still alive, so N stubborn children cost one grace period, not N. <paramref name="waitLimit"/> bounds the whole
        /// wait (process exit: the lifeline guardians finish the job); a child whose grace is longer than it is not
        /// SIGKILLed here. Ctrl+C (<paramref name="cancellationToken"/>) ends the wait; signals already sent stay sent.</summary>
        public static void StopAll(IReadOnlyList<ChildProcess> children, bool force, Func<ChildProcess, TimeSpan> gracePeriod, string reason,
            TimeSpan? waitLimit = null, CancellationToken cancellationToken = default)
        {
            var platform = ProcessPlatform.Current;
            var running = new List<ChildProcess>();
            foreach (var child in children)
            {
                if (child.IsAlive)
                {
                    child._stopRequested = true;
                    child.SendSignal(platform, force ? ChildSignal.Kill : ChildSignal.Terminate, reason);
                    running.Add(child);
                }
            }
            DateTime start = DateTime.UtcNow;
            if (!force)
            {
                foreach (var child in running)
                {
                    TimeSpan grace = gracePeriod(child);
                    bool mayKill = !waitLimit.HasValue || grace <= waitLimit.Value;
                    TimeSpan wait = mayKill ? grace : waitLimit!.Value;
                    TimeSpan left = wait - (DateTime.UtcNow - start);
                    if (child.WaitForExit(left > TimeSpan.Zero ? left : TimeSpan.Zero, cancellationToken))
                    {
                        continue;
                    }
                    if (cancellationToken.IsCancellationRequested)
                    {
                        return;
                    }
                    if (mayKill)
                    {
                        ProcessLog.Info($"grace period of {grace.TotalSeconds:0.###}s expired for {child.Name} (pid {child.Id}); sending SIGKILL");
                        child.SendSignal(platform, ChildSignal.Kill, "grace period expired");
                    }
                }
            }
            if (waitLimit.HasValue)
            {
                return;
            }
            if (!force)
            {
                EndStragglers(running, gracePeriod, start, platform, cancellationToken);
            }
            foreach (var child in running)
            {
                if (!child.WaitForExit(KillReapTimeout, cancellationToken) && cancellationToken.IsCancellationRequested)
                {
                    return;
                }
            }
        }

        /// <summary>Poll interval while a stopped child's group still has members after its leader exited. Only
        /// this rare case polls; the normal wait is event-driven.</summary>
        private const int StragglerPollMs = 50;

        /// <summary>Stop acts on the child's whole tree: a leader that exited on SIGTERM may leave group members that
        /// ignore it. They get the rest of the grace period, then SIGKILL.</summary>
        private static void EndStragglers(List<ChildProcess> stopped, Func<ChildProcess, TimeSpan> gracePeriod, DateTime start,
            ProcessPlatform platform, CancellationToken cancellationToken)
        {
            var pending = stopped.Where(c => !c.IsAlive).ToList();
            while (pending.Count > 0 && !cancellationToken.IsCancellationRequested)
            {
                ISet<int> live = platform.LiveProcessGroups(pending.Select(c => c.Id).ToList());
                pending.RemoveAll(c => !live.Contains(c.Id));
                foreach (var child in pending.Where(c => DateTime.UtcNow - start >= gracePeriod(c)).ToList())
                {
                    ProcessLog.Info($"grace period expired for what {child.Name} (pid {child.Id}) left in process group {child.Id}; sending SIGKILL");
                    platform.KillOrphanedGroup(child.Id);
                    pending.Remove(child);
                }
                if (pending.Count > 0)
                {
                    cancellationToken.WaitHandle.WaitOne(StragglerPollMs);
                }
            }
        }

        internal bool SendSignal(ProcessPlatform platform, ChildSignal signal, string reason)
        {
            lock (Sync)
            {
                if (_state != ChildState.Running)
                {
                    return false;
                }
                ProcessLog.Info($"sending {ProcessPlatform.SignalName(signal)} to {Name} (pid {Id}, process group {Id}): {reason}");
                platform.SignalGroup(this, signal);
                return true;
            }
        }

        /// <summary>Called by the supervisor, under <see cref="Sync"/>, once the child was reaped.</summary>
        internal void SetExited(int? exitCode, DateTime exitTime)
        {
            _exitCode = exitCode;
            _exitTime = exitTime;
            _state = exitCode.HasValue ? ExitStatus.StateOf(exitCode.Value, _stopRequested) : ChildState.Lost;
        }

        /// <summary>Releases waiters; called after <see cref="SetExited"/> outside the lock.</summary>
        internal void CompleteExit()
        {
            if (ExitCode is int code)
            {
                ProcessLog.Info($"{Name} (pid {Id}) exited with exitcode {code}");
            }
            else
            {
                ProcessLog.Warning($"{Name} (pid {Id}) was reaped by another process; its exit code is unknown");
            }
            _exited.TrySetResult(true);
        }

        public override string ToString() => Name;
    }
}
