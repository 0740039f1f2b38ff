using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;

namespace ProcessKit.Unix
{
    /// <summary>The descriptors the parent keeps of a freshly spawned child (-1 where none).</summary>
    internal readonly struct SpawnedChild
    {
        public SpawnedChild(int pid, int stdinFd, int stdoutFd, int stderrFd, int recordsFd = -1)
        {
            Pid = pid;
            StdinFd = stdinFd;
            StdoutFd = stdoutFd;
            StderrFd = stderrFd;
            RecordsFd = recordsFd;
        }

        public int Pid { get; }
        public int StdinFd { get; }
        public int StdoutFd { get; }
        public int StderrFd { get; }
        /// <summary>Read end of the records pipe (the child's fd 3), or -1.</summary>
        public int RecordsFd { get; }
    }

    /// <summary>How the child's three standard descriptors are set up.</summary>
    internal sealed class StdioPlan
    {
        public bool PipeStdin { get; set; }
        /// <summary>A descriptor of ours that becomes the child's stdin (-1: none).</summary>
        public int StdinFrom { get; set; } = -1;
        /// <summary>Give the child /dev/null as stdin (otherwise it shares the session's).</summary>
        public bool NullStdin { get; set; } = true;
        public OutputMode Output { get; set; } = OutputMode.Capture;
        public string? StdoutPath { get; set; }
        public string? StderrPath { get; set; }
        /// <summary>A pipe whose write end is the child's fd 3 (a scriptblock child's protocol frames); the extra
        /// inputs then start at fd 4.</summary>
        public bool RecordsPipe { get; set; }
        /// <summary>Descriptors handed to the child as fds 3, 4, … (-1: /dev/null in that place).</summary>
        public IReadOnlyList<int> ExtraInputs { get; set; } = Array.Empty<int>();
    }

    /// <summary>posix_spawn, as libuv and Rust std use it: no fork() from managed code. The child gets its own
    /// process group (or session), an empty signal mask and default dispositions, and only the descriptors
    /// named here; everything of ours is close-on-exec.</summary>
    internal static unsafe class UnixSpawner
    {
        private const int NewFileMode = 0x1A4; // 0644

        public static SpawnedChild Spawn(string path, IReadOnlyList<string> argv, IEnumerable<KeyValuePair<string, string>> environment,
            string? workingDirectory, StdioPlan stdio, bool newSession)
        {
            var allocations = new List<IntPtr>();
            var parentEnds = new List<int>();
            var childEnds = new List<int>();
            IntPtr fileActions = Marshal.AllocHGlobal(LibC.OpaqueSize);
            IntPtr attr = Marshal.AllocHGlobal(LibC.OpaqueSize);
            IntPtr sigmask = Marshal.AllocHGlobal(LibC.SigsetSize);
            IntPtr sigdefault = Marshal.AllocHGlobal(LibC.SigsetSize);
            bool actionsInit = false, attrInit = false, ok = false;
            int stdinW = -1, stdoutR = -1, stderrR = -1, recordsR = -1;
            try
            {
                IntPtr pathPtr = Track(allocations, LibC.Utf8(path));
                IntPtr argvBlock = Track(allocations, Marshal.AllocHGlobal(IntPtr.Size * (argv.Count + 1)));
                IntPtr* argvPtr = (IntPtr*)argvBlock;
                for (int i = 0; i < argv.Count; i++)
                {
                    argvPtr[i] = Track(allocations, LibC.Utf8(argv[i]));
                }
                argvPtr[argv.Count] = IntPtr.Zero;

                var envList = new List<IntPtr>();
                foreach (var kv in environment)
                {
                    envList.Add(Track(allocations, LibC.Utf8(kv.Key + "=" + kv.Value)));
                }
                IntPtr envBlock = Track(allocations, Marshal.AllocHGlobal(IntPtr.Size * (envList.Count + 1)));
                IntPtr* envPtr = (IntPtr*)envBlock;
                for (int i = 0; i < envList.Count; i++)
                {
                    envPtr[i] = envList[i];
                }
                envPtr[envList.Count] = IntPtr.Zero;

                Check(LibC.posix_spawn_file_actions_init(fileActions), "posix_spawn_file_actions_init");
                actionsInit = true;
                Check(LibC.posix_spawnattr_init(attr), "posix_spawnattr_init");
                attrInit = true;

                // stdin
                if (stdio.PipeStdin)
                {
                    LibC.CreatePipe(out int r, out stdinW);
                    childEnds.Add(r);
                    parentEnds.Add(stdinW);
                    Check(LibC.posix_spawn_file_actions_adddup2(fileActions, r, 0), "adddup2(stdin)");
                }
                else if (stdio.StdinFrom >= 0)
                {
                    Check(LibC.posix_spawn_file_actions_adddup2(fileActions, stdio.StdinFrom, 0), "adddup2(stdin)");
                }
                else if (stdio.NullStdin)
                {
                    AddOpen(fileActions, allocations, 0, "/dev/null", LibC.O_RDONLY);
                }

                // stdout / stderr: a stream with a path goes to its file, one without is captured through a pipe;
                // in Console mode both stay the session's.
                if (stdio.Output != OutputMode.Console)
                {
                    int flags = LibC.O_WRONLY | LibC.O_CREAT | LibC.O_TRUNC;
                    if (stdio.StdoutPath != null)
                    {
                        AddOpen(fileActions, allocations, 1, stdio.StdoutPath, flags);
                    }
                    else
                    {
                        stdoutR = AddCapturePipe(fileActions, 1, parentEnds, childEnds);
                    }
                    if (stdio.StderrPath == null)
                    {
                        stderrR = AddCapturePipe(fileActions, 2, parentEnds, childEnds);
                    }
                    else if (stdio.StderrPath == stdio.StdoutPath)
                    {
                        Check(LibC.posix_spawn_file_actions_adddup2(fileActions, 1, 2), "adddup2(stderr)");
                    }
                    else
                    {
                        AddOpen(fileActions, allocations, 2, stdio.StderrPath, flags);
                    }
                }

                int firstExtra = 3;
                if (stdio.RecordsPipe)
                {
                    recordsR = AddCapturePipe(fileActions, 3, parentEnds, childEnds);
                    firstExtra = 4;
                }
                for (int i = 0; i < stdio.ExtraInputs.Count; i++)
                {
                    int target = firstExtra + i;
                    if (stdio.ExtraInputs[i] >= 0)
                    {
                        Check(LibC.posix_spawn_file_actions_adddup2(fileActions, stdio.ExtraInputs[i], target), $"adddup2({target})");
                    }
                    else
                    {
                        AddOpen(fileActions, allocations, target, "/dev/null", LibC.O_RDONLY);
                    }
                }

                if (!LibC.IsMacOS)
                {
                    CloseInheritedDescriptors(fileActions, firstExtra + stdio.ExtraInputs.Count);
                }

                if (workingDirectory != null)
                {
                    IntPtr wd = Track(allocations, LibC.Utf8(workingDirectory));
                    Check(LibC.posix_spawn_file_actions_addchdir_np(fileActions, (byte*)wd), "addchdir");
                }

                // Signals: nothing blocked, every catchable signal back to default (.NET installs handlers the
                // child must not inherit as "ignored"); SIGKILL/SIGSTOP cannot be in the set.
                LibC.sigemptyset(sigmask);
                LibC.sigfillset(sigdefault);
                LibC.sigdelset(sigdefault, LibC.SIGKILL);
                LibC.sigdelset(sigdefault, LibC.SIGSTOP);
                Check(LibC.posix_spawnattr_setsigmask(attr, sigmask), "setsigmask");
                Check(LibC.posix_spawnattr_setsigdefault(attr, sigdefault), "setsigdefault");
                short spawnFlags = (short)(LibC.POSIX_SPAWN_SETSIGMASK | LibC.POSIX_SPAWN_SETSIGDEF);
                if (newSession)
                {
                    spawnFlags |= LibC.POSIX_SPAWN_SETSID;
                }
                else
                {
                    // Own process group: Ctrl+C at the prompt does not reach it, and Stop signals its whole tree.
                    spawnFlags |= LibC.POSIX_SPAWN_SETPGROUP;
                    Check(LibC.posix_spawnattr_setpgroup(attr, 0), "setpgroup");
                }
                if (LibC.IsMacOS)
                {
                    spawnFlags |= LibC.POSIX_SPAWN_CLOEXEC_DEFAULT;
                }
                Check(LibC.posix_spawnattr_setflags(attr, spawnFlags), "setflags");

                int rc = LibC.posix_spawn(out int pid, (byte*)pathPtr, fileActions, attr, argvPtr, envPtr);
                if (rc != 0)
                {
                    throw new ChildStartException($"Cannot start '{path}': {LibC.ErrorText(rc)}.", rc);
                }
                ok = true;
                return new SpawnedChild(pid, stdinW, stdoutR, stderrR, recordsR);
            }
            finally
            {
                foreach (int fd in childEnds)
                {
                    LibC.close(fd);
                }
                if (!ok)
                {
                    foreach (int fd in parentEnds)
                    {
                        LibC.close(fd);
                    }
                }
                if (actionsInit)
                {
                    LibC.posix_spawn_file_actions_destroy(fileActions);
                }
                if (attrInit)
                {
                    LibC.posix_spawnattr_destroy(attr);
                }
                Marshal.FreeHGlobal(fileActions);
                Marshal.FreeHGlobal(attr);
                Marshal.FreeHGlobal(sigmask);
                Marshal.FreeHGlobal(sigdefault);
                foreach (var p in allocations)
                {
                    Marshal.FreeHGlobal(p);
                }
            }
        }

        /// <summary>A pipe whose write end becomes the child's <paramref name="target"/>; returns our read end.</summary>
        private static int AddCapturePipe(IntPtr fileActions, int target, List<int> parentEnds, List<int> childEnds)
        {
            LibC.CreatePipe(out int readEnd, out int writeEnd);
            parentEnds.Add(readEnd);
            childEnds.Add(writeEnd);
            Check(LibC.posix_spawn_file_actions_adddup2(fileActions, writeEnd, target), $"adddup2({target})");
            return readEnd;
        }

        private static bool _noCloseFrom;

        /// <summary>Descriptors the host opened without close-on-exec (pwsh has a few) must not reach the child:
        /// after the dup2s, close everything from 3 up. glibc 2.34+ does it in one action; older libcs get one
        /// close action per descriptor listed in /proc/self/fd. (macOS uses POSIX_SPAWN_CLOEXEC_DEFAULT instead.)</summary>
        private static void CloseInheritedDescriptors(IntPtr fileActions, int lowFd)
        {
            if (!_noCloseFrom)
            {
                try
                {
                    Check(LibC.posix_spawn_file_actions_addclosefrom_np(fileActions, lowFd), "addclosefrom");
                    return;
                }
                catch (EntryPointNotFoundException)
                {
                    _noCloseFrom = true;
                }
            }
            foreach (string entry in System.IO.Directory.EnumerateFileSystemEntries("/proc/self/fd"))
            {
                if (int.TryParse(System.IO.Path.GetFileName(entry), out int fd) && fd >= lowFd)
                {
                    LibC.posix_spawn_file_actions_addclose(fileActions, fd);
                }
            }
        }

        private static void AddOpen(IntPtr fileActions, List<IntPtr> allocations, int fd, string path, int flags)
        {
            IntPtr p = Track(allocations, LibC.Utf8(path));
            Check(LibC.posix_spawn_file_actions_addopen(fileActions, fd, (byte*)p, flags, NewFileMode), $"addopen({path})");
        }

        private static IntPtr Track(List<IntPtr> allocations, IntPtr p)
        {
            allocations.Add(p);
            return p;
        }

        private static void Check(int rc, string what)
        {
            if (rc != 0)
            {
                throw new ChildStartException($"{what} failed: {LibC.ErrorText(rc)}.", rc);
            }
        }
    }
}
