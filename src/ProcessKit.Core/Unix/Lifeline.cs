using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace ProcessKit.Unix
{
    /// <summary>Ends daemons however the session's process dies, SIGKILL and crashes included.
    /// As Python's resource_tracker: each daemon gets a guardian process that reads a pipe whose write end only
    /// this process holds (close-on-exec, so no other child inherits it). The kernel closes that end when this
    /// process dies for any reason; the guardian sees EOF and sends SIGTERM, then SIGKILL after the daemon's grace
    /// period, to the daemon's process group.
    ///
    /// One guardian per daemon (not per session) because the guardian also holds the read ends of the daemon's
    /// captured stdout/stderr: once the session is gone nobody else reads them, and a daemon that writes while it
    /// shuts down would otherwise die of SIGPIPE before its SIGTERM handler finished. The guardian drains them.
    ///
    /// Pid reuse: "del" is written before the daemon's zombie is reaped, and a pipe is ordered, so a guardian reads
    /// "del" before it could see EOF; while unreaped, the kernel cannot reuse the pid or the group id. A guardian
    /// therefore only ever signals a group whose leader is still ours.</summary>
    internal sealed class Lifeline
    {
        /// <summary>The guardian: POSIX sh, no binary to ship. $1 = process group, $2 = grace in tenths of a second;
        /// fd 0 = the lifeline, fds 3/4 = read ends of the daemon's stdout/stderr (or /dev/null). Input lines:
        /// <c>del</c> (daemon reaped: exit quietly), <c>log PATH</c> (where to write records when it acts).</summary>
        internal const string GuardianScript = @"trap '' INT HUP QUIT PIPE TERM
pg=$1; grace=$2; logfile=
# True while the group has a member that is not a zombie (kill -0 also counts zombies, which init may be slow to reap).
alive() {
  kill -0 -""$pg"" 2>/dev/null || return 1
  [ -r /proc/self/stat ] || return 0
  for f in /proc/[0-9]*/stat; do
    read -r line < ""$f"" 2>/dev/null || continue
    set -- ${line##*) }
    [ ""$1"" != Z ] && [ ""$3"" = ""$pg"" ] && return 0
  done
  return 1
}
while read -r cmd arg; do
  case $cmd in
    del) exit 0 ;;
    log) logfile=$arg ;;
  esac
done
cat <&3 >/dev/null 2>&1 &
cat <&4 >/dev/null 2>&1 &
exec 3<&- 4<&-
[ -n ""$logfile"" ] && echo ""[INFO/$PK_SESSION_NAME] session process $PK_SESSION_PID is gone; sending SIGTERM to daemon process group $pg ($PK_DAEMON_NAME)"" >> ""$logfile""
kill -TERM -""$pg"" 2>/dev/null
t=0
while alive; do
  if [ ""$t"" -ge ""$grace"" ]; then
    [ -n ""$logfile"" ] && echo ""[INFO/$PK_SESSION_NAME] grace period expired; sending SIGKILL to what remains of daemon process group $pg ($PK_DAEMON_NAME)"" >> ""$logfile""
    kill -KILL -""$pg"" 2>/dev/null
    break
  fi
  sleep 0.1
  t=$((t+1))
done
exit 0
";

        private sealed class Guardian
        {
            public Guardian(int pid, int writeFd)
            {
                Pid = pid;
                WriteFd = writeFd;
            }

            public int Pid { get; }
            public int WriteFd { get; }
        }

        private readonly object _sync = new object();
        private readonly Dictionary<int, Guardian> _guardians = new Dictionary<int, Guardian>();
        private readonly List<int> _toReap = new List<int>();
        private string? _logPath = ProcessLog.Path; // logging may have been enabled before the first daemon

        /// <summary>Starts the guardian of a daemon (process group <paramref name="pgid"/>), giving it duplicates of
        /// the daemon's capture read ends (-1: none). Throws <see cref="ChildStartException"/> when it cannot.</summary>
        public void Register(int pgid, string name, TimeSpan grace, int stdoutFd, int stderrFd)
        {
            int tenths = (int)Math.Max(0, Math.Ceiling(grace.TotalMilliseconds / 100.0));
            var env = new List<KeyValuePair<string, string>>
            {
                HelperEnvironment.PathVariable,
                new KeyValuePair<string, string>("PK_SESSION_PID", Environment.ProcessId.ToString(CultureInfo.InvariantCulture)),
                new KeyValuePair<string, string>("PK_SESSION_NAME", ProcessLog.SelfName),
                new KeyValuePair<string, string>("PK_DAEMON_NAME", name),
                new KeyValuePair<string, string>("LC_ALL", "C"),
            };
            var stdio = new StdioPlan
            {
                PipeStdin = true,
                Output = OutputMode.File,
                StdoutPath = "/dev/null",
                StderrPath = "/dev/null",
                ExtraInputs = new[] { stdoutFd, stderrFd },
            };
            var argv = new[] { "processkit-guardian", "-c", GuardianScript, "processkit-guardian", pgid.ToString(CultureInfo.InvariantCulture), tenths.ToString(CultureInfo.InvariantCulture) };
            // Its own session: no terminal hang-up or Ctrl+C of ours reaches it.
            var spawned = UnixSpawner.Spawn("/bin/sh", argv, env, "/", stdio, newSession: true);
            lock (_sync)
            {
                _guardians[pgid] = new Guardian(spawned.Pid, spawned.StdinFd);
                if (_logPath != null)
                {
                    Send(spawned.StdinFd, $"log {_logPath}\n");
                }
            }
            ProcessLog.Debug($"lifeline guardian (pid {spawned.Pid}) watches daemon {name} (process group {pgid}, grace {grace.TotalSeconds:0.###}s)");
        }

        /// <summary>The daemon is about to be reaped: its guardian exits without acting.</summary>
        public void Unregister(int pgid)
        {
            lock (_sync)
            {
                if (_guardians.Remove(pgid, out var g))
                {
                    Send(g.WriteFd, "del\n");
                    LibC.close(g.WriteFd);
                    _toReap.Add(g.Pid);
                }
            }
        }

        /// <summary>Reaps guardians that were told to leave (called by the supervisor on SIGCHLD wake-ups).</summary>
        public void ReapGuardians()
        {
            lock (_sync)
            {
                _toReap.RemoveAll(pid => LibC.waitpid(pid, out _, LibC.WNOHANG) != 0);
            }
        }

        /// <summary>Tells every guardian where to log when it acts (the file of Enable-ChildProcessLog -Path).</summary>
        public void SetLogPath(string? path)
        {
            lock (_sync)
            {
                _logPath = path != null && path.IndexOfAny(new[] { '\n', '\r' }) < 0 ? path : null;
                foreach (var g in _guardians.Values)
                {
                    Send(g.WriteFd, _logPath is null ? "log\n" : $"log {_logPath}\n");
                }
            }
        }

        private static void Send(int fd, string line) => LibC.WriteAll(fd, Encoding.UTF8.GetBytes(line));
    }
}
