using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace ProcessKit.Unix
{
    /// <summary>Ends daemons however the session's process dies, SIGKILL and crashes included.
    /// As Python's resource_tracker: each daemon gets a guardian (<c>Guardian.sh</c>) that reads a pipe whose write
    /// end only this process holds (close-on-exec, so no other child inherits it). The kernel closes that end when this
    /// process dies for any reason; the guardian sees EOF and sends SIGTERM, then SIGKILL after the daemon's grace
    /// period, to the daemon's process group.
    ///
    /// One guardian per daemon (not per session) because the guardian also holds the read ends of the daemon's
    /// captured stdout/stderr: once the session is gone nobody else reads them, and a daemon that writes while it
    /// shuts down would otherwise die of SIGPIPE before its SIGTERM handler finished. The guardian drains them.
    ///
    /// Pid reuse: "del" is written before the daemon's zombie is reaped (<see cref="Disarm"/>, called by the event loop
    /// between its WNOWAIT peek and the reap), and a pipe is ordered, so a guardian reads "del" before it could see EOF;
    /// while unreaped, the kernel cannot reuse the pid or the group id. A guardian only ever signals a group whose leader
    /// is still ours. The lock guards the two collections only; pipe writes happen outside it.</summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    internal sealed class Lifeline
    {
        private sealed class Guardian
        {
            public Guardian(int pid, FileDescriptor lifeline)
            {
                Pid = pid;
                Lifeline = lifeline;
            }

            public int Pid { get; }
            public FileDescriptor Lifeline { get; }
        }

        private readonly object _sync = new object();
        private readonly Dictionary<int, Guardian> _guardians = new Dictionary<int, Guardian>();
        private readonly List<int> _toReap = new List<int>();
        private volatile string? _logPath;

        public Lifeline()
        {
            SetLogPath(ProcessLog.Path); // logging may have been enabled before the first daemon
            ProcessLog.PathChanged += SetLogPath;
        }

        /// <summary>Starts the guardian of a daemon (process group <paramref name="processGroup"/>), giving it the
        /// daemon's capture read ends: stdout, stderr, records (null: none). Throws <see cref="ChildStartException"/> when it cannot.</summary>
        public void Arm(int processGroup, string name, TimeSpan grace, FileDescriptor? stdout, FileDescriptor? stderr, FileDescriptor? records)
        {
            int tenths = (int)Math.Max(0, Math.Ceiling(grace.TotalMilliseconds / 100.0));
            string? logPath = _logPath;
            var env = new[]
            {
                new KeyValuePair<string, string>("PK_SESSION_PID", Environment.ProcessId.ToString(CultureInfo.InvariantCulture)),
                new KeyValuePair<string, string>("PK_LOG_PREFIX", LogRecord.Prefix(LogLevel.Info, ProcessLog.SelfName)),
                new KeyValuePair<string, string>("PK_LOG_FILE", logPath ?? string.Empty),
                new KeyValuePair<string, string>("PK_DAEMON_NAME", name),
            };
            var stdio = new StdioTable().Fed(0).Null(1).Null(2).From(3, stdout).From(4, stderr).From(5, records);
            var args = new[] { processGroup.ToString(CultureInfo.InvariantCulture), tenths.ToString(CultureInfo.InvariantCulture) };
            SpawnResult spawned = ShellHelper.Start("Guardian", args, stdio, env);
            var guardian = new Guardian(spawned.Pid, spawned.Take(0)!);
            bool logChanged;
            lock (_sync)
            {
                _guardians[processGroup] = guardian;
                logChanged = _logPath != logPath;
            }
            if (logChanged)
            {
                Send(guardian, LogLine(_logPath)); // Enable-ChildProcessLog ran while it started
            }
            ProcessLog.Debug($"lifeline guardian (pid {spawned.Pid}) watches daemon {name} (process group {processGroup}, grace {grace.TotalSeconds:0.###}s)");
        }

        /// <summary>The daemon is about to be reaped: its guardian exits without acting.</summary>
        public void Disarm(int processGroup)
        {
            Guardian? guardian;
            lock (_sync)
            {
                if (_guardians.Remove(processGroup, out guardian))
                {
                    _toReap.Add(guardian.Pid);
                }
            }
            if (guardian != null)
            {
                Send(guardian, "del\n");
                guardian.Lifeline.Dispose();
            }
        }

        /// <summary>Reaps guardians that were told to leave (called by the event loop on SIGCHLD wake-ups).</summary>
        public void ReapGuardians()
        {
            int[] pending;
            lock (_sync)
            {
                if (_toReap.Count == 0)
                {
                    return;
                }
                pending = _toReap.ToArray();
            }
            var reaped = pending.Where(pid => LibC.waitpid(pid, out _, LibC.WNOHANG) != 0).ToList();
            lock (_sync)
            {
                _toReap.RemoveAll(reaped.Contains);
            }
        }

        /// <summary>Tells every guardian where to log when it acts (the file of Enable-ChildProcessLog -Path).</summary>
        private void SetLogPath(string? path)
        {
            Guardian[] guardians;
            lock (_sync)
            {
                _logPath = path != null && path.IndexOfAny(new[] { '\n', '\r' }) < 0 ? path : null;
                guardians = _guardians.Values.ToArray();
            }
            string line = LogLine(_logPath);
            foreach (var g in guardians)
            {
                Send(g, line);
            }
        }

        private static string LogLine(string? path) => path is null ? "log\n" : $"log {path}\n";

        /// <summary>False when the guardian is gone or was disarmed meanwhile: nothing to tell it then.</summary>
        private static bool Send(Guardian guardian, string line) => guardian.Lifeline.WriteAll(Encoding.UTF8.GetBytes(line));
    }
}
