using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using ProcessKit.Commands;

namespace ProcessKit.Remote
{
    /// <summary>A child on another host (issue 12, docs/remote.md): a local <c>ssh</c> client child — spawned, tracked,
    /// named and logged like any program child — whose remote command is <see cref="WrapperScript"/>. The wrapper
    /// starts the real command in its own process group, reports its remote pid and its exact exit status on stderr
    /// (lines marked with a per-child nonce, swallowed here), takes TERM/KILL lines on stdin for Stop-ChildProcess, and
    /// treats EOF on stdin (the connection, or the session, gone) as the lifeline of a daemon. This object is the
    /// local half: the request's exit-code translator and signal forwarder, and the start handshake.</summary>
    internal sealed class RemoteChild
    {
        /// <summary>The wrapper's resource name (the csproj gives it this logical name).</summary>
        internal const string WrapperResourceName = "ProcessKit.Remote.RemoteWrapper.sh";

        /// <summary>The start handshake may take this much longer than ssh's ConnectTimeout: authentication, the remote
        /// shell's start and the input's transfer come after the TCP connect that ConnectTimeout bounds.</summary>
        private static readonly TimeSpan HandshakeSlack = TimeSpan.FromSeconds(10);

        /// <summary>After a forwarded SIGKILL, the local ssh client is killed too if it has not ended by then (a host
        /// that stopped answering must not hold Stop-ChildProcess for ssh's whole keep-alive timeout).</summary>
        private static readonly TimeSpan ForwardedKillTimeout = TimeSpan.FromSeconds(3);

        /// <summary>ssh's own exit status when the connection (not the remote command) failed.</summary>
        internal const int SshFailure = 255;

        /// <summary>ssh's messages kept for the reason of a failed start or a lost connection.</summary>
        private const int MaxSshMessages = 20;

        private static readonly Lazy<string> Wrapper = new Lazy<string>(() => ReadWrapper());

        private readonly object _sync = new object();
        private readonly string _mark;
        private readonly string _nonce;
        private readonly SshTarget _target;
        private readonly List<string> _sshMessages = new List<string>();
        private readonly TaskCompletionSource<bool> _answered = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        private ChildProcess? _child;
        private int? _remoteExit;
        private string? _failure;
        private bool _started;
        private bool _passThrough;

        private RemoteChild(SshTarget target)
        {
            _target = target;
            _nonce = Convert.ToHexString(RandomNumberGenerator.GetBytes(8)).ToLowerInvariant();
            _mark = "\u001ePKR" + _nonce + " ";
        }

        /// <summary>What the wrapper runs: <c>set -- argv</c> and the variables (shell text, every value quoted).</summary>
        internal sealed class Command
        {
            public Command(IReadOnlyList<string> argv, string display)
            {
                Argv = argv;
                Display = display;
            }

            public IReadOnlyList<string> Argv { get; }

            public string Display { get; }

            /// <summary>-Environment: null removes.</summary>
            public List<KeyValuePair<string, string?>> Environment { get; } = new List<KeyValuePair<string, string?>>();

            /// <summary>The remote working directory (null: the remote user's home).</summary>
            public string? Directory { get; set; }

            /// <summary>Bytes for the command's stdin (then EOF); null gives /dev/null.</summary>
            public byte[]? Input { get; set; }

            /// <summary>The command reads the connection itself (a pool worker's requests): after the setup, the child's
            /// stdin stream reaches it as it is; no TERM/KILL lines then, a stop drops the connection (the lifeline).</summary>
            public bool PassThrough { get; set; }
        }

        /// <summary>Starts <paramref name="command"/> on the target's host as a child tracked in <paramref name="table"/>,
        /// and returns once it runs there. Throws <see cref="ChildStartException"/> with ssh's or the remote shell's own
        /// reason (unreachable host, authentication, missing program) within the connect timeout.</summary>
        public static ChildProcess Start(ChildTable table, string? name, SshTarget target, string sshPath, Command command,
            ChildKind kind, bool daemon, TimeSpan daemonGrace)
        {
            var remote = new RemoteChild(target) { _passThrough = command.PassThrough };
            string remoteCommand = "exec sh -c " + ShellQuote(Wrapper.Value) + " processkit " + remote._nonce;
            var request = new SpawnRequest(sshPath, target.Arguments(remoteCommand), System.Environment.CurrentDirectory)
            {
                Kind = kind,
                Command = target.Display + ": " + command.Display,
                Daemon = daemon,
                DaemonGracePeriod = daemonGrace,
                OutputMode = OutputMode.Capture,
                KeepStandardInputOpen = true,
                CaptureRecords = false, // no fd 3 across ssh: a scriptblock's frames come on stdout
                ExitCodeTranslator = remote.TranslateExitCode,
                SignalForwarder = remote.ForwardSignal,
                StandardErrorLineFilter = remote.FilterStderrLine,
                HostName = target.Display,
            };
            ChildProcess child = ChildSupervisor.Default.Start(table, name, request);
            remote._child = child;
            remote.Handshake(child, command, daemon, daemonGrace);
            return child;
        }

        private void Handshake(ChildProcess child, Command command, bool daemon, TimeSpan daemonGrace)
        {
            string? failure = null;
            try
            {
                byte[] setup = Encoding.UTF8.GetBytes(Setup(child.Name, command, daemon, daemonGrace));
                byte[] input = command.Input ?? Array.Empty<byte>();
                var header = new MemoryStream();
                void Line(string s) { byte[] b = Encoding.ASCII.GetBytes(s + "\n"); header.Write(b, 0, b.Length); }
                Line(setup.Length.ToString(CultureInfo.InvariantCulture));
                header.Write(setup, 0, setup.Length);
                Line(input.Length.ToString(CultureInfo.InvariantCulture));
                header.Write(input, 0, input.Length);
                // The write may block until ssh connected and the remote side read it (large input): bounded by the
                // handshake wait below, which kills ssh — ending the write — when it passes.
                var write = Task.Run(() => WriteControl(header.ToArray()));
                TimeSpan limit = TimeSpan.FromSeconds(_target.ConnectTimeoutSeconds) + HandshakeSlack;
                int answered = Task.WaitAny(new Task[] { _answered.Task, child.Exited }, limit);
                lock (_sync)
                {
                    if (!_started)
                    {
                        failure = _failure ?? (answered < 0
                            ? $"{_target.Display} did not answer within {limit.TotalSeconds:0} s"
                            : SshReason(child.ExitCode));
                    }
                }
            }
            catch (IOException e)
            {
                failure = $"the ssh connection to {_target.Display} closed ({e.Message})";
            }
            if (failure is null)
            {
                ProcessLog.Info($"{child.Name} (pid {child.Id}) runs on {_target.Display} as remote process group {child.RemoteId}");
                return;
            }
            // Undo the start: the child must not be tracked (a failed start is reported, not left in the table).
            if (child.IsAlive)
            {
                ChildSupervisor.Default.Platform.Signal(child.Handle, ChildSignal.Kill);
                child.WaitForExit(TimeSpan.FromSeconds(10));
            }
            ChildSupervisor.Default.Remove(child);
            throw new ChildStartException($"Cannot start on {_target.Display}: {failure}");
        }

        /// <summary>The reason ssh gave (its stderr) for ending before the remote command ran.</summary>
        private string SshReason(int? exitCode)
        {
            string said = string.Join("; ", _sshMessages.Where(m => m.Length > 0));
            if (said.Length > 0)
            {
                return said;
            }
            return exitCode == SshFailure ? "ssh could not connect (exit status 255)" : $"ssh ended with exit code {exitCode} before the remote command started";
        }

        private void WriteControl(byte[] bytes)
        {
            Stream? stdin = _child?.StandardInput;
            if (stdin is null)
            {
                throw new IOException("no stdin");
            }
            lock (stdin)
            {
                stdin.Write(bytes, 0, bytes.Length);
                stdin.Flush();
            }
        }

        /// <summary>The wrapper's marked lines (started, exit, fail) are taken out of the child's stderr; ssh's own
        /// messages before the start are kept as the reason of a failure.</summary>
        private bool FilterStderrLine(string line)
        {
            if (!line.StartsWith(_mark, StringComparison.Ordinal))
            {
                lock (_sync)
                {
                    if (!_started && _sshMessages.Count < MaxSshMessages)
                    {
                        _sshMessages.Add(line.Trim());
                    }
                }
                return false;
            }
            string rest = line.Substring(_mark.Length);
            int space = rest.IndexOf(' ');
            string verb = space < 0 ? rest : rest.Substring(0, space);
            string arg = space < 0 ? string.Empty : rest.Substring(space + 1).Trim();
            switch (verb)
            {
                case "started":
                    if (int.TryParse(arg, NumberStyles.Integer, CultureInfo.InvariantCulture, out int pid) && _child != null)
                    {
                        _child.RemoteId = pid;
                    }
                    lock (_sync)
                    {
                        _started = true;
                    }
                    _answered.TrySetResult(true);
                    break;
                case "exit":
                    if (int.TryParse(arg, NumberStyles.Integer, CultureInfo.InvariantCulture, out int code))
                    {
                        lock (_sync)
                        {
                            _remoteExit = code;
                        }
                    }
                    break;
                case "fail":
                    lock (_sync)
                    {
                        _failure = arg;
                    }
                    _answered.TrySetResult(false);
                    break;
            }
            return true;
        }

        /// <summary>The remote exit status replaces ssh's: 7 for <c>exit 7</c>, -15 for SIGTERM. Without one, the
        /// connection itself failed (ssh's 255) or ssh was killed here: that stays, and is logged as such.</summary>
        private int? TranslateExitCode(int? sshExit)
        {
            int? remote;
            bool started;
            lock (_sync)
            {
                remote = _remoteExit;
                started = _started;
            }
            if (remote.HasValue)
            {
                return remote;
            }
            if (started && _child != null)
            {
                string said = string.Join("; ", _sshMessages);
                ProcessLog.Warning($"{_child.Name} (pid {_child.Id}): the connection to {_target.Display} ended before remote process group {_child.RemoteId} reported its exit (ssh exit {(sshExit?.ToString(CultureInfo.InvariantCulture) ?? "unknown")}{(said.Length > 0 ? ": " + said : string.Empty)})");
            }
            return sshExit;
        }

        /// <summary>Stop-ChildProcess: the signal goes to the remote process group (a line to the wrapper), not to the
        /// local ssh (which would only drop the connection). False — signal ssh here — when the line cannot be sent.</summary>
        private bool ForwardSignal(ChildSignal signal)
        {
            ChildProcess? child = _child;
            if (child is null || _passThrough)
            {
                return false; // signal the local ssh: the dropped connection ends the remote group (its lifeline)
            }
            try
            {
                WriteControl(Encoding.ASCII.GetBytes(signal == ChildSignal.Kill ? "KILL\n" : "TERM\n"));
            }
            catch (Exception e) when (e is IOException || e is ObjectDisposedException)
            {
                return false;
            }
            if (signal == ChildSignal.Kill)
            {
                _ = Task.Delay(ForwardedKillTimeout).ContinueWith(_ =>
                {
                    if (child.IsAlive)
                    {
                        ProcessLog.Info($"{child.Name} (pid {child.Id}): {_target.Display} did not end remote process group {child.RemoteId} within {ForwardedKillTimeout.TotalSeconds:0} s; sending SIGKILL to the local ssh");
                        ChildSupervisor.Default.Platform.Signal(child.Handle, ChildSignal.Kill);
                    }
                }, TaskScheduler.Default);
            }
            return true;
        }

        /// <summary>Shell text the wrapper evals: its own settings, the child's variables, then <c>set -- argv</c>.</summary>
        private static string Setup(string name, Command command, bool daemon, TimeSpan daemonGrace)
        {
            var sb = new StringBuilder();
            if (daemon)
            {
                sb.Append("pk_grace=").Append(daemonGrace.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)).Append('\n');
            }
            if (command.PassThrough)
            {
                sb.Append("pk_pass=1\n");
            }
            if (command.Directory != null)
            {
                sb.Append("pk_dir=").Append(ShellQuote(command.Directory)).Append('\n');
            }
            sb.Append("export ").Append(ChildEnvironment.NameVariable).Append('=').Append(ShellQuote(name)).Append('\n');
            foreach (var kv in command.Environment)
            {
                if (kv.Value is null)
                {
                    sb.Append("unset ").Append(kv.Key).Append('\n');
                }
                else
                {
                    sb.Append("export ").Append(kv.Key).Append('=').Append(ShellQuote(kv.Value)).Append('\n');
                }
            }
            sb.Append("set --");
            foreach (string arg in command.Argv)
            {
                sb.Append(' ').Append(ShellQuote(arg));
            }
            sb.Append('\n');
            return sb.ToString();
        }

        /// <summary>A variable name a POSIX shell can export.</summary>
        internal static bool IsShellName(string name) =>
            name.Length > 0 && (char.IsAsciiLetter(name[0]) || name[0] == '_') && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

        internal static string ShellQuote(string s) => "'" + s.Replace("'", "'\\''") + "'";

        private static string ReadWrapper()
        {
            using Stream? stream = typeof(RemoteChild).Assembly.GetManifestResourceStream(WrapperResourceName);
            if (stream is null)
            {
                throw new InvalidOperationException($"The ProcessKit assembly lacks its embedded resource {WrapperResourceName}.");
            }
            using var reader = new StreamReader(stream, new UTF8Encoding(false));
            // Comment lines stay home: the remote command line is shorter, and ps on the host shows less noise.
            var lines = reader.ReadToEnd().Split('\n').Where(l => !l.TrimStart().StartsWith("#", StringComparison.Ordinal) && l.Trim().Length > 0);
            return string.Join("\n", lines) + "\n";
        }
    }
}
