using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;

namespace ProcessKit.Unix
{
    /// <summary>What to run: an absolute path, the whole argv (argv[0] included), the whole environment and a directory
    /// (null: ours).</summary>
    internal sealed class ProgramSpec
    {
        public ProgramSpec(string path, IReadOnlyList<string> argv, IEnumerable<KeyValuePair<string, string>> environment, string? workingDirectory)
        {
            Path = path;
            Argv = argv;
            Environment = environment;
            WorkingDirectory = workingDirectory;
        }

        public string Path { get; }
        public IReadOnlyList<string> Argv { get; }
        public IEnumerable<KeyValuePair<string, string>> Environment { get; }
        public string? WorkingDirectory { get; }
    }

    /// <summary>Where the child goes: its own process group (children: Ctrl+C at the prompt does not reach them, and
    /// Stop signals the whole tree) or its own session (helpers: no terminal hang-up of ours reaches them).</summary>
    internal enum SpawnGroup
    {
        NewProcessGroup,
        NewSession,
    }

    /// <summary>A spawned child: its pid and our ends of its pipes, by child descriptor.</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    internal sealed class SpawnResult
    {
        public SpawnResult(int pid, Dictionary<int, FileDescriptor> parentEnds)
        {
            Pid = pid;
            ParentEnds = parentEnds;
        }

        public int Pid { get; }

        public Dictionary<int, FileDescriptor> ParentEnds { get; }

        /// <summary>Our end of the pipe on child descriptor <paramref name="fd"/>, taken over by the caller (null: none).</summary>
        public FileDescriptor? Take(int fd) => ParentEnds.Remove(fd, out var end) ? end : null;
    }

    /// <summary>posix_spawn, as libuv and Rust std use it: no fork() from managed code. In three phases, as libuv's
    /// process.c: the attributes (group or session, an empty signal mask, default dispositions), the file actions over
    /// one <see cref="StdioTable"/> (sources that a lower dup2 could clobber are moved above the table first), then
    /// resolve and spawn. Everything of ours is close-on-exec, and the child's descriptors above the table are closed.</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    internal static unsafe class UnixSpawner
    {
        /// <summary>Mode of files created by a redirect: rw-r--r-- (before the umask), as a shell's `>`.</summary>
        private const int NewFileMode = 0x1A4; // 0644

        public static SpawnResult Spawn(ProgramSpec program, StdioTable stdio, SpawnGroup group)
        {
            using var native = new NativeBlock();
            using var attributes = new Attributes(group);
            using var actions = new FileActions(stdio, native);
            byte* path = native.Utf8(program.Path);
            IntPtr* argv = native.StringArray(program.Argv);
            IntPtr* envp = native.StringArray(EnvironmentStrings(program.Environment));
            if (program.WorkingDirectory != null)
            {
                Check(LibC.posix_spawn_file_actions_addchdir_np(actions.Handle, native.Utf8(program.WorkingDirectory)), "addchdir");
            }
            int rc = LibC.posix_spawn(out int pid, path, actions.Handle, attributes.Handle, argv, envp);
            if (rc != 0)
            {
                throw new ChildStartException($"Cannot start '{program.Path}': {LibC.ErrorText(rc)}.", rc);
            }
            return new SpawnResult(pid, actions.TakeParentEnds());
        }

        private static List<string> EnvironmentStrings(IEnumerable<KeyValuePair<string, string>> environment)
        {
            var list = new List<string>();
            foreach (var kv in environment)
            {
                list.Add(kv.Key + "=" + kv.Value);
            }
            return list;
        }

        internal static void Check(int rc, string what)
        {
            if (rc != 0)
            {
                throw new ChildStartException($"{what} failed: {LibC.ErrorText(rc)}.", rc);
            }
        }

        /// <summary>Phase 1: posix_spawnattr_t. Nothing blocked, every catchable signal back to default (.NET installs
        /// handlers the child must not inherit as "ignored"; SIGKILL/SIGSTOP cannot be in the set).</summary>
        private sealed class Attributes : IDisposable
        {
            private readonly IntPtr _sigmask = Marshal.AllocHGlobal(LibC.SigsetSize);
            private readonly IntPtr _sigdefault = Marshal.AllocHGlobal(LibC.SigsetSize);
            private readonly bool _initialized;

            public Attributes(SpawnGroup group)
            {
                Handle = Marshal.AllocHGlobal(LibC.OpaqueSize);
                Check(LibC.posix_spawnattr_init(Handle), "posix_spawnattr_init");
                _initialized = true;
                LibC.sigemptyset(_sigmask);
                LibC.sigfillset(_sigdefault);
                LibC.sigdelset(_sigdefault, LibC.SIGKILL);
                LibC.sigdelset(_sigdefault, LibC.SIGSTOP);
                Check(LibC.posix_spawnattr_setsigmask(Handle, _sigmask), "setsigmask");
                Check(LibC.posix_spawnattr_setsigdefault(Handle, _sigdefault), "setsigdefault");
                short flags = (short)(LibC.POSIX_SPAWN_SETSIGMASK | LibC.POSIX_SPAWN_SETSIGDEF);
                if (group == SpawnGroup.NewSession)
                {
                    flags |= LibC.POSIX_SPAWN_SETSID;
                }
                else
                {
                    flags |= LibC.POSIX_SPAWN_SETPGROUP;
                    Check(LibC.posix_spawnattr_setpgroup(Handle, 0), "setpgroup");
                }
                if (LibC.IsMacOS)
                {
                    flags |= LibC.POSIX_SPAWN_CLOEXEC_DEFAULT;
                }
                Check(LibC.posix_spawnattr_setflags(Handle, flags), "setflags");
            }

            public IntPtr Handle { get; }

            public void Dispose()
            {
                if (_initialized)
                {
                    LibC.posix_spawnattr_destroy(Handle);
                }
                Marshal.FreeHGlobal(Handle);
                Marshal.FreeHGlobal(_sigmask);
                Marshal.FreeHGlobal(_sigdefault);
            }
        }

        /// <summary>Phase 2: posix_spawn_file_actions_t from the stdio table. Pipes are made here; our ends are kept
        /// (and closed if the spawn fails), the child's ends are closed once the child has its copies.</summary>
        private sealed class FileActions : IDisposable
        {
            private static bool _noCloseFrom;

            private readonly NativeBlock _native;
            private readonly bool _initialized;
            private readonly List<FileDescriptor> _childEnds = new List<FileDescriptor>();
            private Dictionary<int, FileDescriptor>? _parentEnds = new Dictionary<int, FileDescriptor>();

            public FileActions(StdioTable stdio, NativeBlock native)
            {
                _native = native;
                Handle = Marshal.AllocHGlobal(LibC.OpaqueSize);
                Check(LibC.posix_spawn_file_actions_init(Handle), "posix_spawn_file_actions_init");
                _initialized = true;
                try
                {
                    Add(stdio);
                }
                catch
                {
                    Dispose();
                    throw;
                }
            }

            public IntPtr Handle { get; }

            public Dictionary<int, FileDescriptor> TakeParentEnds()
            {
                var ends = _parentEnds!;
                _parentEnds = null;
                return ends;
            }

            private void Add(StdioTable stdio)
            {
                int count = stdio.Count;
                int writeFlags = LibC.O_WRONLY | LibC.O_CREAT | LibC.O_TRUNC;
                for (int gap = 3; gap < count; gap++)
                {
                    if (!stdio.Names(gap))
                    {
                        AddOpen(gap, "/dev/null", LibC.O_RDONLY); // a hole in the table is /dev/null, never a descriptor of ours
                    }
                }
                foreach (var (fd, slot) in stdio.Slots)
                {
                    switch (slot.Kind)
                    {
                        case StdioTable.SlotKind.Null:
                            AddOpen(fd, "/dev/null", fd == 0 ? LibC.O_RDONLY : LibC.O_WRONLY);
                            break;
                        case StdioTable.SlotKind.Inherit:
                            break; // our descriptor of that number is not close-on-exec: the child shares it
                        case StdioTable.SlotKind.CapturedPipe:
                        {
                            var (read, write) = FileDescriptor.Pipe();
                            _parentEnds![fd] = read;
                            _childEnds.Add(write);
                            AddDup(HighCopy(write, count), fd);
                            break;
                        }
                        case StdioTable.SlotKind.FedPipe:
                        {
                            var (read, write) = FileDescriptor.Pipe();
                            _parentEnds![fd] = write;
                            _childEnds.Add(read);
                            AddDup(HighCopy(read, count), fd);
                            break;
                        }
                        case StdioTable.SlotKind.File:
                            AddOpen(fd, slot.Path!, writeFlags);
                            break;
                        case StdioTable.SlotKind.SameAs:
                            AddDup(slot.SameAs, fd); // the lower child descriptor is already in place
                            break;
                        case StdioTable.SlotKind.Descriptor:
                            AddDup(HighCopy(slot.Source!, count), fd);
                            break;
                    }
                }
                if (!LibC.IsMacOS)
                {
                    CloseFrom(count);
                }
            }

            /// <summary>libuv's "move low fds first": a source numbered inside the table could be overwritten by an
            /// earlier dup2 onto that number, and one equal to its target would keep close-on-exec. Such a source is
            /// duplicated above the table (close-on-exec, in this process) and the copy is used instead.</summary>
            private int HighCopy(FileDescriptor source, int count)
            {
                if (source.Number >= count)
                {
                    return source.Number;
                }
                int copy = LibC.fcntl(source.Number, LibC.F_DUPFD_CLOEXEC, count);
                if (copy < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    throw new ChildStartException($"fcntl(F_DUPFD_CLOEXEC) failed: {LibC.ErrorText(errno)}.", errno);
                }
                var owned = new FileDescriptor(copy);
                _childEnds.Add(owned);
                return copy;
            }

            private void AddDup(int source, int target) =>
                Check(LibC.posix_spawn_file_actions_adddup2(Handle, source, target), $"adddup2({target})");

            private void AddOpen(int fd, string path, int flags) =>
                Check(LibC.posix_spawn_file_actions_addopen(Handle, fd, _native.Utf8(path), flags, NewFileMode), $"addopen({path})");

            /// <summary>Descriptors the host opened without close-on-exec (pwsh has a few) must not reach the child:
            /// after the dup2s, close everything above the table. glibc 2.34+ does it in one action; older libcs get one
            /// close action per descriptor listed in /proc/self/fd. (macOS uses POSIX_SPAWN_CLOEXEC_DEFAULT instead.)</summary>
            private void CloseFrom(int lowFd)
            {
                if (!_noCloseFrom)
                {
                    try
                    {
                        Check(LibC.posix_spawn_file_actions_addclosefrom_np(Handle, lowFd), "addclosefrom");
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
                        LibC.posix_spawn_file_actions_addclose(Handle, fd);
                    }
                }
            }

            public void Dispose()
            {
                // The child has its copies (or there is no child): ours of its ends go now, and our ends too if the
                // spawn did not succeed.
                foreach (var end in _childEnds)
                {
                    end.Dispose();
                }
                _childEnds.Clear();
                if (_parentEnds != null)
                {
                    foreach (var end in _parentEnds.Values)
                    {
                        end.Dispose();
                    }
                    _parentEnds = null;
                }
                if (_initialized)
                {
                    LibC.posix_spawn_file_actions_destroy(Handle);
                }
                Marshal.FreeHGlobal(Handle);
            }
        }

        /// <summary>Unmanaged strings and arrays for one spawn, freed together.</summary>
        private sealed class NativeBlock : IDisposable
        {
            private readonly List<IntPtr> _allocations = new List<IntPtr>();

            public byte* Utf8(string value) => (byte*)Track(LibC.Utf8(value));

            public IntPtr* StringArray(IReadOnlyList<string> values)
            {
                IntPtr* array = (IntPtr*)Track(Marshal.AllocHGlobal(IntPtr.Size * (values.Count + 1)));
                for (int i = 0; i < values.Count; i++)
                {
                    array[i] = (IntPtr)Utf8(values[i]);
                }
                array[values.Count] = IntPtr.Zero;
                return array;
            }

            private IntPtr Track(IntPtr p)
            {
                _allocations.Add(p);
                return p;
            }

            public void Dispose()
            {
                foreach (var p in _allocations)
                {
                    Marshal.FreeHGlobal(p);
                }
            }
        }
    }
}
