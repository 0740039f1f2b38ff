using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Microsoft.Win32.SafeHandles;

namespace ProcessKit.Windows
{
    /// <summary>The three standard handles of one child on Windows, as SpawnRequest asks for them (SPEC: output is
    /// captured, written to files, or shares the console). Two sets of handles:
    /// <list type="bullet">
    /// <item>the child's ends (<see cref="Input"/>, <see cref="Output"/>, <see cref="Error"/>): inheritable, listed
    /// in PROC_THREAD_ATTRIBUTE_HANDLE_LIST so that they and nothing else reach the child, and closed here as soon as
    /// CreateProcess has copied them (<see cref="CloseChildEnds"/>), or the pipes would never reach end of file;</item>
    /// <item>our ends of the pipes, as streams the platform reads and writes.</item>
    /// </list>
    /// Inheritable handles exist only between <see cref="Open"/> and <see cref="CloseChildEnds"/>. Another thread of
    /// this process calling CreateProcess with bInheritHandles and no handle list in that window (Start-Process,
    /// System.Diagnostics.Process) would also inherit them; the only effect is that a capture pipe reaches EOF when
    /// that other process exits too, and exit detection does not depend on EOF.</summary>
    [SupportedOSPlatform("windows")]
    internal sealed unsafe class ChildStdio
    {
        /// <summary>Pipe buffer per direction: a child writes this much before it waits for us to read.</summary>
        private const uint PipeBufferSize = 64 * 1024;

        private readonly List<SafeHandle> _childEnds = new List<SafeHandle>();

        private ChildStdio()
        {
        }

        /// <summary>The child's stdin, stdout and stderr, for STARTUPINFO.</summary>
        public IntPtr Input { get; private set; }
        public IntPtr Output { get; private set; }
        public IntPtr Error { get; private set; }

        /// <summary>Our end of the stdin pipe (null unless there are bytes to feed).</summary>
        public FileStream? StdinWriter { get; private set; }

        /// <summary>Our ends of the capture pipes (null unless output is captured).</summary>
        public FileStream? StdoutReader { get; private set; }
        public FileStream? StderrReader { get; private set; }

        /// <summary>The handles the child inherits: each once (a handle listed twice is an invalid parameter).</summary>
        public IntPtr[] InheritedHandles => new[] { Input, Output, Error }.Distinct().ToArray();

        /// <summary>Opens everything the request asks for; on failure closes what was opened and throws
        /// <see cref="ChildStartException"/> with the OS reason.</summary>
        public static ChildStdio Open(SpawnRequest request)
        {
            var stdio = new ChildStdio();
            try
            {
                stdio.OpenInput(request);
                stdio.OpenOutputs(request);
                return stdio;
            }
            catch
            {
                stdio.CloseChildEnds();
                stdio.CloseParentEnds();
                throw;
            }
        }

        /// <summary>After CreateProcess (whether it succeeded or not): the child holds its own copies now.</summary>
        public void CloseChildEnds()
        {
            foreach (SafeHandle handle in _childEnds)
            {
                handle.Dispose();
            }
            _childEnds.Clear();
        }

        /// <summary>When no child was started: our pipe ends have nobody at the other side.</summary>
        public void CloseParentEnds()
        {
            StdinWriter?.Dispose();
            StdoutReader?.Dispose();
            StderrReader?.Dispose();
        }

        private void OpenInput(SpawnRequest request)
        {
            if (request.StandardInput != null || request.KeepStandardInputOpen || request.RequestsChannel) // no fd 4 here: stdin
            {
                (StdinWriter, Input) = CreatePipe(childWrites: false);
            }
            else if (request.OutputMode == OutputMode.Console)
            {
                Input = SessionHandle(Kernel32.STD_INPUT_HANDLE);
            }
            else
            {
                Input = NullDevice();
            }
        }

        private void OpenOutputs(SpawnRequest request)
        {
            switch (request.OutputMode)
            {
                case OutputMode.Capture:
                case OutputMode.File:
                    // A stream with a path goes to its file; a stream without one is captured, as on Unix.
                    string? outPath = request.StandardOutputPath;
                    string? errPath = request.StandardErrorPath;
                    if (outPath is null)
                    {
                        (StdoutReader, Output) = CreatePipe(childWrites: true);
                    }
                    else
                    {
                        Output = OutputFile(outPath);
                    }
                    if (errPath is null)
                    {
                        (StderrReader, Error) = CreatePipe(childWrites: true);
                    }
                    else
                    {
                        Error = outPath != null && SamePath(outPath, errPath) ? Output // one handle, one file position: no overwriting
                            : OutputFile(errPath);
                    }
                    break;
                default:
                    Output = SessionHandle(Kernel32.STD_OUTPUT_HANDLE);
                    Error = SessionHandle(Kernel32.STD_ERROR_HANDLE);
                    break;
            }
        }

        /// <summary>A pipe whose end in this process is overlapped, so the streams read and write it with real
        /// asynchronous I/O: no thread blocks per child (an anonymous pipe from CreatePipe cannot be overlapped, and
        /// blocking reads on the thread pool would starve the pool that also delivers exit notifications). The child's
        /// end is an ordinary synchronous handle, as programs expect. This is how libuv and Rust's std build their
        /// child pipes: a uniquely named pipe with a single instance (FILE_FLAG_FIRST_PIPE_INSTANCE: nobody can have
        /// created it before us), local clients only, connected at once by opening its other end.</summary>
        private (FileStream Ours, IntPtr Theirs) CreatePipe(bool childWrites)
        {
            string name = $@"\\.\pipe\ProcessKit-{Environment.ProcessId}-{Guid.NewGuid():N}";
            uint openMode = (childWrites ? Kernel32.PIPE_ACCESS_INBOUND : Kernel32.PIPE_ACCESS_OUTBOUND)
                | Kernel32.FILE_FLAG_FIRST_PIPE_INSTANCE | Kernel32.FILE_FLAG_OVERLAPPED;
            uint pipeMode = Kernel32.PIPE_TYPE_BYTE | Kernel32.PIPE_READMODE_BYTE | Kernel32.PIPE_WAIT | Kernel32.PIPE_REJECT_REMOTE_CLIENTS;
            SafeFileHandle ours = Kernel32.CreateNamedPipeW(name, openMode, pipeMode, 1, PipeBufferSize, PipeBufferSize, 0, IntPtr.Zero);
            if (ours.IsInvalid)
            {
                int error = Marshal.GetLastPInvokeError();
                ours.Dispose();
                throw Failure("Cannot create a pipe for the child's standard streams", error);
            }
            FileStream stream;
            try
            {
                stream = new FileStream(ours, childWrites ? FileAccess.Read : FileAccess.Write, bufferSize: 0, isAsync: true);
            }
            catch
            {
                ours.Dispose();
                throw;
            }
            try
            {
                // The attribute rights let the child query and set its end's pipe mode, as some runtimes do.
                uint access = (childWrites ? Kernel32.GENERIC_WRITE : Kernel32.GENERIC_READ)
                    | Kernel32.FILE_READ_ATTRIBUTES | Kernel32.FILE_WRITE_ATTRIBUTES;
                IntPtr theirs = OpenInheritable(name, access, 0, Kernel32.OPEN_EXISTING, "Cannot connect the child's end of a pipe");
                return (stream, theirs);
            }
            catch
            {
                stream.Dispose();
                throw;
            }
        }

        /// <summary>The NUL device: reads give end of file, writes vanish (Unix: /dev/null).</summary>
        private IntPtr NullDevice() =>
            OpenInheritable("NUL", Kernel32.GENERIC_READ | Kernel32.GENERIC_WRITE, Kernel32.FILE_SHARE_READ | Kernel32.FILE_SHARE_WRITE,
                Kernel32.OPEN_EXISTING, "Cannot open the NUL device");

        /// <summary>A redirect target, created or truncated as on Unix (O_TRUNC). The cmdlets name the null device
        /// "NUL", or "/dev/null" as the Unix code writes it.</summary>
        private IntPtr OutputFile(string path)
        {
            if (path == "/dev/null" || string.Equals(path, "NUL", StringComparison.OrdinalIgnoreCase))
            {
                return NullDevice();
            }
            return OpenInheritable(path, Kernel32.GENERIC_WRITE, Kernel32.FILE_SHARE_READ | Kernel32.FILE_SHARE_WRITE | Kernel32.FILE_SHARE_DELETE,
                Kernel32.CREATE_ALWAYS, $"Cannot open '{path}' for the child's output");
        }

        private static bool SamePath(string a, string b)
        {
            try
            {
                return string.Equals(Path.GetFullPath(a), Path.GetFullPath(b), StringComparison.OrdinalIgnoreCase);
            }
            catch (Exception e) when (e is ArgumentException || e is NotSupportedException || e is PathTooLongException)
            {
                return string.Equals(a, b, StringComparison.OrdinalIgnoreCase);
            }
        }

        /// <summary>One of this session's own standard handles (Unix: the inherited descriptor), duplicated as an
        /// inheritable copy: the session's handle itself is neither changed nor listed. A session without that
        /// handle (a service, a GUI host) gives the child NUL instead of an invalid handle.</summary>
        private IntPtr SessionHandle(int which)
        {
            IntPtr own = Kernel32.GetStdHandle(which);
            if (own == IntPtr.Zero || own == new IntPtr(-1))
            {
                return NullDevice();
            }
            IntPtr self = Kernel32.GetCurrentProcess();
            if (!Kernel32.DuplicateHandle(self, own, self, out IntPtr copy, 0, bInheritHandle: true, Kernel32.DUPLICATE_SAME_ACCESS))
            {
                ProcessLog.Debug($"cannot duplicate the session's standard handle {which} (error {Marshal.GetLastPInvokeError()}); the child gets NUL");
                return NullDevice();
            }
            _childEnds.Add(new SafeKernelHandle(copy));
            return copy;
        }

        private IntPtr OpenInheritable(string path, uint access, uint share, uint disposition, string what)
        {
            var inherit = new Kernel32.SECURITY_ATTRIBUTES
            {
                nLength = sizeof(Kernel32.SECURITY_ATTRIBUTES),
                bInheritHandle = 1,
            };
            SafeFileHandle handle = Kernel32.CreateFileW(path, access, share, &inherit, disposition, Kernel32.FILE_ATTRIBUTE_NORMAL, IntPtr.Zero);
            if (handle.IsInvalid)
            {
                int error = Marshal.GetLastPInvokeError();
                handle.Dispose();
                throw Failure(what, error);
            }
            _childEnds.Add(handle);
            return handle.DangerousGetHandle(); // valid while _childEnds holds it, i.e. until CloseChildEnds
        }

        internal static ChildStartException Failure(string what, int error) =>
            new ChildStartException($"{what}: {new Win32Exception(error).Message}", error);
    }
}
