using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Threading;

namespace ProcessKit.Unix
{
    /// <summary>One thread per process that owns every child's exit and captured output, as libuv's loop does: it sleeps
    /// in a <see cref="Poller"/> (epoll on Linux, poll(2) on macOS) on the capture pipes, a wake pipe and — on Linux
    /// 5.3+ — a pidfd per child, which turns readable when that child exits, so the loop reaps it with no other thread
    /// involved. Where there are no pidfds (macOS, older
    /// kernels, a child whose pidfd could not be opened, pwsh as PID 1) SIGCHLD, observed through
    /// PosixSignalRegistration, wakes the loop instead. A SIGCHLD handler runs on the thread pool: with pidfds that hop,
    /// and the pool's spinning after it, is gone from every exit (≈0.3 ms of CPU per exit on a small machine).
    /// It only ever calls waitpid on pids it spawned, never waitpid(-1), so it cannot steal .NET's children.
    ///
    /// Ownership instead of locks: the watched list and every capture descriptor belong to the loop thread alone —
    /// other threads hand work in through <see cref="Watch"/> and <see cref="RunOnLoop"/> (a queue under
    /// <see cref="_sync"/>, nothing else under it). Reading, draining, disarming the lifeline and logging all run with no
    /// lock held; only waitpid itself takes the child's reap gate, against a concurrent signal.</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    internal sealed class EventLoop
    {
        /// <summary>A safety sweep in case a SIGCHLD is ever lost; waking once a second costs nothing measurable.</summary>
        private const int SweepIntervalMs = 1000;

        /// <summary>Bytes read per read(2): one pipe buffer's worth.</summary>
        private const int ReadChunk = 64 * 1024;

        /// <summary>When a child exits, at most this many chunks are drained before its exit is published, so
        /// a grandchild that keeps writing to the inherited pipe cannot hold the exit back.</summary>
        private const int MaxDrainChunks = 256;

        private readonly object _sync = new object();
        private readonly List<Watched> _incoming = new List<Watched>();
        private readonly List<Action> _actions = new List<Action>();
        private readonly List<Watched> _watched = new List<Watched>(); // loop thread only
        private readonly Lifeline _lifeline;
        private readonly byte[] _buffer = new byte[ReadChunk];
        private readonly FileDescriptor _wakeRead;
        private readonly FileDescriptor _wakeWrite;
        private readonly byte[] _wakeByte = { 1 };
        private PosixSignalRegistration? _sigchld;
        /// <summary>Loop thread only (and the constructor, before the thread starts).</summary>
        private readonly Poller _poller;
        private int _sigchldWanted;

        /// <summary>pidfds work here (probed once on this process's own pid); as PID 1, .NET reaps every child itself
        /// (see <see cref="Pid1Reaping"/>) and SIGCHLD stays the signal.</summary>
        private readonly bool _usePidfds;

        public EventLoop(Lifeline lifeline)
        {
            _lifeline = lifeline;
            (_wakeRead, _wakeWrite) = FileDescriptor.Pipe(nonBlocking: true);
            _poller = Poller.Create();
            if (!_poller.Add(_wakeRead, _wakeRead))
            {
                _poller = new PollPoller(); // an epoll that cannot take one descriptor: poll(2) always can
                _poller.Add(_wakeRead, _wakeRead);
            }
            _usePidfds = Environment.ProcessId != 1 && ProbePidfd();
            if (!_usePidfds)
            {
                WantSigchld();
            }
            var thread = new Thread(Run) { IsBackground = true, Name = "ProcessKit event loop" };
            thread.Start();
        }

        private static bool ProbePidfd()
        {
            int fd = LibC.pidfd_open(Environment.ProcessId);
            if (fd < 0)
            {
                return false;
            }
            LibC.close(fd);
            return true;
        }

        /// <summary>From now on SIGCHLD wakes the loop (once; any thread).</summary>
        private void WantSigchld()
        {
            if (Interlocked.Exchange(ref _sigchldWanted, 1) != 0)
            {
                return;
            }
            try
            {
                _sigchld = PosixSignalRegistration.Create(PosixSignal.SIGCHLD, _ => Wake());
            }
            catch (PlatformNotSupportedException)
            {
                _sigchld = null; // the sweep still reaps, only later
            }
        }

        private sealed class Capture
        {
            public Capture(FileDescriptor fd, OutputBuffer buffer)
            {
                Fd = fd;
                Buffer = buffer;
            }

            public FileDescriptor? Fd;
            /// <summary>Changes once, when an idle warm host becomes a child (on the loop thread).</summary>
            public OutputBuffer Buffer;
        }

        private sealed class Watched
        {
            public Watched(UnixChild child, IChildObserver observer)
            {
                Child = child;
                Observer = observer;
                Stdout = child.Stdout is null ? null : new Capture(child.Stdout, observer.StandardOutput);
                Stderr = child.Stderr is null ? null : new Capture(child.Stderr, observer.StandardError);
                Records = child.Records is null ? null : new Capture(child.Records, observer.Records);
            }

            public readonly UnixChild Child;
            /// <summary>Changes once, when an idle warm host becomes a child (on the loop thread).</summary>
            public IChildObserver Observer;
            /// <summary>An idle warm host: nobody's child; its pipes are not handed off at process exit.</summary>
            public bool IsHost;
            /// <summary>Adopted, but its exit is not reported before <see cref="Release"/> (after its "started" record).</summary>
            public bool Held;
            public readonly Capture? Stdout;
            public readonly Capture? Stderr;
            /// <summary>The records pipe (a scriptblock child's fd 3), read like stdout.</summary>
            public readonly Capture? Records;
            public bool Exited;
            /// <summary>The child's pidfd, polled until it is reaped (loop thread only after Watch).</summary>
            public FileDescriptor? ExitFd;

            public bool HasOpenCapture => Stdout?.Fd != null || Stderr?.Fd != null || Records?.Fd != null;
        }

        public void Watch(UnixChild child, IChildObserver observer, bool isHost = false)
        {
            var w = new Watched(child, observer) { IsHost = isHost };
            if (_usePidfds)
            {
                // Opened before the loop can reap it, so the pid is still this child's (a zombie at worst).
                int fd = LibC.pidfd_open(child.Id);
                if (fd >= 0)
                {
                    w.ExitFd = new FileDescriptor(fd);
                }
                else
                {
                    WantSigchld(); // EMFILE or the like: this child's exit needs the signal
                }
            }
            if (w.Stdout is null)
            {
                observer.StandardOutput.Complete();
            }
            if (w.Stderr is null)
            {
                observer.StandardError.Complete();
            }
            if (w.Records is null)
            {
                observer.Records.Complete();
            }
            lock (_sync)
            {
                _incoming.Add(w);
            }
            Wake();
        }

        /// <summary>An idle warm host becomes <paramref name="observer"/>'s child, on the loop thread, which owns its
        /// descriptors: <paramref name="arm"/> (the lifeline of a daemon) runs first, then output and exit go to the
        /// child, its exit held until <see cref="Release"/>. False when the host exited or is exiting (a capture at
        /// EOF); exceptions of <paramref name="arm"/> reach the caller, the host unchanged.</summary>
        public bool Adopt(UnixChild child, IChildObserver observer, Action? arm)
        {
            bool adopted = false;
            Exception? failure = null;
            RunOnLoop(() =>
            {
                TakeIncoming();
                var w = _watched.Find(x => x.Child == child);
                if (w is null || w.Exited || !w.IsHost || w.Stdout?.Fd is null || w.Stderr?.Fd is null || (w.Records != null && w.Records.Fd is null))
                {
                    return;
                }
                try
                {
                    arm?.Invoke();
                }
                catch (Exception e)
                {
                    failure = e;
                    return;
                }
                w.Observer = observer;
                Retarget(w.Stdout, observer.StandardOutput);
                Retarget(w.Stderr, observer.StandardError);
                Retarget(w.Records, observer.Records);
                w.IsHost = false;
                w.Held = true;
                if (w.ExitFd != null)
                {
                    _poller.Remove(w.ExitFd); // polled again at the release: until then its exit is not reported
                }
                adopted = true;
            }, System.Threading.Timeout.InfiniteTimeSpan);
            if (failure != null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
            }
            return adopted;
        }

        private static void Retarget(Capture? c, OutputBuffer buffer)
        {
            if (c is null)
            {
                buffer.Complete();
            }
            else
            {
                c.Buffer = buffer;
            }
        }

        /// <summary>An adopted host's exit may be reported now; the loop looks at once.</summary>
        public void Release(UnixChild child)
        {
            lock (_sync)
            {
                _actions.Add(() =>
                {
                    var w = _watched.Find(x => x.Child == child);
                    if (w != null && w.Held)
                    {
                        w.Held = false;
                        if (w.ExitFd != null && !w.Exited)
                        {
                            WatchExitFd(w);
                        }
                    }
                });
            }
            Wake();
        }

        /// <summary>Runs <paramref name="action"/> on the loop thread (which owns the descriptors) and waits for it, at
        /// most <paramref name="timeout"/>. False if it did not finish in time.</summary>
        public bool RunOnLoop(Action action, TimeSpan timeout)
        {
            using var done = new ManualResetEventSlim(false);
            lock (_sync)
            {
                _actions.Add(() =>
                {
                    try
                    {
                        action();
                    }
                    finally
                    {
                        done.Set();
                    }
                });
            }
            Wake();
            return done.Wait(timeout);
        }

        public void Wake() => _wakeWrite.WriteAll(_wakeByte); // non-blocking: a full wake pipe already means "wake up"

        /// <summary>The session's process is ending: nobody will read the capture pipes that are still open, and the next
        /// write of whoever holds their write ends would die of SIGPIPE. Hand every open pipe — of running children, and of
        /// exited ones whose grandchildren still hold it (a start script that backgrounded a server) — to a drainer in its
        /// own session. A daemon that still runs keeps its guardian, which drains its own. Runs on the loop thread.
        /// Only the graceful endings get here; after SIGKILL of the session the pipes have no reader (see design.md).</summary>
        public void HandOff()
        {
            TakeIncoming();
            foreach (var w in _watched)
            {
                if (!w.HasOpenCapture || w.IsHost || (w.Child.LifelineArmed && !w.Exited))
                {
                    continue;
                }
                try
                {
                    var stdio = new StdioTable().From(0, w.Stdout?.Fd).Null(1).Null(2).From(3, w.Stderr?.Fd).From(4, w.Records?.Fd);
                    ShellHelper.Start("Drainer", Array.Empty<string>(), stdio);
                    ProcessLog.Debug($"output of {w.Observer.Name} (pid {w.Child.Id}) handed to a drainer: it outlives the session");
                }
                catch (ChildStartException e)
                {
                    ProcessLog.Warning($"cannot hand the output of {w.Observer.Name} (pid {w.Child.Id}) to a drainer: {e.Message}");
                }
            }
        }

        /// <summary>Moves newly watched children into the loop's list; true when there were any (they are then checked for
        /// an exit at once: a child may have exited, and its SIGCHLD come and gone, before it was watched).</summary>
        private List<Watched>? TakeIncoming()
        {
            List<Watched> added;
            lock (_sync)
            {
                if (_incoming.Count == 0)
                {
                    return null;
                }
                added = new List<Watched>(_incoming);
                _incoming.Clear();
            }
            _watched.AddRange(added);
            foreach (var w in added)
            {
                Register(w); // the poller is the loop thread's alone, and so are these children once taken
            }
            return added;
        }

        private List<Action>? TakeActions()
        {
            lock (_sync)
            {
                if (_actions.Count == 0)
                {
                    return null;
                }
                var actions = new List<Action>(_actions);
                _actions.Clear();
                return actions;
            }
        }

        private unsafe void Run()
        {
            var ready = new List<object>(); // Captures, Watched children whose pidfd is readable, the wake marker
            long lastSweep = Environment.TickCount64;
            while (true)
            {
                if (TakeIncoming() is List<Watched> added)
                {
                    ReapExited(added); // only the new ones: a start must not cost a waitid per running child
                }
                var actions = TakeActions();
                if (actions != null)
                {
                    foreach (var action in actions)
                    {
                        action();
                    }
                    ReapExited(); // a released child may have exited already; its SIGCHLD wake-up was spent
                }
                ready.Clear();
                int untilSweep = (int)Math.Clamp(SweepIntervalMs - (Environment.TickCount64 - lastSweep), 0, SweepIntervalMs);
                int n = _poller.Wait(untilSweep, ready);
                if (n < 0 && Marshal.GetLastPInvokeError() != LibC.EINTR)
                {
                    Thread.Sleep(10); // never spin on an unexpected poll error
                }
                // Reap on a wake-up (SIGCHLD, a new child) or the sweep, not on every chunk of output: with many chatty
                // children a waitid per child per read would put O(children) syscalls on the output path.
                // The sweep is timed, not a poll timeout: a grandchild that keeps writing to an inherited pipe keeps poll
                // from ever timing out, and a lost wake-up must still be caught within a second.
                bool wakePipe = ready.Contains(_wakeRead);
                bool woken = n <= 0 || wakePipe || Environment.TickCount64 - lastSweep >= SweepIntervalMs;
                if (wakePipe)
                {
                    DrainWakePipe();
                }
                foreach (object owner in ready)
                {
                    if (owner is Capture c && c.Fd != null)
                    {
                        ReadOnce(c);
                    }
                }
                // Exits after output: what the child wrote before it exited is read above or drained by the reap.
                foreach (object owner in ready)
                {
                    if (owner is Watched exited && !exited.Exited && !exited.Held)
                    {
                        if (TryReap(exited, out int? code))
                        {
                            MarkExited(exited, code);
                        }
                        else
                        {
                            // Readable but not reapable yet (EINTR): the signal and the sweep take it from here.
                            CloseExitFd(exited);
                            WantSigchld();
                        }
                    }
                }
                if (woken)
                {
                    // A child watched since the top of this pass (its wake-up may be the one just drained) is looked
                    // at now, not on the next SIGCHLD or sweep.
                    TakeIncoming();
                    bool sweep = Environment.TickCount64 - lastSweep >= SweepIntervalMs;
                    ReapExited(null, checkStops: sweep);
                    _lifeline.ReapGuardians();
                    if (sweep)
                    {
                        lastSweep = Environment.TickCount64;
                    }
                }
            }
        }

        /// <summary>A child the loop takes in: its open pipes, and its pidfd unless its exit is held back.</summary>
        private void Register(Watched w)
        {
            foreach (var c in new[] { w.Stdout, w.Stderr, w.Records })
            {
                if (c?.Fd != null && !_poller.Add(c.Fd, c))
                {
                    // Not watched, so not read while the child runs: it may block on a full pipe. What is in the
                    // pipe is still drained at its exit, which the sweep or SIGCHLD finds.
                    int errno = Marshal.GetLastPInvokeError();
                    ProcessLog.Warning($"cannot watch the output of {w.Observer.Name} (pid {w.Child.Id}): {Marshal.GetPInvokeErrorMessage(errno)}; it is read at its exit");
                    WantSigchld();
                }
            }
            if (w.ExitFd != null && !w.Held)
            {
                WatchExitFd(w);
            }
        }

        /// <summary>Polls the child's pidfd; when the kernel refuses, SIGCHLD and the sweep see its exit instead.</summary>
        private void WatchExitFd(Watched w)
        {
            if (!_poller.Add(w.ExitFd!, w))
            {
                w.ExitFd!.Dispose();
                w.ExitFd = null;
                WantSigchld();
            }
        }

        private void CloseExitFd(Watched w)
        {
            if (w.ExitFd != null)
            {
                _poller.Remove(w.ExitFd);
                w.ExitFd.Dispose();
                w.ExitFd = null;
            }
        }

        private void MarkExited(Watched w, int? code)
        {
            w.Exited = true;
            CloseExitFd(w);
            w.Observer.OnExited(code);
        }

        private void DrainWakePipe()
        {
            while (_wakeRead.Read(_buffer, out _) > 0)
            {
            }
        }

        /// <summary>One read(2); end of file or an error closes the capture and flushes its last line.</summary>
        private bool ReadOnce(Capture c)
        {
            int got = c.Fd!.Read(_buffer, out int errno);
            if (got > 0)
            {
                c.Buffer.Append(_buffer, got);
                return true;
            }
            if (got < 0 && errno == LibC.EINTR)
            {
                return true;
            }
            _poller.Remove(c.Fd);
            c.Fd.Dispose();
            c.Fd = null;
            c.Buffer.Complete();
            return false;
        }

        /// <summary>Reads what is already in the pipe without blocking (bounded), so that output written before
        /// exit is in the buffer by the time a waiter sees the exit.</summary>
        private unsafe void Drain(Capture? c)
        {
            for (int i = 0; i < MaxDrainChunks && c?.Fd != null; i++)
            {
                var pfd = new LibC.PollFd { Fd = c.Fd.Number, Events = LibC.POLLIN };
                if (LibC.poll(&pfd, 1, 0) <= 0 || pfd.Revents == 0 || !ReadOnce(c))
                {
                    return;
                }
            }
        }

        /// <summary>Reaps those of <paramref name="only"/> (all watched children when null) that exited. Job-control stops
        /// are looked for only with <paramref name="checkStops"/> (the timed sweep): a waitid per child on every SIGCHLD
        /// would put O(children) syscalls on every exit.</summary>
        private void ReapExited(List<Watched>? only = null, bool checkStops = false)
        {
            if (only != null)
            {
                foreach (var w in only)
                {
                    if (!w.Exited && !w.Held && TryReap(w, out int? code))
                    {
                        MarkExited(w, code);
                    }
                }
                return;
            }
            for (int i = _watched.Count - 1; i >= 0; i--)
            {
                var w = _watched[i];
                if (checkStops && !w.Exited && !w.Held)
                {
                    ReportStopOrContinue(w);
                }
                // A child with a pidfd is reaped when that turns readable; between sweeps a wake-up (a start, a
                // SIGCHLD of a child without one) looks only at the others, so it costs no waitid per running child.
                if (!w.Exited && !w.Held && (checkStops || w.ExitFd is null) && TryReap(w, out int? exitCode))
                {
                    MarkExited(w, exitCode);
                }
                if (w.Exited && !w.HasOpenCapture)
                {
                    _watched.RemoveAt(i);
                }
            }
        }

        /// <summary>Job control: a child stopped by SIGSTOP/SIGTSTP/SIGTTIN/SIGTTOU, or continued, is reported as such
        /// (<see cref="ChildProcess.IsSuspended"/>). waitid with WSTOPPED|WCONTINUED and without WEXITED consumes only
        /// those notifications, never an exit, so the reap below is not disturbed.</summary>
        private void ReportStopOrContinue(Watched w)
        {
            if (StopOrContinue(w.Child.Id, keep: false, out int signal) is bool stopped)
            {
                w.Observer.OnSuspended(stopped, signal);
            }
        }

        /// <summary>A job-control notification of child <paramref name="pid"/> not taken yet: true, stopped by
        /// <paramref name="signal"/>; false, continued; null, none. With <paramref name="keep"/> (WNOWAIT) it stays
        /// there for the sweep to take. The caller makes sure the pid is still its child's (not reaped).</summary>
        internal static unsafe bool? StopOrContinue(int pid, bool keep, out int signal)
        {
            signal = 0;
            byte* info = stackalloc byte[LibC.SiginfoSize];
            new Span<byte>(info, LibC.SiginfoSize).Clear();
            int options = LibC.WSTOPPED | LibC.WCONTINUED | LibC.WNOHANG | (keep ? LibC.WNOWAIT : 0);
            if (LibC.waitid(LibC.P_PID, pid, info, options) != 0 || *(int*)(info + LibC.SiginfoPidOffset) == 0)
            {
                return null;
            }
            int code = *(int*)(info + LibC.SiginfoCodeOffset);
            signal = *(int*)(info + LibC.SiginfoStatusOffset);
            return code == LibC.CLD_STOPPED ? true : code == LibC.CLD_CONTINUED ? false : null;
        }

        /// <summary>As PID 1, .NET may reap the child first (then its entry in .NET's table holds the code): the exit is
        /// taken through <see cref="Pid1Reaping.TryReap"/> only, never with a waitpid of ours (docs/pid1.md). The
        /// lifeline is disarmed after that, since .NET may already have freed the pid anyway.</summary>
        private bool TryReapAsPid1(Watched w, out int? exitCode)
        {
            var child = w.Child;
            lock (child.ReapGate)
            {
                if (!Pid1Reaping.TryReap(child.Id, out exitCode))
                {
                    return false;
                }
                child.Reaped = true;
            }
            DrainAndDisarm(w);
            return true;
        }

        /// <summary>What an exited child leaves: what is already in its pipes goes to its buffers (so a waiter that sees
        /// the exit also sees the output written before it), and its guardian, if any, is told to leave.</summary>
        private void DrainAndDisarm(Watched w)
        {
            Drain(w.Stdout);
            Drain(w.Stderr);
            Drain(w.Records);
            if (w.Child.LifelineArmed)
            {
                w.Child.LifelineArmed = false;
                _lifeline.Disarm(w.Child.Id);
            }
        }

        /// <summary>Peek (WNOWAIT) → drain → disarm the lifeline → reap. The zombie keeps the pid reserved until the
        /// reap, so neither a guardian nor a signal can reach a pid the kernel could have reused.</summary>
        private unsafe bool TryReap(Watched w, out int? exitCode)
        {
            exitCode = null;
            var child = w.Child;
            if (Pid1Reaping.Owns(child.Id))
            {
                return TryReapAsPid1(w, out exitCode);
            }
            byte* info = stackalloc byte[LibC.SiginfoSize];
            new Span<byte>(info, LibC.SiginfoSize).Clear();
            int rc = LibC.waitid(LibC.P_PID, child.Id, info, LibC.WEXITED | LibC.WNOHANG | LibC.WNOWAIT);
            if (rc == 0 && *(int*)(info + LibC.SiginfoPidOffset) == 0)
            {
                return false; // still running
            }
            if (rc != 0 && Marshal.GetLastPInvokeError() != LibC.ECHILD)
            {
                return false; // EINTR: look again on the next wake-up
            }
            DrainAndDisarm(w);
            int reaped, status, errno;
            lock (child.ReapGate)
            {
                reaped = LibC.waitpid(child.Id, out status, LibC.WNOHANG);
                errno = reaped < 0 ? Marshal.GetLastPInvokeError() : 0;
                if (reaped == child.Id || (reaped < 0 && errno == LibC.ECHILD))
                {
                    child.Reaped = true;
                }
            }
            if (reaped == child.Id)
            {
                exitCode = ExitStatus.FromWaitStatus(status);
                return true;
            }
            return reaped < 0 && errno == LibC.ECHILD; // someone else reaped it (pwsh as PID 1): Lost
        }
    }
}
