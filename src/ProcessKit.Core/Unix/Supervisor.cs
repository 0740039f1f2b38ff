using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Threading;

namespace ProcessKit.Unix
{
    /// <summary>One thread per process that owns every child's exit and captured output, as libuv's loop does:
    /// it sleeps in poll() on the capture pipes and a wake pipe, and SIGCHLD (observed through
    /// PosixSignalRegistration) wakes it to reap. It only ever calls waitpid on pids it spawned, never waitpid(-1),
    /// so it cannot steal .NET's own children.</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    internal sealed unsafe class Supervisor
    {
        /// <summary>A safety sweep in case a SIGCHLD is ever lost; waking once a second costs nothing measurable.</summary>
        private const int SweepIntervalMs = 1000;

        /// <summary>Bytes read per read(2): one pipe buffer's worth.</summary>
        private const int ReadChunk = 64 * 1024;

        /// <summary>When a child exits, at most this many chunks are drained before its exit is published, so
        /// a grandchild that keeps writing to the inherited pipe cannot hold the exit back.</summary>
        private const int MaxDrainChunks = 256;

        private readonly object _sync = new object();
        private readonly List<Watched> _children = new List<Watched>();
        private readonly Lifeline _lifeline;
        private readonly byte[] _buffer = new byte[ReadChunk];
        private readonly int _wakeRead;
        private readonly int _wakeWrite;
        private readonly PosixSignalRegistration? _sigchld;

        public Supervisor(Lifeline lifeline)
        {
            _lifeline = lifeline;
            LibC.CreatePipe(out _wakeRead, out _wakeWrite, nonBlocking: true);
            try
            {
                _sigchld = PosixSignalRegistration.Create(PosixSignal.SIGCHLD, _ => Wake());
            }
            catch (PlatformNotSupportedException)
            {
                _sigchld = null; // the sweep still reaps, only later
            }
            var thread = new Thread(Run) { IsBackground = true, Name = "ProcessKit supervisor" };
            thread.Start();
        }

        private sealed class Capture
        {
            public Capture(int fd, OutputBuffer buffer)
            {
                Fd = fd;
                Buffer = buffer;
            }

            public int Fd;
            public readonly OutputBuffer Buffer;
        }

        private sealed class Watched
        {
            public Watched(ChildProcess child, Capture? stdout, Capture? stderr)
            {
                Child = child;
                Stdout = stdout;
                Stderr = stderr;
            }

            public readonly ChildProcess Child;
            public readonly Capture? Stdout;
            public readonly Capture? Stderr;
            public bool Exited;
        }

        public void Watch(ChildProcess child, int stdoutFd, int stderrFd)
        {
            var w = new Watched(child,
                stdoutFd >= 0 ? new Capture(stdoutFd, child.StandardOutput) : null,
                stderrFd >= 0 ? new Capture(stderrFd, child.StandardError) : null);
            if (w.Stdout is null)
            {
                child.StandardOutput.Complete();
            }
            if (w.Stderr is null)
            {
                child.StandardError.Complete();
            }
            lock (_sync)
            {
                _children.Add(w);
            }
            Wake();
        }

        /// <summary>The drainer: cat the daemon-less child's stdout (fd 0) and stderr (fd 3) to /dev/null.</summary>
        private const string DrainerScript = "cat <&3 >/dev/null 2>&1 & exec cat >/dev/null 2>&1";

        /// <summary>The session's process is ending: nobody will read the capture pipes that are still open (of
        /// non-daemon children that keep running, or of grandchildren that hold an exited child's pipes), and their next
        /// write would kill them with SIGPIPE (a running daemon's guardian drains its own). Hand each such pair of read
        /// ends to a small drainer in its own session, so non-daemons really are left alone. Only the graceful endings
        /// get here; after SIGKILL of the session the pipes have no reader (see design.md).</summary>
        public void HandOffCaptures()
        {
            Watched[] snapshot;
            lock (_sync)
            {
                snapshot = _children.ToArray();
            }
            foreach (var w in snapshot)
            {
                int outFd = w.Stdout?.Fd ?? -1;
                int errFd = w.Stderr?.Fd ?? -1;
                // Every pipe still open, also an exited child's: a start script that backgrounded a server has exited,
                // but the server holds the pipe. A running daemon's pipes are its guardian's to drain; an exited
                // daemon's guardian has already gone.
                if ((w.Child.Daemon && !w.Exited) || (outFd < 0 && errFd < 0))
                {
                    continue;
                }
                try
                {
                    var stdio = new StdioPlan
                    {
                        StdinFrom = outFd,
                        NullStdin = true,
                        Output = OutputMode.File,
                        StdoutPath = "/dev/null",
                        StderrPath = "/dev/null",
                        ExtraInputs = new[] { errFd },
                    };
                    var env = new[] { HelperEnvironment.PathVariable };
                    UnixSpawner.Spawn("/bin/sh", new[] { "processkit-drain", "-c", DrainerScript }, env, "/", stdio, newSession: true);
                    ProcessLog.Debug($"output of {w.Child.Name} (pid {w.Child.Id}) handed to a drainer: it outlives the session");
                }
                catch (ChildStartException e)
                {
                    ProcessLog.Warning($"cannot hand the output of {w.Child.Name} (pid {w.Child.Id}) to a drainer: {e.Message}");
                }
            }
        }

        public void Wake()
        {
            byte b = 1;
            LibC.write(_wakeWrite, &b, 1); // non-blocking: a full wake pipe already means "wake up"
        }

        private void Run()
        {
            var fds = new List<LibC.PollFd>();
            var owners = new List<Capture?>();
            while (true)
            {
                fds.Clear();
                owners.Clear();
                fds.Add(new LibC.PollFd { Fd = _wakeRead, Events = LibC.POLLIN });
                owners.Add(null);
                lock (_sync)
                {
                    foreach (var w in _children)
                    {
                        AddCapture(w.Stdout, fds, owners);
                        AddCapture(w.Stderr, fds, owners);
                    }
                }
                var array = fds.ToArray();
                int n;
                fixed (LibC.PollFd* p = array)
                {
                    n = LibC.poll(p, (nuint)array.Length, SweepIntervalMs);
                }
                if (n < 0 && Marshal.GetLastPInvokeError() != LibC.EINTR)
                {
                    Thread.Sleep(10); // never spin on an unexpected poll error
                }
                // Reap on a wake-up (SIGCHLD, a new child) or the sweep, not on every chunk of output: with many chatty
                // children a waitid per child per read would put O(children) syscalls on the output path.
                bool woken = n <= 0 || (array[0].Revents & LibC.POLLIN) != 0;
                if (n > 0)
                {
                    if ((array[0].Revents & LibC.POLLIN) != 0)
                    {
                        DrainWakePipe();
                    }
                    for (int i = 1; i < array.Length; i++)
                    {
                        if (array[i].Revents != 0)
                        {
                            ReadOnce(owners[i]!);
                        }
                    }
                }
                if (woken)
                {
                    ReapExited();
                    _lifeline.ReapGuardians();
                }
            }
        }

        private static void AddCapture(Capture? c, List<LibC.PollFd> fds, List<Capture?> owners)
        {
            if (c != null && c.Fd >= 0)
            {
                fds.Add(new LibC.PollFd { Fd = c.Fd, Events = LibC.POLLIN });
                owners.Add(c);
            }
        }

        private void DrainWakePipe()
        {
            byte* b = stackalloc byte[256];
            while (LibC.read(_wakeRead, b, 256) > 0)
            {
            }
        }

        /// <summary>One read(2); EOF or error closes the capture and flushes its last line.</summary>
        private bool ReadOnce(Capture c)
        {
            nint got;
            fixed (byte* b = _buffer)
            {
                got = LibC.read(c.Fd, b, _buffer.Length);
            }
            if (got > 0)
            {
                c.Buffer.Append(_buffer, (int)got);
                return true;
            }
            if (got < 0 && Marshal.GetLastPInvokeError() == LibC.EINTR)
            {
                return true;
            }
            LibC.close(c.Fd);
            c.Fd = -1;
            c.Buffer.Complete();
            return false;
        }

        /// <summary>Reads what is already in the pipe without blocking (bounded), so that output written before
        /// exit is in the buffer by the time a waiter sees the exit.</summary>
        private void Drain(Capture? c)
        {
            if (c is null)
            {
                return;
            }
            for (int i = 0; i < MaxDrainChunks && c.Fd >= 0; i++)
            {
                var pfd = new LibC.PollFd { Fd = c.Fd, Events = LibC.POLLIN };
                if (LibC.poll(&pfd, 1, 0) <= 0 || pfd.Revents == 0 || !ReadOnce(c))
                {
                    return;
                }
            }
        }

        private void ReapExited()
        {
            Watched[] snapshot;
            lock (_sync)
            {
                snapshot = _children.ToArray();
            }
            foreach (var w in snapshot)
            {
                if (!w.Exited && TryReap(w))
                {
                    w.Child.CompleteExit();
                }
                if (w.Exited && (w.Stdout?.Fd ?? -1) < 0 && (w.Stderr?.Fd ?? -1) < 0)
                {
                    lock (_sync)
                    {
                        _children.Remove(w);
                    }
                }
            }
        }

        /// <summary>Peek (WNOWAIT) → tell the lifeline to forget the group → reap. The zombie keeps the pid reserved
        /// until the reap, so the lifeline can never be left holding a pid the kernel could reuse.</summary>
        private bool TryReap(Watched w)
        {
            var child = w.Child;
            lock (child.Sync)
            {
                byte* info = stackalloc byte[LibC.SiginfoSize];
                new Span<byte>(info, LibC.SiginfoSize).Clear();
                int rc = LibC.waitid(LibC.P_PID, child.Id, info, LibC.WEXITED | LibC.WNOHANG | LibC.WNOWAIT);
                if (rc == 0 && *(int*)(info + LibC.SiginfoPidOffset) == 0)
                {
                    return false; // still running
                }
                if (child.Daemon)
                {
                    _lifeline.Unregister(child.Id);
                }
                if (Pid1Reaping.Owns(child.Id))
                {
                    return TryReapAsPid1(w); // .NET reaps every child of PID 1: take the exit through its table
                }
                int reaped = LibC.waitpid(child.Id, out int status, LibC.WNOHANG);
                int errno = reaped < 0 ? Marshal.GetLastPInvokeError() : 0;
                if (reaped == 0)
                {
                    return false;
                }
                Drain(w.Stdout);
                Drain(w.Stderr);
                if (reaped == child.Id)
                {
                    child.SetExited(ExitStatus.FromWaitStatus(status), DateTime.Now);
                }
                else if (errno == LibC.ECHILD)
                {
                    child.SetExited(null, DateTime.Now);
                }
                else
                {
                    return false;
                }
                w.Exited = true;
                return true;
            }
        }

        /// <summary>As PID 1 (see <see cref="Pid1Reaping"/>); called under the child's lock.</summary>
        private bool TryReapAsPid1(Watched w)
        {
            if (!Pid1Reaping.TryReap(w.Child.Id, out int? exitCode))
            {
                return false;
            }
            Drain(w.Stdout);
            Drain(w.Stderr);
            w.Child.SetExited(exitCode, DateTime.Now);
            w.Exited = true;
            return true;
        }
    }
}
