using System;
using System.Threading;
using System.Threading.Tasks;

namespace ProcessKit
{
    /// <summary>One child process and its lifecycle, as Python's <c>multiprocessing.Process</c>: what it is, its state
    /// and exit code, and its captured output. <see cref="ChildSupervisor"/> starts and stops it; the platform reports
    /// its output and exit through <see cref="IChildObserver"/>; every cmdlet reads the same object.</summary>
    public sealed class ChildProcess : IChildObserver
    {
        /// <summary>Stop-ChildProcess waits this long after SIGTERM before SIGKILL (SPEC: 5 s).</summary>
        public static readonly TimeSpan DefaultStopGracePeriod = ChildSupervisor.DefaultStopGracePeriod;

        /// <summary>Session end: SIGTERM → this → SIGKILL.</summary>
        public static readonly TimeSpan DefaultDaemonGracePeriod = ChildSupervisor.DefaultDaemonGracePeriod;

        private readonly TaskCompletionSource<bool> _exited =
            new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Guards the state fields below, and nothing else: no I/O, logging or callbacks under it.</summary>
        private readonly object _sync = new object();
        private int? _exitCode;
        private DateTime? _exitTime;
        private ChildState _state = ChildState.Running;
        private bool _stopRequested;
        private bool _suspended;
        private readonly Func<int?, int?>? _exitCodeTranslator;

        internal ChildProcess(string name, IChildHandle handle, SpawnRequest request, ChildSupervisor owner)
        {
            Name = name;
            Handle = handle;
            Id = handle.Id;
            Owner = owner;
            Daemon = request.Daemon;
            Kind = request.Kind;
            Command = request.Command ?? request.FileName;
            OutputMode = request.OutputMode;
            DaemonGracePeriod = request.DaemonGracePeriod;
            StartTime = DateTime.Now;
            HasRecordsChannel = request.CaptureRecords && owner.Platform.SupportsRecordsChannel;
            _exitCodeTranslator = request.ExitCodeTranslator;
            SignalForwarder = request.SignalForwarder;
            HostName = request.HostName;
            StandardError.LineFilter = request.StandardErrorLineFilter; // before Watch: no line can slip past it
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

        /// <summary>The host a remote child runs on (Start-ChildProcess -HostName); null for a local child, whose
        /// <see cref="Id"/> is then the process itself. A remote child's <see cref="Id"/> is its local ssh client.</summary>
        public string? HostName { get; }

        /// <summary>A remote child's process (and process group) id on <see cref="HostName"/>, once it started there.</summary>
        public int? RemoteId { get; internal set; }

        public TimeSpan DaemonGracePeriod { get; }

        public ChildState State
        {
            get { lock (_sync) { return _state; } }
        }

        /// <summary>Null while running; the exit status; <c>-N</c> when signal N ended it.</summary>
        public int? ExitCode
        {
            get { lock (_sync) { return _exitCode; } }
        }

        public DateTime? ExitTime
        {
            get { lock (_sync) { return _exitTime; } }
        }

        public bool IsAlive => State == ChildState.Running;

        /// <summary>True while the running child is stopped by job control (SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU): it is alive
        /// but does nothing until continued (SIGCONT; Stop-ChildProcess sends one after SIGTERM).</summary>
        public bool IsSuspended
        {
            get
            {
                bool recorded;
                ChildState state;
                lock (_sync)
                {
                    recorded = _suspended;
                    state = _state;
                }
                // A stop or continue the loop's once-a-second sweep has not recorded yet is seen here at once, and
                // recorded (and logged) now; the sweep that takes the notification later finds nothing to change.
                if (state == ChildState.Running && Owner.Platform is IJobControlPeek peek && peek.PeekSuspended(Handle, out int signal) is bool now)
                {
                    if (now != recorded)
                    {
                        ((IChildObserver)this).OnSuspended(now, signal);
                    }
                    return now;
                }
                return recorded;
            }
        }

        /// <summary>Captured stdout (or object frames of a scriptblock child).</summary>
        internal OutputBuffer StandardOutput { get; } = new OutputBuffer();

        internal OutputBuffer StandardError { get; } = new OutputBuffer();

        /// <summary>The session's end of the child's stdin, for a child started with
        /// <see cref="SpawnRequest.KeepStandardInputOpen"/> (null otherwise).</summary>
        internal System.IO.Stream? StandardInput { get; set; }

        /// <summary>A scriptblock child's protocol frames (its fd 3), when <see cref="HasRecordsChannel"/>; its stdout is
        /// then plain text, which no write of the child's own code can turn into a corrupt record.</summary>
        internal OutputBuffer Records { get; } = new OutputBuffer();

        /// <summary>True when the child's records arrive in <see cref="Records"/>, not framed in stdout.</summary>
        internal bool HasRecordsChannel { get; }

        OutputBuffer IChildObserver.Records => Records;

        OutputBuffer IChildObserver.StandardOutput => StandardOutput;

        OutputBuffer IChildObserver.StandardError => StandardError;

        /// <summary>Completes when the child has been reaped. Internal, as the buffers: a public Task&lt;bool&gt;
        /// property would make Export-Clixml or Format-List * block on its Result until the child exits.</summary>
        internal Task Exited => _exited.Task;

        /// <summary>Set once Remove-ChildProcess let it go.</summary>
        public bool Removed { get; private set; }

        /// <summary>As a job's HasMoreData: output or records that Receive-ChildProcess has not handed over yet (with
        /// -Keep it stays true). Spilled bytes count; a partial line being written counts where a read would take it.
        /// A property of the model, not a types-file CodeProperty: a types file costs every import ≈10–15 ms.</summary>
        public bool HasMoreData => !Removed && (Unread(Records) || Unread(StandardOutput) || Unread(StandardError));

        /// <summary>How long the child ran (to its exit), or has run so far.</summary>
        public TimeSpan Duration => (ExitTime ?? DateTime.Now) - StartTime;

        private static bool Unread(OutputBuffer buffer) => buffer.MemoryBytes > 0 || buffer.SpilledBytes > 0 || buffer.HasPartialLine;

        internal IChildHandle Handle { get; }

        /// <summary>See <see cref="SpawnRequest.SignalForwarder"/>.</summary>
        internal Func<ChildSignal, bool>? SignalForwarder { get; }

        internal ChildSupervisor Owner { get; }

        /// <summary>The session table that tracks it (set when it is added).</summary>
        internal ChildTable? Table { get; set; }

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

        /// <summary>Python's <c>terminate()</c> (SIGTERM to the group, SIGKILL after the grace period) or <c>kill()</c>
        /// when <paramref name="force"/>. Returns once the child exited; an exited child is left alone.</summary>
        public void Stop(bool force, TimeSpan gracePeriod, string reason = "stop requested", CancellationToken cancellationToken = default) =>
            Owner.Stop(this, force, gracePeriod, reason, cancellationToken);

        /// <summary>Records that a stop was asked for (its exit then counts as Stopped); false once it is not running.</summary>
        internal bool MarkStopRequested()
        {
            lock (_sync)
            {
                if (_state != ChildState.Running)
                {
                    return false;
                }
                _stopRequested = true;
                return true;
            }
        }

        /// <summary>Reported by the platform once the child was reaped: the state changes, then the record and the waiters.</summary>
        void IChildObserver.OnExited(int? exitCode)
        {
            if (_exitCodeTranslator != null)
            {
                exitCode = _exitCodeTranslator(exitCode); // outside the lock: it may log
            }
            lock (_sync)
            {
                if (_state != ChildState.Running)
                {
                    return;
                }
                _exitCode = exitCode;
                _exitTime = DateTime.Now;
                _suspended = false;
                _state = exitCode.HasValue ? ExitStatus.StateOf(exitCode.Value, _stopRequested) : ChildState.Lost;
            }
            if (exitCode is int code)
            {
                ProcessLog.Info($"{Name} (pid {Id}) exited with exitcode {code}");
            }
            else
            {
                ProcessLog.Warning($"{Name} (pid {Id}) was reaped by another process; its exit code is unknown");
            }
            _exited.TrySetResult(true);
        }

        void IChildObserver.OnSuspended(bool suspended, int signal)
        {
            lock (_sync)
            {
                if (_state != ChildState.Running || _suspended == suspended)
                {
                    return;
                }
                _suspended = suspended;
            }
            if (suspended)
            {
                ProcessLog.Info($"{Name} (pid {Id}) was stopped by signal {signal}; it stays alive until continued (SIGCONT)");
            }
            else
            {
                ProcessLog.Info($"{Name} (pid {Id}) was continued");
            }
        }

        /// <summary>Remove-ChildProcess: frees the buffered output.</summary>
        internal void Release()
        {
            Removed = true;
            StandardOutput.Clear();
            StandardError.Clear();
            Records.Clear();
        }

        public override string ToString() => Name;
    }
}
