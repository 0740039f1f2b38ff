using System;
using System.Runtime.InteropServices;

namespace ProcessKit.Unix
{
    /// <summary>Every libc call ProcessKit makes, in one place, named as the OS names them.
    /// Constants that differ between Linux (glibc/musl) and macOS are resolved once here.</summary>
    internal static unsafe class LibC
    {
        private const string Lib = "libc";

        internal static readonly bool IsMacOS = RuntimeInformation.IsOSPlatform(OSPlatform.OSX);

        // posix_spawnattr flags: SETPGROUP/SETSIGDEF/SETSIGMASK agree; SETSID does not (0x80 glibc, 0x400 macOS).
        internal const short POSIX_SPAWN_SETPGROUP = 0x02;
        internal const short POSIX_SPAWN_SETSIGDEF = 0x04;
        internal const short POSIX_SPAWN_SETSIGMASK = 0x08;
        internal static readonly short POSIX_SPAWN_SETSID = IsMacOS ? (short)0x400 : (short)0x80;
        /// <summary>macOS only: close every descriptor not named in the file actions.</summary>
        internal const short POSIX_SPAWN_CLOEXEC_DEFAULT = 0x4000;

        internal const int O_RDONLY = 0;
        internal const int O_WRONLY = 1;
        internal static readonly int O_CREAT = IsMacOS ? 0x200 : 0x40;
        internal static readonly int O_TRUNC = IsMacOS ? 0x400 : 0x200;
        internal static readonly int O_CLOEXEC = IsMacOS ? 0x1000000 : 0x80000;
        internal static readonly int O_NONBLOCK = IsMacOS ? 0x4 : 0x800;

        internal const int WNOHANG = 1;
        internal static readonly int WEXITED = 4;
        internal static readonly int WNOWAIT = IsMacOS ? 0x20 : 0x01000000;
        internal const int P_PID = 1;
        /// <summary>Offset of si_pid in siginfo_t (after si_signo, si_errno, si_code; 64-bit Linux pads to 16).</summary>
        internal static readonly int SiginfoPidOffset = IsMacOS ? 12 : 16;
        /// <summary>si_code follows si_signo and si_errno; si_status follows si_pid and si_uid.</summary>
        internal const int SiginfoCodeOffset = 8;
        internal static readonly int SiginfoStatusOffset = SiginfoPidOffset + 8;
        /// <summary>waitid: report a child stopped by a signal (job control) / continued by SIGCONT.</summary>
        internal static readonly int WSTOPPED = IsMacOS ? 0x08 : 2;
        internal static readonly int WCONTINUED = IsMacOS ? 0x10 : 8;
        internal const int CLD_STOPPED = 5;
        internal const int CLD_CONTINUED = 6;
        internal const int SiginfoSize = 128;

        internal const int SIGKILL = 9;
        internal const int SIGTERM = 15;
        internal static readonly int SIGSTOP = IsMacOS ? 17 : 19;
        internal static readonly int SIGCONT = IsMacOS ? 19 : 18;

        internal const int F_SETFD = 2;
        internal const int F_GETFL = 3;
        internal const int F_SETFL = 4;
        internal const int FD_CLOEXEC = 1;
        /// <summary>fcntl: duplicate to the lowest free descriptor at or above the argument, close-on-exec.</summary>
        internal static readonly int F_DUPFD_CLOEXEC = IsMacOS ? 67 : 1030;

        internal const short POLLIN = 0x1;

        internal const int ENOENT = 2;
        internal const int EINTR = 4;
        internal const int ECHILD = 10;
        internal const int X_OK = 1;

        /// <summary>Opaque posix_spawn types are allocated generously: glibc's attr is 336 bytes, macOS's a pointer.</summary>
        internal const int OpaqueSize = 1024;
        internal const int SigsetSize = 256;

        [StructLayout(LayoutKind.Sequential)]
        internal struct PollFd
        {
            public int Fd;
            public short Events;
            public short Revents;
        }

        [DllImport(Lib, SetLastError = true)]
        internal static extern int posix_spawn(out int pid, byte* path, IntPtr fileActions, IntPtr attr, IntPtr* argv, IntPtr* envp);

        [DllImport(Lib)]
        internal static extern int posix_spawn_file_actions_init(IntPtr fileActions);

        [DllImport(Lib)]
        internal static extern int posix_spawn_file_actions_destroy(IntPtr fileActions);

        [DllImport(Lib)]
        internal static extern int posix_spawn_file_actions_adddup2(IntPtr fileActions, int fd, int newFd);

        [DllImport(Lib)]
        internal static extern int posix_spawn_file_actions_addopen(IntPtr fileActions, int fd, byte* path, int oflag, int mode);

        /// <summary>glibc 2.29+, macOS 10.15+.</summary>
        [DllImport(Lib)]
        internal static extern int posix_spawn_file_actions_addchdir_np(IntPtr fileActions, byte* path);

        /// <summary>glibc 2.34+: close every descriptor from <paramref name="lowFd"/> up in the child.</summary>
        [DllImport(Lib)]
        internal static extern int posix_spawn_file_actions_addclosefrom_np(IntPtr fileActions, int lowFd);

        [DllImport(Lib)]
        internal static extern int posix_spawn_file_actions_addclose(IntPtr fileActions, int fd);

        [DllImport(Lib)]
        internal static extern int posix_spawnattr_init(IntPtr attr);

        [DllImport(Lib)]
        internal static extern int posix_spawnattr_destroy(IntPtr attr);

        [DllImport(Lib)]
        internal static extern int posix_spawnattr_setflags(IntPtr attr, short flags);

        [DllImport(Lib)]
        internal static extern int posix_spawnattr_setpgroup(IntPtr attr, int pgroup);

        [DllImport(Lib)]
        internal static extern int posix_spawnattr_setsigmask(IntPtr attr, IntPtr sigmask);

        [DllImport(Lib)]
        internal static extern int posix_spawnattr_setsigdefault(IntPtr attr, IntPtr sigdefault);

        [DllImport(Lib)]
        internal static extern int sigemptyset(IntPtr set);

        [DllImport(Lib)]
        internal static extern int sigfillset(IntPtr set);

        [DllImport(Lib)]
        internal static extern int sigdelset(IntPtr set, int signo);

        internal const int EPOLL_CLOEXEC = 0x80000;
        internal const int EPOLL_CTL_ADD = 1;
        internal const int EPOLL_CTL_DEL = 2;
        internal const uint EPOLLIN = 0x1;

        /// <summary>struct epoll_event is packed on x86-64 (12 bytes, data at 4) and naturally aligned elsewhere (16
        /// bytes, data at 8); it is handled as bytes with these offsets.</summary>
        internal static readonly int EpollEventSize = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;
        internal static readonly int EpollDataOffset = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 4 : 8;

        [DllImport(Lib, SetLastError = true)]
        internal static extern int epoll_create1(int flags);

        [DllImport(Lib, SetLastError = true)]
        internal static extern int epoll_ctl(int epfd, int op, int fd, byte* ev);

        [DllImport(Lib, SetLastError = true)]
        internal static extern int epoll_wait(int epfd, byte* events, int maxEvents, int timeout);

        /// <summary>pidfd_open(2)'s number: Linux 5.3 gave it one number on every architecture (the unified table).</summary>
        private const long SYS_pidfd_open = 434;

        [DllImport(Lib, EntryPoint = "syscall", SetLastError = true)]
        private static extern long syscall_pidfd_open(long number, int pid, uint flags);

        /// <summary>A descriptor that polls readable once <paramref name="pid"/> (our unreaped child) has exited; -1
        /// where the kernel has none (before Linux 5.3, macOS: ENOSYS) or on EMFILE. Close-on-exec by definition.</summary>
        internal static int pidfd_open(int pid) => IsMacOS ? -1 : (int)syscall_pidfd_open(SYS_pidfd_open, pid, 0);

        /// <summary>Linux only (macOS has no pipe2).</summary>
        [DllImport(Lib, SetLastError = true)]
        internal static extern int pipe2(int* fds, int flags);

        [DllImport(Lib, SetLastError = true)]
        internal static extern int pipe(int* fds);

        /// <summary>Declared with a fixed third int: fine on x86-64 and Linux arm64; see docs/design.md for macOS arm64.</summary>
        [DllImport(Lib, SetLastError = true)]
        internal static extern int fcntl(int fd, int cmd, int arg);

        [DllImport(Lib, SetLastError = true)]
        internal static extern int close(int fd);

        [DllImport(Lib, SetLastError = true)]
        internal static extern nint read(int fd, byte* buf, nint count);

        [DllImport(Lib, SetLastError = true)]
        internal static extern nint write(int fd, byte* buf, nint count);

        [DllImport(Lib, SetLastError = true)]
        internal static extern int poll(PollFd* fds, nuint nfds, int timeout);

        [DllImport(Lib, SetLastError = true)]
        internal static extern int waitpid(int pid, out int status, int options);

        [DllImport(Lib, SetLastError = true)]
        internal static extern int waitid(int idtype, int id, byte* infop, int options);

        [DllImport(Lib, SetLastError = true)]
        internal static extern int kill(int pid, int sig);

        [DllImport(Lib, SetLastError = true)]
        internal static extern int access(byte* path, int mode);

        /// <summary>access(2) on a managed path (UTF-8).</summary>
        [DllImport(Lib, SetLastError = true, EntryPoint = "access")]
        internal static extern int access([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int mode);

        /// <summary>open(2) without O_CREAT, so without the variadic mode argument.</summary>
        [DllImport(Lib, SetLastError = true)]
        internal static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

        internal static string ErrorText(int errno) => Marshal.GetPInvokeErrorMessage(errno);

        /// <summary>A pipe whose both ends close on exec, so no other child inherits them by accident.</summary>
        internal static void CreatePipe(out int readFd, out int writeFd, bool nonBlocking = false)
        {
            int* fds = stackalloc int[2];
            if (!IsMacOS)
            {
                if (pipe2(fds, O_CLOEXEC | (nonBlocking ? O_NONBLOCK : 0)) != 0)
                {
                    throw new ChildStartException("pipe2 failed: " + ErrorText(Marshal.GetLastPInvokeError()), Marshal.GetLastPInvokeError());
                }
            }
            else
            {
                if (pipe(fds) != 0)
                {
                    throw new ChildStartException("pipe failed: " + ErrorText(Marshal.GetLastPInvokeError()), Marshal.GetLastPInvokeError());
                }
                for (int i = 0; i < 2; i++)
                {
                    fcntl(fds[i], F_SETFD, FD_CLOEXEC);
                    if (nonBlocking)
                    {
                        fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL, 0) | O_NONBLOCK);
                    }
                }
            }
            readFd = fds[0];
            writeFd = fds[1];
        }

        /// <summary>write(2) until everything is written; false on an error other than EINTR (e.g. EPIPE).</summary>
        internal static bool WriteAll(int fd, byte[] data)
        {
            fixed (byte* b = data)
            {
                int off = 0;
                while (off < data.Length)
                {
                    nint n = write(fd, b + off, data.Length - off);
                    if (n < 0)
                    {
                        if (Marshal.GetLastPInvokeError() == EINTR)
                        {
                            continue;
                        }
                        return false;
                    }
                    off += (int)n;
                }
            }
            return true;
        }

        /// <summary>NUL-terminated UTF-8 in unmanaged memory; the caller frees it with Marshal.FreeHGlobal.</summary>
        internal static IntPtr Utf8(string value)
        {
            if (value.IndexOf('\0') >= 0)
            {
                throw new ChildStartException($"The string '{value.Replace("\0", "\\0")}' contains a NUL character, which no program can receive.");
            }
            byte[] bytes = System.Text.Encoding.UTF8.GetBytes(value);
            IntPtr p = Marshal.AllocHGlobal(bytes.Length + 1);
            Marshal.Copy(bytes, 0, p, bytes.Length);
            ((byte*)p)[bytes.Length] = 0;
            return p;
        }
    }
}
