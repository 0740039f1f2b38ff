using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.InteropServices;
using System.Threading.Tasks;

namespace ProcessKit.Unix
{
    /// <summary>Linux and macOS: posix_spawn into a new process group, a supervisor thread that reaps with
    /// waitpid, kill(-pgid) for signals, and a lifeline guardian for daemons.</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    internal sealed unsafe class UnixPlatform : ProcessPlatform
    {
        private readonly Lifeline _lifeline = new Lifeline();
        private readonly Supervisor _supervisor;
        private readonly PosixSignalRegistration? _sighup;
        private readonly PosixSignalRegistration? _sigterm;

        public UnixPlatform()
        {
            _supervisor = new Supervisor(_lifeline);
            ProcessLog.PathChanged += _lifeline.SetLogPath;
            try
            {
                // Terminal closed: not cancelled, so the runtime's default (ending the process) still follows.
                _sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, _ => OnSessionProcessEnding("the session received SIGHUP"));
                // pwsh ends on SIGTERM without raising ProcessExit; end (and log) the daemons first. Not cancelled.
                _sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, _ => OnSessionProcessEnding("the session received SIGTERM"));
            }
            catch (PlatformNotSupportedException)
            {
                _sighup = null;
                _sigterm = null;
            }
        }

        internal override ChildProcess Start(string name, SpawnRequest request, ChildTable table)
        {
            var env = ChildEnvironment.ForChild(request.Environment, name);
            var stdio = new StdioPlan
            {
                PipeStdin = request.StandardInput != null,
                // Also with -UseConsole: the child is in a background process group, where reading the terminal
                // stops it with SIGTTIN for good; /dev/null gives it EOF, as multiprocessing.Process does.
                NullStdin = true,
                Output = request.OutputMode,
                StdoutPath = request.StandardOutputPath,
                StderrPath = request.StandardErrorPath,
            };
            var argv = new List<string>(request.Arguments.Count + 1) { request.FileName };
            argv.AddRange(request.Arguments);

            LogSpawning(name, request);
            SpawnedChild spawned = Pid1Reaping.Spawn(() => UnixSpawner.Spawn(request.FileName, argv, env, request.WorkingDirectory, stdio, newSession: false));

            var child = new ChildProcess(name, spawned.Pid, request, table);
            if (request.Daemon)
            {
                // Registered before the supervisor watches (and so may reap) it, so register/unregister stay ordered.
                try
                {
                    _lifeline.Register(spawned.Pid, name, request.DaemonGracePeriod, spawned.StdoutFd, spawned.StderrFd);
                }
                catch (ChildStartException e)
                {
                    // No guardian, no daemon guarantee: undo the start rather than track a daemon that could leak.
                    LibC.kill(-spawned.Pid, LibC.SIGKILL);
                    Pid1Reaping.ReapDiscarding(spawned.Pid);
                    CloseAll(spawned);
                    throw new ChildStartException($"Cannot start daemon {name}: the lifeline guardian could not be started ({e.Message})", e.OsError);
                }
            }
            LogStarted(child);
            _supervisor.Watch(child, spawned.StdoutFd, spawned.StderrFd); // from here on its exit can be reported
            if (spawned.StdinFd >= 0)
            {
                FeedStdin(spawned.StdinFd, request.StandardInput!);
            }
            return child;
        }

        private static void CloseAll(SpawnedChild spawned)
        {
            foreach (int fd in new[] { spawned.StdinFd, spawned.StdoutFd, spawned.StderrFd })
            {
                if (fd >= 0)
                {
                    LibC.close(fd);
                }
            }
        }

        internal override void SignalGroup(ChildProcess child, ChildSignal signal)
        {
            int sig = signal == ChildSignal.Kill ? LibC.SIGKILL : LibC.SIGTERM;
            if (LibC.kill(-child.Id, sig) != 0)
            {
                LibC.kill(child.Id, sig); // the child may have left its group (setsid); reach the leader at least
            }
            if (signal == ChildSignal.Terminate)
            {
                // A stopped process (Ctrl+Z'd, or SIGTTIN from reading the terminal in the background) only acts on
                // SIGTERM once continued; without this it would always wait out the grace period and die by SIGKILL.
                LibC.kill(-child.Id, LibC.SIGCONT);
            }
        }

        internal override ISet<int> LiveProcessGroups(IReadOnlyCollection<int> pgids)
        {
            // kill(-pgid, 0) fails with ESRCH for an empty group: the common case (the whole tree is gone) costs one
            // syscall per child and no /proc scan.
            var wanted = new HashSet<int>(pgids.Where(pg => LibC.kill(-pg, 0) == 0));
            var live = new HashSet<int>();
            if (wanted.Count == 0)
            {
                return live;
            }
            if (!System.IO.Directory.Exists("/proc/self"))
            {
                // No /proc (macOS): kill(-pgid, 0) also counts zombies, which only makes us wait longer, never miss one.
                foreach (int pg in wanted)
                {
                    if (LibC.kill(-pg, 0) == 0)
                    {
                        live.Add(pg);
                    }
                }
                return live;
            }
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
                    string stat = System.IO.File.ReadAllText(dir + "/stat");
                    string[] f = stat.Substring(stat.LastIndexOf(')') + 2).Split(' ');
                    if (f[0] != "Z" && int.TryParse(f[2], out int pgrp) && wanted.Contains(pgrp))
                    {
                        live.Add(pgrp);
                    }
                }
                catch (System.IO.IOException)
                {
                    // the process went away while we looked
                }
                catch (UnauthorizedAccessException)
                {
                }
            }
            return live;
        }

        internal override void KillOrphanedGroup(int pgid) => LibC.kill(-pgid, LibC.SIGKILL);

        public override bool IsExecutable(string path)
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

        /// <summary>Bytes per stack of a stdin feeder thread: it only calls write(2).</summary>
        private const int FeederStackSize = 64 * 1024;

        /// <summary>Writes the payload and closes stdin, off the caller's thread: a payload larger than the pipe
        /// buffer must not block Start-ChildProcess until the child reads it. A thread of its own, not the thread
        /// pool: a child that never reads its stdin blocks the write for its whole life, and pool threads blocked
        /// that way would delay every exit notification of the session.</summary>
        private static void FeedStdin(int fd, byte[] data)
        {
            var feeder = new System.Threading.Thread(() =>
            {
                try
                {
                    LibC.WriteAll(fd, data); // false: child gone (EPIPE), nothing left to feed
                }
                finally
                {
                    LibC.close(fd);
                }
            }, FeederStackSize) { IsBackground = true, Name = "ProcessKit stdin feeder" };
            feeder.Start();
        }

        /// <summary>The capture pipes of non-daemon children that outlive the session go to drainers.</summary>
        protected override void HandOffOutput() => _supervisor.HandOffCaptures();
    }
}
