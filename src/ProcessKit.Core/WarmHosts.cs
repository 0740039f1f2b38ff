using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace ProcessKit
{
    /// <summary>What the start entry of a warm host carries, so that the child it becomes is the child a cold start
    /// would have made: its name, the environment as a diff against the host's spawn-time environment (null removes),
    /// and the location.</summary>
    internal sealed class WarmStart
    {
        public WarmStart(string name, IDictionary<string, string?> environment, string location)
        {
            Name = name;
            Environment = environment;
            Location = location;
        }

        public string Name { get; }

        public IDictionary<string, string?> Environment { get; }

        public string Location { get; }
    }

    /// <summary>A platform that can keep pre-started, idle hosts that are nobody's children yet (Unix).</summary>
    internal interface IWarmHostPlatform
    {
        /// <summary>Spawns a host as <see cref="IProcessPlatform.Spawn"/> does, its stdin kept open and handed to the
        /// caller in <paramref name="standardInput"/>; not watched yet.</summary>
        IChildHandle SpawnHost(string name, SpawnRequest request, out Stream standardInput);

        /// <summary>Watches an idle host: its exit is reaped and reported to <paramref name="host"/>; its output goes to
        /// its buffers. An idle host's open capture pipes are never handed to a drainer at process exit.</summary>
        void WatchHost(IChildHandle handle, IChildObserver host);

        /// <summary>Hands a watched host over to the child it becomes: from now on its output goes to
        /// <paramref name="child"/>'s buffers and its exit to <paramref name="child"/> — not reported before
        /// <see cref="Release"/>. With <paramref name="lifelineGrace"/> the lifeline is armed first (a daemon). False
        /// when the host exited or is exiting. Throws <see cref="ChildStartException"/> when the lifeline cannot be
        /// armed (the host is then still a host).</summary>
        bool Adopt(IChildHandle handle, IChildObserver child, string name, TimeSpan? lifelineGrace);

        /// <summary>An adopted child's exit may be reported from now on (after its "started" record).</summary>
        void Release(IChildHandle handle);
    }

    /// <summary>One pre-started pwsh host, idle: the one-off bootstrap blocked on its stdin, which only the session
    /// holds open. It is used once, by the first scriptblock child that takes it; EOF without a payload (the session
    /// gone, however it ended) makes it exit quietly. As an observer it only watches for its ready line and its exit.</summary>
    internal sealed class WarmHost : IChildObserver
    {
        /// <summary>The line the bootstrap writes to stdout once it is up and waiting for its payload.</summary>
        internal const string ReadyLine = "processkit-warm-host-ready";

        private readonly WarmHostPool _pool;
        private volatile bool _ready;
        private volatile bool _exited;

        internal WarmHost(WarmHostPool pool, SpawnRequest request, IReadOnlyDictionary<string, string> environment)
        {
            _pool = pool;
            Request = request;
            Environment = environment;
            // Everything an idle host writes is its own (the ready line; pwsh's start-up noise): none of it belongs to
            // the child that takes it over, whose buffers are fresh.
            StandardOutput.LineFilter = line =>
            {
                if (line == ReadyLine)
                {
                    _ready = true;
                }
                return true;
            };
            StandardError.LineFilter = _ => true;
            Records.LineFilter = _ => true;
        }

        internal SpawnRequest Request { get; }

        /// <summary>The environment it was spawned with (its name and parent id included), what the start entry diffs against.</summary>
        internal IReadOnlyDictionary<string, string> Environment { get; }

        internal IChildHandle? Handle { get; set; }

        internal Stream? StandardInput { get; set; }

        /// <summary>Up and blocked reading its payload: taking it costs no pwsh start-up.</summary>
        internal bool IsReady => _ready && !_exited;

        internal bool HasExited => _exited;

        public string Name => WarmHostPool.HostName;

        public OutputBuffer StandardOutput { get; } = new OutputBuffer();

        public OutputBuffer StandardError { get; } = new OutputBuffer();

        public OutputBuffer Records { get; } = new OutputBuffer();

        /// <summary>An idle host stopped or continued by job control: nothing to report (it is nobody's child yet).</summary>
        public void OnSuspended(bool suspended, int signal)
        {
        }

        public void OnExited(int? exitCode)
        {
            _exited = true;
            ProcessLog.Debug($"idle warm host (pid {Handle?.Id}) exited with exitcode {exitCode?.ToString(CultureInfo.InvariantCulture) ?? "unknown"}");
            _pool.OnHostExited(this);
        }

        /// <summary>Closes the session's end of its stdin (idempotent).</summary>
        internal void CloseInput()
        {
            var input = StandardInput;
            StandardInput = null;
            try
            {
                input?.Dispose();
            }
            catch (IOException)
            {
                // the host is gone: nothing was left to flush
            }
        }
    }

    /// <summary>The idle warm hosts of one session (a <see cref="ChildTable"/>): started lazily after the session's
    /// first scriptblock child, up to <see cref="TargetCount"/>, refilled in the background after one is taken. Idle
    /// hosts are in no table (Get-ChildProcess does not show them) and end with the session: at runspace close and
    /// process exit they are killed; after SIGKILL of the session their stdin reaches EOF and they exit by
    /// themselves. A later pool could take its workers from the same hosts: <see cref="Take"/> hands over a host whose
    /// stdin is still open, and a worker bootstrap would read its requests there instead of one payload.</summary>
    internal sealed class WarmHostPool
    {
        /// <summary>PROCESSKIT_NAME of an idle host, until its start entry names it.</summary>
        internal const string HostName = "ProcessKit-warm-host";

        /// <summary>Set in an idle host's spawn environment (to the session's pid): the bootstrap writes its ready line
        /// only then, and the start entry removes it. Tests find idle hosts by it in /proc/PID/environ.</summary>
        internal const string HostVariable = "PROCESSKIT_WARM_HOST";

        /// <summary>The default number of idle hosts: one makes the next scriptblock child fast and costs one pwsh
        /// (≈120 MB) while the session lives.</summary>
        internal const int DefaultCount = 1;

        /// <summary>The most idle hosts a session may keep (each is a whole pwsh).</summary>
        internal const int MaxCount = 64;

        /// <summary>After a host is taken (or a cold start), the refill waits for that child to exit or this long,
        /// whichever comes first: a pwsh start-up takes both cores of a small machine for most of a second, and the
        /// child that was just started should not have to share them.</summary>
        internal static readonly TimeSpan RefillDelay = TimeSpan.FromSeconds(1);

        /// <summary>A payload up to this size is written at once (it fits the pipe buffer, and the host is reading);
        /// a larger one is fed from a thread of its own, as a cold child's.</summary>
        private const int InlinePayloadBytes = 64 * 1024;

        /// <summary>Bytes per stack of a payload feeder thread: it only calls write(2).</summary>
        private const int FeederStackSize = 64 * 1024;

        private static int _targetCount = DefaultCount;

        private readonly ChildSupervisor _owner;
        private readonly IWarmHostPlatform _platform;
        private readonly object _sync = new object();
        private readonly List<WarmHost> _idle = new List<WarmHost>();
        private int _starting;
        private bool _closed;
        private SpawnRequest? _template;

        internal WarmHostPool(ChildSupervisor owner, IWarmHostPlatform platform)
        {
            _owner = owner;
            _platform = platform;
        }

        /// <summary>How many idle hosts each session keeps (Set-ChildProcessOption -WarmHostCount); 0 disables.</summary>
        internal static int TargetCount
        {
            get => Volatile.Read(ref _targetCount);
            set => Volatile.Write(ref _targetCount, Math.Clamp(value, 0, MaxCount));
        }

        /// <summary>Idle hosts that are up and waiting.</summary>
        internal int ReadyCount
        {
            get { lock (_sync) { return _idle.Count(h => h.IsReady); } }
        }

        /// <summary>Idle hosts, ready or still starting.</summary>
        internal int IdleCount
        {
            get { lock (_sync) { return _idle.Count(h => !h.HasExited) + _starting; } }
        }

        /// <summary>Pids of the idle hosts (diagnostics and tests).</summary>
        internal IReadOnlyList<int> IdleIds
        {
            get { lock (_sync) { return _idle.Where(h => h.Handle != null).Select(h => h.Handle!.Id).ToArray(); } }
        }

        /// <summary>A ready host that runs what <paramref name="request"/> would run, removed from the idle list, or
        /// null (start cold). Remembers the request as the template of the hosts to come: the first call activates the pool.
        /// A host whose start-up variables no longer match the session's own (the session set TZ, say) can never be
        /// taken again: it is ended here, and the refill that follows every start spawns one with today's.</summary>
        internal WarmHost? Take(SpawnRequest request)
        {
            var stale = new List<WarmHost>();
            try
            {
                lock (_sync)
                {
                    if (_closed)
                    {
                        return null;
                    }
                    // Only what a host needs: the request itself holds the child's payload.
                    _template = new SpawnRequest(request.FileName, request.Arguments, request.WorkingDirectory) { CaptureRecords = request.CaptureRecords };
                    IReadOnlyDictionary<string, string>? target = null;
                    IReadOnlyDictionary<string, string>? session = null;
                    for (int i = 0; i < _idle.Count; i++)
                    {
                        var h = _idle[i];
                        if (!SameProgram(h.Request, request))
                        {
                            continue;
                        }
                        if (h.IsReady && SameStartupEnvironment(h.Environment, target ??= TargetEnvironment(request)))
                        {
                            _idle.RemoveAt(i);
                            return h;
                        }
                        // Ready or still starting: one spawned before the session's change is of no use after it.
                        if (!h.HasExited && !SameStartupEnvironment(h.Environment, session ??= ChildEnvironment.OfSession()))
                        {
                            stale.Add(h);
                            _idle.RemoveAt(i--);
                        }
                    }
                    return null;
                }
            }
            finally
            {
                foreach (var h in stale)
                {
                    ProcessLog.Debug($"warm host (pid {h.Handle?.Id}) ended: the session changed a variable pwsh reads only as it starts");
                    Discard(h);
                }
            }
        }

        /// <summary>Variables that pwsh or .NET read once, while the process starts, into state that setting the
        /// variable later does not change: the time zone (TZ), the culture (LANG, LC_*), HOME (~ and $HOME),
        /// NO_COLOR and TERM ($PSStyle.OutputRendering), the runtime's and the loader's settings (DOTNET_*,
        /// COMPlus_*, LD_*, GLIBC_*, MALLOC_*), pwsh's own (POWERSHELL_*, PSModulePath, XDG_* directories). A host spawned with
        /// other values than the child would get is not what a cold start would make, so such a child starts cold.
        /// PATH is not among them: the one thing pwsh does with it at start (put $PSHOME first) the child redoes when
        /// its PATH changes (ChildRecords.ps1, __pkApplyStart).</summary>
        private static readonly string[] StartupVariables = { "TZ", "HOME", "LANG", "LANGUAGE", "NO_COLOR", "TERM", "PSModulePath" };

        private static readonly string[] StartupPrefixes = { "LC_", "DOTNET_", "COMPlus_", "CORECLR_", "LD_", "GLIBC_", "MALLOC_", "POWERSHELL_", "XDG_" };

        private static IReadOnlyDictionary<string, string> TargetEnvironment(SpawnRequest request) =>
            request.Environment as IReadOnlyDictionary<string, string>
            ?? (request.Environment is null ? ChildEnvironment.OfSession() : new Dictionary<string, string>(request.Environment));

        internal static bool IsStartupVariable(string name) =>
            Array.IndexOf(StartupVariables, name) >= 0 || StartupPrefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal));

        /// <summary>True when every start-up variable (<see cref="IsStartupVariable"/>) is the same, or absent from both.</summary>
        internal static bool SameStartupEnvironment(IReadOnlyDictionary<string, string> spawned, IReadOnlyDictionary<string, string> target)
        {
            foreach (var kv in target)
            {
                if (IsStartupVariable(kv.Key) && (!spawned.TryGetValue(kv.Key, out string? old) || old != kv.Value))
                {
                    return false;
                }
            }
            foreach (var key in spawned.Keys)
            {
                if (IsStartupVariable(key) && !target.ContainsKey(key))
                {
                    return false;
                }
            }
            return true;
        }

        private static bool SameProgram(SpawnRequest a, SpawnRequest b) =>
            a.FileName == b.FileName && a.Arguments.SequenceEqual(b.Arguments);

        /// <summary>Refills once <paramref name="started"/> exited or after <see cref="RefillDelay"/>.</summary>
        internal void RefillAfter(ChildProcess? started)
        {
            if (TargetCount == 0)
            {
                return;
            }
            Task wait = Task.Delay(RefillDelay);
            if (started != null)
            {
                wait = Task.WhenAny(wait, started.Exited);
            }
            wait.ContinueWith(_ => Fill(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        /// <summary>Starts hosts until the session keeps <see cref="TargetCount"/>; ends the extra ones when it keeps more.</summary>
        internal void Fill()
        {
            Trim();
            while (true)
            {
                SpawnRequest template;
                lock (_sync)
                {
                    if (_closed || _template is null || _idle.Count(h => !h.HasExited) + _starting >= TargetCount)
                    {
                        return;
                    }
                    template = _template;
                    _starting++;
                }
                try
                {
                    SpawnOne(template);
                }
                catch (Exception e) when (e is ChildStartException || e is IOException || e is UnauthorizedAccessException)
                {
                    lock (_sync)
                    {
                        _starting--;
                    }
                    ProcessLog.Debug($"cannot start a warm host: {e.Message}");
                    return;
                }
            }
        }

        private void SpawnOne(SpawnRequest template)
        {
            var env = ChildEnvironment.ForChild(null, HostName);
            env[HostVariable] = System.Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
            var request = new SpawnRequest(template.FileName, template.Arguments, template.WorkingDirectory)
            {
                Kind = ChildKind.ScriptBlock,
                CaptureRecords = template.CaptureRecords,
                KeepStandardInputOpen = true,
                Environment = env,
                Command = "(warm host)",
            };
            var host = new WarmHost(this, request, env);
            IChildHandle handle = _platform.SpawnHost(HostName, request, out Stream stdin);
            host.Handle = handle;
            host.StandardInput = stdin;
            bool keep;
            lock (_sync)
            {
                _starting--;
                keep = !_closed;
                if (keep)
                {
                    _idle.Add(host);
                }
            }
            _platform.WatchHost(handle, host);
            ProcessLog.Debug($"warm host started (pid {handle.Id})");
            if (!keep)
            {
                Discard(host);
            }
        }

        /// <summary>Ends idle hosts beyond <see cref="TargetCount"/> (the setting was lowered).</summary>
        internal void Trim()
        {
            var extra = new List<WarmHost>();
            lock (_sync)
            {
                int keep = TargetCount;
                var alive = _idle.Where(h => !h.HasExited).ToList();
                for (int i = keep; i < alive.Count; i++)
                {
                    extra.Add(alive[i]);
                    _idle.Remove(alive[i]);
                }
            }
            foreach (var h in extra)
            {
                Discard(h);
            }
        }

        /// <summary>The session ended: no more hosts; the idle ones are killed (the event loop reaps them).</summary>
        internal void Close()
        {
            WarmHost[] idle;
            lock (_sync)
            {
                _closed = true;
                idle = _idle.ToArray();
                _idle.Clear();
            }
            foreach (var h in idle)
            {
                Discard(h);
            }
        }

        /// <summary>SIGKILL to a host nobody will use, and its stdin closed; its exit is reaped as any watched child's.</summary>
        internal void Discard(WarmHost host)
        {
            if (host.Handle != null)
            {
                _owner.Platform.Signal(host.Handle, ChildSignal.Kill);
            }
            host.CloseInput();
        }

        internal void OnHostExited(WarmHost host)
        {
            bool wasIdle;
            lock (_sync)
            {
                wasIdle = _idle.Remove(host);
            }
            if (wasIdle)
            {
                host.CloseInput();
            }
        }

        /// <summary>The start entry's environment: what the host has to change of its spawn-time environment to have
        /// <paramref name="target"/> — values added or changed, and null for each variable to remove.</summary>
        internal static Dictionary<string, string?> Diff(IReadOnlyDictionary<string, string> spawned, IReadOnlyDictionary<string, string> target)
        {
            var diff = new Dictionary<string, string?>(StringComparer.Ordinal);
            foreach (var kv in target)
            {
                if (!spawned.TryGetValue(kv.Key, out string? old) || old != kv.Value)
                {
                    diff[kv.Key] = kv.Value;
                }
            }
            foreach (var key in spawned.Keys)
            {
                if (!target.ContainsKey(key))
                {
                    diff[key] = null;
                }
            }
            return diff;
        }

        /// <summary>Writes the payload to the host's stdin and closes it: the host reads it and becomes the child.</summary>
        internal static void Feed(WarmHost host, byte[] payload)
        {
            Stream? input = host.StandardInput;
            host.StandardInput = null;
            if (input is null)
            {
                return;
            }
            void Write()
            {
                try
                {
                    input.Write(payload, 0, payload.Length);
                }
                catch (IOException)
                {
                    // EPIPE: the host died meanwhile; its exit is reported as the child's
                }
                finally
                {
                    try
                    {
                        input.Dispose();
                    }
                    catch (IOException)
                    {
                    }
                }
            }
            if (payload.Length <= InlinePayloadBytes)
            {
                Write();
                return;
            }
            new Thread(Write, FeederStackSize) { IsBackground = true, Name = "ProcessKit warm host feeder" }.Start();
        }
    }
}
