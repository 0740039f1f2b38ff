using System;
using System.Runtime.InteropServices;

namespace ProcessKit.Unix
{
    /// <summary>An owned POSIX file descriptor. A SafeHandle, so a descriptor is closed exactly once and never while
    /// another thread is in a read or write on it (the reference count defers the close): a number that was closed
    /// and reused by the OS can never be written to by mistake.</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    internal sealed unsafe class FileDescriptor : SafeHandle
    {
        public FileDescriptor(int fd)
            : base(new IntPtr(-1), ownsHandle: true)
        {
            SetHandle(new IntPtr(fd));
        }

        public override bool IsInvalid => handle.ToInt64() < 0;

        /// <summary>The number, for poll(2) and posix_spawn file actions. Only valid while the owner keeps it open.</summary>
        public int Number => (int)handle.ToInt64();

        protected override bool ReleaseHandle() => LibC.close(Number) == 0;

        /// <summary>A pipe whose both ends close on exec, so no other child inherits them by accident.</summary>
        public static (FileDescriptor Read, FileDescriptor Write) Pipe(bool nonBlocking = false)
        {
            LibC.CreatePipe(out int r, out int w, nonBlocking);
            return (new FileDescriptor(r), new FileDescriptor(w));
        }

        /// <summary>write(2) until everything is written; false once the descriptor is closed or on an error other than
        /// EINTR (e.g. EPIPE: the reader is gone).</summary>
        public bool WriteAll(byte[] data)
        {
            bool added = false;
            try
            {
                DangerousAddRef(ref added);
                return LibC.WriteAll(Number, data);
            }
            catch (ObjectDisposedException)
            {
                return false;
            }
            finally
            {
                if (added)
                {
                    DangerousRelease();
                }
            }
        }

        /// <summary>One read(2) into <paramref name="buffer"/>: bytes read, 0 at end of file, -1 on error (errno in
        /// <paramref name="errno"/>).</summary>
        public int Read(byte[] buffer, out int errno)
        {
            bool added = false;
            try
            {
                DangerousAddRef(ref added);
                fixed (byte* b = buffer)
                {
                    nint got = LibC.read(Number, b, buffer.Length);
                    errno = got < 0 ? Marshal.GetLastPInvokeError() : 0;
                    return (int)got;
                }
            }
            finally
            {
                if (added)
                {
                    DangerousRelease();
                }
            }
        }
    }
}
