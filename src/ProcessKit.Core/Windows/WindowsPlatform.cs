using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Threading;
using System.Threading.Tasks;
using Microsoft.Win32.SafeHandles;

namespace ProcessKit.Windows
{
    /// <summary>Windows behind the same seam as Unix (docs/design.md, "Windows"):
    /// <list type="bullet">
    /// <item>Spawning (<see cref="WindowsSpawner"/>): a job object per child, the child created suspended in a new
    /// console process group, assigned to its job, then resumed; only its own stdio handles are inherited.</item>
    /// <item>Daemons: their job has JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE and this process holds its only handle, so the
    /// kernel ends a daemon's whole tree when the session's process dies, however it dies (the Unix lifeline's job).
    /// </item>
    /// <item>Exit: one thread-pool wait per child on its process handle (no thread per child), then
    /// GetExitCodeProcess. Output: overlapped pipes read asynchronously (<see cref="ChildStdio"/>).</item>
    /// <item>Signals: the graceful step is CTRL_BREAK to the child's console process group, the forced one
    /// TerminateJobObject; a child ended after them reports -15 / -9, as on Unix (SPEC).</item>
    /// </list></summary>
    [SupportedOSPlatform("windows")]
    internal sealed class WindowsPlatform : IProcessPlatform
    {
        /// <summary>Once a child has exited, how long its capture pipes may take to reach end of file before the exit is
        /// published anyway. EOF comes at once unless a grandchild still holds the pipe; the wait only makes sure that
        /// what the child wrote before exiting is in the buffer by the time a waiter sees the exit.</summary>
        private static readonly TimeSpan DrainTimeout = TimeSpan.FromMilliseconds(200);

        /// <summary>Bytes per read of a capture pipe.</summary>
        private const int ReadChunk = 16 * 1024;

        /// <summary>The exit code TerminateJobObject gives the processes it ends. Never reported: a child ended by
        /// our stop steps reports -15 or -9.</summary>
        private const uint TerminatedExitCode = 1;

        /// <summary>Our handles of one child. Holding the process handle until the exit is published also guards against
        /// pid reuse: Windows does not reuse a process id (nor so the console process group id) while a handle to the
        /// process is open. The object's own lock guards <see cref="Sent"/>, <see cref="Registration"/> and
        /// <see cref="Released"/> only.</summary>
        private sealed class Tracked : IChildHandle
        {
            public Tracked(SpawnedProcess spawned, ChildStdio stdio, byte[]? standardInput)
            {
                Id = spawned.Pid;
                Process = spawned.Process;
                Job = spawned.Job;
                Stdio = stdio;
                StandardInput = standardInput;
            }

            public int Id { get; }
            public readonly SafeProcessHandle Process;
            public readonly SafeKernelHandle Job;
            public readonly ChildStdio Stdio;
            public readonly byte[]? StandardInput;
            public IChildObserver? Observer;
            public bool KeepStdin;

            /// <summary>The strongest stop step sent so far, recorded before it is sent. Windows has no "ended by signal
            /// N" in an exit status, so this is what tells -15 / -9 at exit.</summary>
            public ChildSignal? Sent;

            /// <summary>Completes when both capture pumps reached end of file (at once when nothing is captured).</summary>
            public Task Output = Task.CompletedTask;

            public WaitHandle? ExitHandle;
            public RegisteredWaitHandle? Registration;
            public bool Released;
        }

        public IChildHandle Spawn(string name, SpawnRequest request)
        {
            ChildStdio stdio = ChildStdio.Open(request);
            SpawnedProcess spawned;
            try
            {
                spawned = WindowsSpawner.Spawn(name, request, stdio);
            }
            catch
            {
                stdio.CloseParentEnds();
                throw;
            }
            finally
            {
                stdio.CloseChildEnds(); // the child has its own copies; ours would keep the pipes from reaching EOF
            }
            return new Tracked(spawned, stdio, request.StandardInput);
        }

        /// <summary>Nothing left to do: a daemon's job was created with JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE and this
        /// process holds its only handle, so the kernel ends the daemon's tree when this process dies.</summary>
        public void ArmLifeline(IChildHandle child, string name, TimeSpan gracePeriod)
        {
        }

        public void Discard(IChildHandle child)
        {
            var t = (Tracked)child;
            EndJob(t);
            t.Stdio.CloseParentEnds();
            Release(t);
        }

        public void Watch(IChildHandle child, IChildObserver observer)
        {
            var t = (Tracked)child;
            t.Observer = observer;
            t.Output = Task.WhenAll(Pump(t.Stdio.StdoutReader, observer.StandardOutput), Pump(t.Stdio.StderrReader, observer.StandardError));
            if (!t.KeepStdin)
            {
                Feed(t.Stdio.StdinWriter, t.StandardInput);
            }
            WatchExit(t);
        }

        public System.IO.Stream TakeStandardInput(IChildHandle child)
        {
            var t = (Tracked)child;
            t.KeepStdin = true;
            return t.Stdio.StdinWriter ?? throw new InvalidOperationException("the child has no stdin pipe");
        }

        public bool Signal(IChildHandle child, ChildSignal signal)
        {
            var t = (Tracked)child;
            lock (t)
            {
                if (t.Released)
                {
                    return false;
                }
                if (signal == ChildSignal.Kill || t.Sent is null)
                {
                    t.Sent = signal; // before sending: the exit may be observed before this call returns
                }
            }
            if (signal == ChildSignal.Terminate && SendCtrlBreak(t.Id))
            {
                return true;
            }
            EndJob(t);
            return true;
        }

        /// <summary>Windows has no process groups that outlive their leader in our sense: a job holds the whole tree
        /// and ending the job ends it, so nothing is ever left behind to find.</summary>
        public ISet<int> LiveProcessGroups(IReadOnlyCollection<int> processGroups) => new HashSet<int>();

        public void KillGroup(int processGroup)
        {
        }

        /// <summary>Pipes on Windows do not kill a writer whose reader is gone; nothing to hand over.</summary>
        public void HandOffOutput()
        {
        }

        /// <summary>CTRL_BREAK goes to every process of the child's console process group (CREATE_NEW_PROCESS_GROUP
        /// made the child its leader; what it starts joins the group): the nearest Windows has to SIGTERM on a process
        /// group. Default handlers exit; programs with a handler can clean up first (pwsh -NonInteractive stops its
        /// pipeline and exits). It needs the console this session shares with the child; without one it fails.</summary>
        private static bool SendCtrlBreak(int pid)
        {
            if (Kernel32.GenerateConsoleCtrlEvent(Kernel32.CTRL_BREAK_EVENT, (uint)pid))
            {
                return true;
            }
            ProcessLog.Debug($"CTRL_BREAK cannot reach process group {pid} (error {Marshal.GetLastPInvokeError()}, no shared console); ending its job instead");
            return false;
        }

        /// <summary>Ends every process in the child's job at once (SIGKILL on the group). Should the job ever refuse,
        /// the child itself is still ended.</summary>
        private static void EndJob(Tracked t)
        {
            if (!Kernel32.TerminateJobObject(t.Job, TerminatedExitCode))
            {
                ProcessLog.Debug($"TerminateJobObject failed for pid {t.Id} (error {Marshal.GetLastPInvokeError()}); terminating the process alone");
                Kernel32.TerminateProcess(t.Process, TerminatedExitCode);
            }
        }

        /// <summary>A file the Windows loader (or cmd.exe, for batch files) can start: an extension listed in PATHEXT,
        /// or when PATHEXT is unset, .exe, .com, .bat or .cmd.</summary>
        /// <summary>Not yet: a scriptblock child frames its records on stdout here.</summary>
        public bool SupportsRecordsChannel => false;

        public bool IsExecutable(string path)
        {
            if (!File.Exists(path))
            {
                return false;
            }
            string extension = Path.GetExtension(path);
            return extension.Length > 0 && ExecutableExtensions().Contains(extension, StringComparer.OrdinalIgnoreCase);
        }

        private static string[] ExecutableExtensions()
        {
            string[] fromPathExt = (Environment.GetEnvironmentVariable("PATHEXT") ?? string.Empty)
                .Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Where(e => e.StartsWith('.'))
                .ToArray();
            return fromPathExt.Length > 0 ? fromPathExt : new[] { ".exe", ".com", ".bat", ".cmd" };
        }

        /// <summary>Registers a thread-pool wait on the process handle: the pool's wait threads watch up to 63 handles
        /// each, so a hundred children cost two threads, not a hundred.</summary>
        private void WatchExit(Tracked t)
        {
            t.ExitHandle = new ProcessExitHandle(t.Process);
            RegisteredWaitHandle registration = ThreadPool.RegisterWaitForSingleObject(
                t.ExitHandle, (state, _) => OnExited((Tracked)state!), t, Timeout.Infinite, executeOnlyOnce: true);
            bool released;
            lock (t)
            {
                t.Registration = registration;
                released = t.Released;
            }
            if (released)
            {
                registration.Unregister(null); // the child exited and was published before we got here
            }
        }

        /// <summary>Lets the thread pool wait on a process handle. It does not own the handle: Release closes the
        /// process handle only after this wait has fired, so the pool never waits on a closed (or reused) handle.</summary>
        private sealed class ProcessExitHandle : WaitHandle
        {
            public ProcessExitHandle(SafeProcessHandle process)
            {
                SafeWaitHandle = new SafeWaitHandle(process.DangerousGetHandle(), ownsHandle: false);
            }
        }

        private void OnExited(Tracked t)
        {
            int? exitCode = ExitCodeOf(t);
            Task.WhenAny(t.Output, Task.Delay(DrainTimeout))
                .ContinueWith(_ => Publish(t, exitCode), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
        }

        /// <summary>-9 after our kill step, -15 after our terminate step (whether the child's CTRL_BREAK handler or
        /// the fallback TerminateJobObject ended it: Windows cannot tell a child that exited on its own in reaction to
        /// CTRL_BREAK from one ended by it, and Python's terminate() on Windows likewise always reports -SIGTERM);
        /// otherwise the exit code as the int it is (NTSTATUS crash codes such as 0xC0000005 come out negative).</summary>
        private static int? ExitCodeOf(Tracked t)
        {
            bool known = Kernel32.GetExitCodeProcess(t.Process, out uint raw);
            lock (t)
            {
                if (t.Sent == ChildSignal.Kill)
                {
                    return -(int)ChildSignal.Kill;
                }
                if (t.Sent == ChildSignal.Terminate)
                {
                    return -(int)ChildSignal.Terminate;
                }
            }
            return known ? unchecked((int)raw) : (int?)null;
        }

        private static void Publish(Tracked t, int? exitCode)
        {
            Release(t); // from here on Signal refuses it: the handles are gone
            t.Observer?.OnExited(exitCode);
        }

        /// <summary>Closes what the child held: the wait, the process handle and the job handle.
        /// A daemon's job is closed here too, when the daemon itself has exited, rather than kept until the session
        /// ends. Because of JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE that ends whatever the daemon left running in its job:
        /// a daemon's tree does not outlive the daemon (Python's multiprocessing does not let a daemonic process start children of its own),
        /// and no handle is held for a child that is gone. Processes that left the job by other means (none can break
        /// away; a service or scheduled task it asked for is not its child) are out of scope.</summary>
        private static void Release(Tracked t)
        {
            RegisteredWaitHandle? registration;
            lock (t)
            {
                if (t.Released)
                {
                    return;
                }
                t.Released = true;
                registration = t.Registration;
            }
            registration?.Unregister(null);
            t.ExitHandle?.Dispose();
            t.Process.Dispose();
            t.Job.Dispose();
        }

        private static Task Pump(FileStream? reader, OutputBuffer buffer)
        {
            if (reader is null)
            {
                buffer.Complete(); // not captured: nothing will ever arrive
                return Task.CompletedTask;
            }
            return PumpAsync(reader, buffer);
        }

        /// <summary>Reads one capture pipe until end of file (every writer, the child and anything it passed the handle
        /// to, has closed it), then flushes the last partial line.</summary>
        private static async Task PumpAsync(FileStream reader, OutputBuffer buffer)
        {
            var chunk = new byte[ReadChunk];
            try
            {
                int n;
                while ((n = await reader.ReadAsync(chunk, 0, chunk.Length).ConfigureAwait(false)) > 0)
                {
                    buffer.Append(chunk, n);
                }
            }
            catch (Exception e)
            {
                // FileStream already turns a broken pipe into end of file; anything else ends this stream's capture
                // too (there is nobody to rethrow to on this background read).
                ProcessLog.Debug($"capture pipe read ended with {e.GetType().Name}: {e.Message}");
            }
            finally
            {
                reader.Dispose();
                buffer.Complete();
            }
        }

        /// <summary>Writes the payload and closes stdin, off the caller's thread: a payload larger than the pipe buffer
        /// must not block Start-ChildProcess until the child reads it.</summary>
        private static void Feed(FileStream? writer, byte[]? data)
        {
            if (writer is null)
            {
                return;
            }
            _ = FeedAsync(writer, data ?? Array.Empty<byte>());
        }

        private static async Task FeedAsync(FileStream writer, byte[] data)
        {
            try
            {
                await writer.WriteAsync(data, 0, data.Length).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                // The child is gone or closed its stdin (ERROR_NO_DATA): nothing left to feed.
                ProcessLog.Debug($"feeding stdin ended with {e.GetType().Name}: {e.Message}");
            }
            finally
            {
                writer.Dispose(); // EOF for the child; unbuffered, so nothing is left to flush
            }
        }
    }
}
