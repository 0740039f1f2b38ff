using System;
using System.Collections.Generic;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace ProcessKit.Unix
{
    /// <summary>Ends daemons however the session's process dies, SIGKILL and crashes included.
    /// As Python's resource_tracker: a guardian process reads a pipe whose write end only this process holds
    /// (close-on-exec, so no child inherits it). The kernel closes that end when this process dies for any reason;
    /// the guardian sees EOF and sends SIGTERM, then SIGKILL after each daemon's grace period, to the process group
    /// of every daemon still registered.
    ///
    /// Pid reuse: a daemon is unregistered ("del") before its zombie is reaped, and pipe writes are ordered, so
    /// the guardian has consumed the "del" before it can act on EOF; while unreaped, the kernel cannot reuse the pid
    /// or the group id. The guardian therefore only ever signals groups whose leader is still ours.</summary>
    internal sealed unsafe class Lifeline
    {
        /// <summary>The guardian, a POSIX sh loop (no binary to ship, ~1 MiB of memory). Protocol, one line each:
        /// <c>add PGID GRACE_TENTHS</c>, <c>del PGID</c>, <c>log PATH</c>. On EOF: TERM every group, then poll
        /// every 0.1 s and KILL each group whose grace has run out.</summary>
        internal const string GuardianScript = @"trap '' INT HUP QUIT PIPE
groups=
logfile=
while read -r cmd a b; do
  case $cmd in
    add) groups=""$groups $a:$b"" ;;
    del) n=; for e in $groups; do [ ""${e%%:*}"" = ""$a"" ] || n=""$n $e""; done; groups=$n ;;
    log) logfile=$a ;;
  esac
done
[ -z ""$groups"" ] && exit 0
for e in $groups; do
  p=${e%%:*}
  [ -n ""$logfile"" ] && echo ""[INFO/$PK_SESSION_NAME] session process $PK_SESSION_PID is gone; sending SIGTERM to daemon process group $p"" >> ""$logfile""
  kill -TERM -""$p"" 2>/dev/null
done
t=0
while [ -n ""$groups"" ]; do
  left=
  for e in $groups; do
    p=${e%%:*}; g=${e#*:}
    if kill -0 -""$p"" 2>/dev/null; then
      if [ ""$t"" -ge ""$g"" ]; then
        [ -n ""$logfile"" ] && echo ""[INFO/$PK_SESSION_NAME] grace period expired; sending SIGKILL to what remains of daemon process group $p"" >> ""$logfile""
        kill -KILL -""$p"" 2>/dev/null
      else
        left=""$left $e""
      fi
    fi
  done
  groups=$left
  [ -n ""$groups"" ] && sleep 0.1
  t=$((t+1))
done
exit 0
";

        private readonly object _sync = new object();
        private readonly Dictionary<int, int> _registered = new Dictionary<int, int>();
        private int _writeFd = -1;
        private int _guardianPid;
        private string? _logPath;

        /// <summary>Pid of the guardian process, 0 until the first daemon starts it.</summary>
        public int GuardianPid
        {
            get { lock (_sync) { return _guardianPid; } }
        }

        /// <summary>Registers a daemon's process group with its grace period. Starts the guardian on first use.</summary>
        public void Register(int pgid, TimeSpan grace)
        {
            int tenths = (int)Math.Max(0, Math.Ceiling(grace.TotalMilliseconds / 100.0));
            lock (_sync)
            {
                _registered[pgid] = tenths;
                if (!Send($"add {pgid} {tenths}\n"))
                {
                    Restart();
                }
            }
        }

        public void Unregister(int pgid)
        {
            lock (_sync)
            {
                if (_registered.Remove(pgid))
                {
                    Send($"del {pgid}\n");
                }
            }
        }

        /// <summary>Tells the guardian where to log when it acts (the file of Enable-ChildProcessLog -Path).</summary>
        public void SetLogPath(string? path)
        {
            lock (_sync)
            {
                _logPath = path;
                if (_writeFd >= 0 && path != null && path.IndexOfAny(new[] { ' ', '\n', '\t' }) < 0)
                {
                    Send($"log {path}\n");
                }
            }
        }

        /// <summary>Writes a line to the guardian; false when there is none or it died (EPIPE).</summary>
        private bool Send(string line)
        {
            if (_writeFd < 0)
            {
                return false;
            }
            return LibC.WriteAll(_writeFd, Encoding.ASCII.GetBytes(line));
        }

        /// <summary>(Re)starts the guardian and replays the registrations (a guardian killed from outside is replaced).</summary>
        private void Restart()
        {
            if (_writeFd >= 0)
            {
                LibC.close(_writeFd);
                _writeFd = -1;
            }
            if (_guardianPid > 0)
            {
                LibC.waitpid(_guardianPid, out _, LibC.WNOHANG); // reap a guardian that was killed from outside
            }
            var env = new List<KeyValuePair<string, string>>
            {
                new KeyValuePair<string, string>("PATH", Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin"),
                new KeyValuePair<string, string>("PK_SESSION_PID", Environment.ProcessId.ToString(CultureInfo.InvariantCulture)),
                new KeyValuePair<string, string>("PK_SESSION_NAME", ProcessLog.SelfName),
                new KeyValuePair<string, string>("LC_ALL", "C"),
            };
            var stdio = new StdioPlan { PipeStdin = true, Output = OutputMode.File, StdoutPath = "/dev/null", StderrPath = "/dev/null" };
            // Its own session: no terminal hang-up or Ctrl+C of ours reaches it.
            var spawned = UnixSpawner.Spawn("/bin/sh", new[] { "processkit-guardian", "-c", GuardianScript }, env, "/", stdio, newSession: true);
            _writeFd = spawned.StdinFd;
            _guardianPid = spawned.Pid;
            ProcessLog.Debug($"lifeline guardian started (pid {spawned.Pid})");
            if (_logPath != null)
            {
                Send($"log {_logPath}\n");
            }
            foreach (var kv in _registered)
            {
                Send($"add {kv.Key} {kv.Value}\n");
            }
        }
    }
}
