using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;

namespace ProcessKit.Unix
{
    /// <summary>The platform's handle of one Unix child: its pid (= process group), our ends of its pipes, and the reap
    /// gate that keeps a signal from racing the reap.</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    internal sealed class UnixChild : IChildHandle
    {
        public UnixChild(int pid, SpawnResult spawned, byte[]? standardInput)
        {
            Id = pid;
            Stdin = spawned.Take(0);
            Stdout = spawned.Take(1);
            Stderr = spawned.Take(2);
            Records = spawned.Take(ChildProtocol.RecordsDescriptor);
            Requests = spawned.Take(ChildProtocol.RequestsDescriptor);
            StandardInput = standardInput;
        }

        public int Id { get; }

        /// <summary>Held only across kill(2) and waitpid(2): once <see cref="Reaped"/> the pid may belong to another process.</summary>
        internal object ReapGate { get; } = new object();

        /// <summary>Under <see cref="ReapGate"/>.</summary>
        internal bool Reaped { get; set; }

        /// <summary>A guardian watches it (a daemon); cleared by the event loop when it disarms the guardian.</summary>
        internal volatile bool LifelineArmed;

        internal FileDescriptor? Stdin { get; private set; }

        /// <summary>Hands the input pipe (the requests pipe on fd 4, else stdin) over as a stream (for a child whose stdin stays open); the stream owns it now.</summary>
        internal System.IO.Stream TakeStdin()
        {
            var fd = Requests ?? Stdin ?? throw new InvalidOperationException("the child has no input pipe");
            if (Requests != null)
            {
                Requests = null;
            }
            else
            {
                Stdin = null;
            }
            var handle = new Microsoft.Win32.SafeHandles.SafeFileHandle(new IntPtr(fd.Number), ownsHandle: true);
            fd.SetHandleAsInvalid(); // ownership moved: the SafeFileHandle closes it
            return new System.IO.FileStream(handle, System.IO.FileAccess.Write, bufferSize: 0);
        }
        internal FileDescriptor? Stdout { get; }
        internal FileDescriptor? Stderr { get; }
        internal FileDescriptor? Records { get; }
        internal FileDescriptor? Requests { get; private set; }
        internal byte[]? StandardInput { get; }

        internal void CloseAll()
        {
            Stdin?.Dispose();
            Stdout?.Dispose();
            Stderr?.Dispose();
            Records?.Dispose();
            Requests?.Dispose();
        }
    }

    /// <summary>Linux and macOS: posix_spawn into a new process group, one event-loop thread that reads output and reaps
    /// with waitpid, kill(-pgid) for signals, and a lifeline guardian for daemons.</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    internal sealed unsafe class UnixPlatform : IProcessPlatform, IWarmHostPlatform, IJobControlPeek
    {
        /// <summary>How long the process-exit hand-off waits for the loop thread (it only spawns a few shells).</summary>
        private static readonly TimeSpan HandOffWait = TimeSpan.FromSeconds(2);

        /// <summary>Bytes per stack of a stdin feeder thread: it only calls write(2).</summary>
        private const int FeederStackSize = 64 * 1024;

        private readonly Lifeline _lifeline = new Lifeline();
        private readonly EventLoop _loop;

        public UnixPlatform()
        {
            _loop = new EventLoop(_lifeline);
        }

        public IChildHandle Spawn(string name, SpawnRequest request)
        {
            var env = ChildEnvironment.ForChild(request.Environment, name);
            var argv = new List<string>(request.Arguments.Count + 1) { request.FileName };
            argv.AddRange(request.Arguments);
            var program = new ProgramSpec(request.FileName, argv, env, request.WorkingDirectory);
            var stdio = StdioFor(request);
            SpawnResult spawned = Pid1Reaping.Spawn(() => UnixSpawner.Spawn(program, stdio, SpawnGroup.NewProcessGroup));
            return new UnixChild(spawned.Pid, spawned, request.StandardInput);
        }

        /// <summary>stdin: fed by us when there is input, else /dev/null. stdout/stderr:
        /// a redirect goes to its file, a stream without one is captured through a pipe; -UseConsole shares ours.</summary>
        private static StdioTable StdioFor(SpawnRequest request)
        {
            var stdio = new StdioTable();
            if (request.CaptureRecords)
            {
                stdio.Captured(ChildProtocol.RecordsDescriptor);
            }
            if (request.RequestsChannel)
            {
                stdio.Fed(ChildProtocol.RequestsDescriptor);
            }
            bool console = request.OutputMode == OutputMode.Console;
            if (request.StandardInput != null || request.KeepStandardInputOpen)
            {
                stdio.Fed(0);
            }
            else
            {
                // Also with -UseConsole: the child is in a background process group, where reading the terminal stops
                // it with SIGTTIN for good; /dev/null gives it EOF, as multiprocessing.Process does.
                stdio.Null(0);
            }
            if (console)
            {
                return stdio.Inherit(1).Inherit(2);
            }
            if (request.StandardOutputPath != null)
            {
                stdio.File(1, request.StandardOutputPath);
            }
            else
            {
                stdio.Captured(1);
            }
            if (request.StandardErrorPath is null)
            {
                stdio.Captured(2);
            }
            else if (request.StandardErrorPath == request.StandardOutputPath)
            {
                stdio.SameAs(2, 1);
            }
            else
            {
                stdio.File(2, request.StandardErrorPath);
            }
            return stdio;
        }

        public void ArmLifeline(IChildHandle child, string name, TimeSpan gracePeriod)
        {
            var c = (UnixChild)child;
            _lifeline.Arm(c.Id, name, gracePeriod, c.Stdout, c.Stderr, c.Records);
            c.LifelineArmed = true;
        }

        public void Discard(IChildHandle child)
        {
            var c = (UnixChild)child;
            LibC.kill(-c.Id, LibC.SIGKILL);
            Pid1Reaping.ReapDiscarding(c.Id);
            c.CloseAll();
        }

        public void Watch(IChildHandle child, IChildObserver observer)
        {
            var c = (UnixChild)child;
            _loop.Watch(c, observer);
            if (c.Stdin != null)
            {
                FeedStdin(c.Stdin, c.StandardInput ?? Array.Empty<byte>()); // not taken as a stream: a one-off payload
            }
        }

        public System.IO.Stream TakeStandardInput(IChildHandle child) => ((UnixChild)child).TakeStdin();

        public IChildHandle SpawnHost(string name, SpawnRequest request, out System.IO.Stream standardInput)
        {
            var handle = (UnixChild)Spawn(name, request);
            standardInput = handle.TakeStdin();
            return handle;
        }

        public void WatchHost(IChildHandle handle, IChildObserver host) => _loop.Watch((UnixChild)handle, host, isHost: true);

        public bool Adopt(IChildHandle handle, IChildObserver child, string name, TimeSpan? lifelineGrace)
        {
            var c = (UnixChild)handle;
            Action? arm = lifelineGrace is TimeSpan grace ? () => ArmLifeline(c, name, grace) : null;
            return _loop.Adopt(c, child, arm);
        }

        public void Release(IChildHandle handle) => _loop.Release((UnixChild)handle);

        public bool? PeekSuspended(IChildHandle child, out int signal)
        {
            signal = 0;
            if (child is not UnixChild c)
            {
                return null;
            }
            lock (c.ReapGate) // not reaped: the pid is still this child's
            {
                return c.Reaped ? null : EventLoop.StopOrContinue(c.Id, keep: true, out signal);
            }
        }

        public bool Signal(IChildHandle child, ChildSignal signal)
        {
            var c = (UnixChild)child;
            int sig = signal == ChildSignal.Kill ? LibC.SIGKILL : LibC.SIGTERM;
            lock (c.ReapGate)
            {
                if (c.Reaped)
                {
                    return false;
                }
                if (LibC.kill(-c.Id, sig) != 0)
                {
                    LibC.kill(c.Id, sig); // the child may have left its group (setsid); reach the leader at least
                }
                if (signal == ChildSignal.Terminate)
                {
                    // A stopped process (Ctrl+Z'd, or SIGTTIN from reading the terminal in the background) only acts on
                    // SIGTERM once continued; without this it would always wait out the grace period and die by SIGKILL.
                    LibC.kill(-c.Id, LibC.SIGCONT);
                }
                return true;
            }
        }

        public ISet<int> LiveProcessGroups(IReadOnlyCollection<int> processGroups)
        {
            // kill(-pgid, 0) fails with ESRCH for an empty group: the common case (the whole tree is gone) costs one
            // syscall per child and no /proc scan.
            var wanted = new HashSet<int>(processGroups.Where(pg => LibC.kill(-pg, 0) == 0));
            if (wanted.Count == 0 || !System.IO.Directory.Exists("/proc/self"))
            {
                // No /proc (macOS): kill(-pgid, 0) also counts zombies, which only makes us wait longer, never miss one.
                return wanted;
            }
            var live = new HashSet<int>();
            foreach (string dir in System.IO.Directory.EnumerateDirectories("/proc"))
            {
                string name = System.IO.Path.GetFileName(dir);
                if (name.Length == 0 || !char.IsDigit(name[0]))
                {
                    continue;
                }
                try
                {
                    // /proc/<pid>/stat: "pid (comm) state ppid pgrp ..."; comm may hold spaces, so parse after the last ')'.
                    // (Guardian.sh reads it the same way: it must work without this process.)
                    string stat = System.IO.File.ReadAllText(dir + "/stat");
                    string[] f = stat.Substring(stat.LastIndexOf(')') + 2).Split(' ');
                    if (f[0] != "Z" && int.TryParse(f[2], out int pgrp) && wanted.Contains(pgrp))
                    {
                        live.Add(pgrp);
                    }
                }
                catch (Exception e) when (e is System.IO.IOException || e is UnauthorizedAccessException)
                {
                    // the process went away while we looked, or is not ours to read
                }
            }
            return live;
        }

        public void KillGroup(int processGroup) => LibC.kill(-processGroup, LibC.SIGKILL);

        public void HandOffOutput() => _loop.RunOnLoop(_loop.HandOff, HandOffWait);

        /// <summary>posix_spawn hands the child a records pipe as fd 3.</summary>
        public bool SupportsRecordsChannel => true;

        public bool IsExecutable(string path)
        {
            IntPtr p = LibC.Utf8(path);
            try
            {
                return LibC.access((byte*)p, LibC.X_OK) == 0 && !System.IO.Directory.Exists(path);
            }
            finally
            {
                Marshal.FreeHGlobal(p);
            }
        }

        /// <summary>Writes the payload and closes stdin, off the caller's thread: a payload larger than the pipe
        /// buffer must not block Start-ChildProcess until the child reads it. A thread of its own, not the thread
        /// pool: a child that never reads its stdin blocks the write for its whole life, and pool threads blocked
        /// that way would delay every exit notification of the session.</summary>
        private static void FeedStdin(FileDescriptor stdin, byte[] data)
        {
            var feeder = new System.Threading.Thread(() =>
            {
                using (stdin)
                {
                    stdin.WriteAll(data); // false: child gone (EPIPE), nothing left to feed
                }
            }, FeederStackSize) { IsBackground = true, Name = "ProcessKit stdin feeder" };
            feeder.Start();
        }
    }
}
