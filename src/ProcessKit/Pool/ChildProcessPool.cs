using System;
using System.Collections;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using ProcessKit.Commands;

namespace ProcessKit.Pool
{
    public enum ChildProcessPoolState
    {
        /// <summary>Usable.</summary>
        Open,
        /// <summary>Its initialization script failed: no run can use it (see <see cref="ChildProcessPool.BrokenReason"/>).</summary>
        Broken,
        /// <summary>Remove-ChildProcessPool ended it.</summary>
        Removed,
    }

    /// <summary>Python's <c>multiprocessing.Pool</c>: a set of long-lived pwsh workers (at most
    /// <see cref="ThrottleLimit"/>, started lazily, reused across items and across Invoke-ChildProcessPool calls) that
    /// run scriptblocks over input items. Workers are daemons of the session that made the pool: they end with it
    /// however it ends, SIGKILL of the session included (their lifeline). One run at a time uses a pool.</summary>
    public sealed class ChildProcessPool
    {
        /// <summary>How long Remove-ChildProcessPool (and the end of a one-off run) waits for workers told to exit before
        /// it kills them: a pwsh takes well under a second to exit.</summary>
        internal static readonly TimeSpan ExitWait = TimeSpan.FromSeconds(5);

        /// <summary>Grace of a worker stopped for a timed-out item: SIGTERM, this, SIGKILL.</summary>
        internal static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(2);

        private static readonly string WorkerBootstrap =
            ChildProtocol.BootstrapParameters() + ScriptBlockLauncher.ReadResource(ScriptBlockLauncher.RecordsResourceName) +
            ScriptBlockLauncher.ReadResource("ProcessKit.PoolWorker.ps1");

        private static readonly string EncodedWorkerBootstrap = Convert.ToBase64String(Encoding.Unicode.GetBytes(WorkerBootstrap));

        private readonly List<PoolWorker> _workers = new List<PoolWorker>();
        private readonly string _startFrame;
        private int _workerCount;
        private int _running;
        private long _itemsCompleted;

        internal ChildProcessPool(string name, int throttleLimit, ScriptBlock? initializationScript, int maxItemsPerWorker,
            ChildTable table, SessionState session)
        {
            Name = name;
            ThrottleLimit = throttleLimit;
            MaxItemsPerWorker = maxItemsPerWorker;
            Table = table;
            var usingValues = new Hashtable(StringComparer.OrdinalIgnoreCase);
            string? init = initializationScript is null ? null : ScriptBlockLauncher.RewriteUsing(initializationScript, session, usingValues);
            InitializationScript = initializationScript?.ToString();
            var start = new Hashtable
            {
                ["Protocol"] = ChildProtocol.Version,
                ["Start"] = null,
                ["Init"] = init,
                ["Using"] = usingValues,
            };
            _startFrame = ChildProtocol.EncodeClixml(ChildProtocol.Tags.Start, PSSerializer.Serialize(start, ChildProtocol.SerializationDepth));
            WorkingDirectory = session.Path.CurrentFileSystemLocation.ProviderPath;
        }

        public string Name { get; }

        /// <summary>Workers at most (with remote hosts: the sum of their slots).</summary>
        public int ThrottleLimit { get; private set; }

        /// <summary>The hosts its workers run on over ssh (New-ChildProcessPool -HostName); null: this machine.</summary>
        public IReadOnlyList<RemotePoolHost>? RemoteHosts { get; private set; }

        /// <summary>A worker is replaced after this many items (Python's maxtasksperchild); 0: never.</summary>
        public int MaxItemsPerWorker { get; }

        public string? InitializationScript { get; }

        public ChildProcessPoolState State { get; private set; } = ChildProcessPoolState.Open;

        /// <summary>Why the pool is <see cref="ChildProcessPoolState.Broken"/>.</summary>
        public string? BrokenReason { get; private set; }

        /// <summary>The live workers, with their pids and states.</summary>
        public IReadOnlyList<PoolWorker> Workers
        {
            get { lock (_workers) { return _workers.ToArray(); } }
        }

        public long ItemsCompleted => Interlocked.Read(ref _itemsCompleted);

        internal ChildTable Table { get; }

        /// <summary>Where workers start (the location when the pool was made).</summary>
        internal string WorkingDirectory { get; }

        /// <summary>Lines and exits of the workers, consumed by the run in progress.</summary>
        internal BlockingCollection<PoolEvent> Events { get; } = new BlockingCollection<PoolEvent>();

        internal void CountCompleted() => Interlocked.Increment(ref _itemsCompleted);

        /// <summary>Workers that died by a signal (killed, a crash) before they were ready, in a row: after
        /// <see cref="MaxStartCrashes"/> the pool gives up rather than spin starting workers for ever.</summary>
        internal int StartCrashes { get; set; }

        internal const int MaxStartCrashes = 3;

        /// <summary>Takes the pool for one run; false while another run uses it.</summary>
        internal bool TryAcquire() => Interlocked.CompareExchange(ref _running, 1, 0) == 0;

        internal void Release() => Interlocked.Exchange(ref _running, 0);

        internal void MarkBroken(string reason)
        {
            if (State == ChildProcessPoolState.Open)
            {
                State = ChildProcessPoolState.Broken;
                BrokenReason = reason;
                ProcessLog.Error($"pool {Name} is broken: {reason}");
            }
        }

        /// <summary>Workers run on these hosts over ssh, <see cref="RemotePoolHost.Slots"/> each, one queue over all.</summary>
        internal void UseRemoteHosts(IReadOnlyList<RemotePoolHost> hosts)
        {
            RemoteHosts = hosts;
            ThrottleLimit = hosts.Sum(h => h.Slots);
        }

        /// <summary>Starts one more worker (null: every host that can take one is full); locally or, with
        /// <see cref="RemoteHosts"/>, on the least loaded host that is up. A host whose worker cannot start is marked
        /// down and the next one is tried; only when none is left does the start fail.</summary>
        internal PoolWorker? StartWorker()
        {
            if (RemoteHosts is null)
            {
                return StartLocalWorker();
            }
            ChildStartException? last = null;
            while (true)
            {
                var workers = Workers;
                var candidates = RemoteHosts.Where(h => !h.IsDown)
                    .Select(h => (Host: h, Live: workers.Count(w => w.RemoteHost == h && w.State != PoolWorkerState.Retiring && w.State != PoolWorkerState.Exited)))
                    .ToList();
                if (candidates.Count == 0)
                {
                    throw new ChildStartException("no host of the pool can start a worker" + (last is null ? string.Empty : ": " + last.Message));
                }
                var free = candidates.Where(c => c.Live < c.Host.Slots).OrderBy(c => (double)c.Live / c.Host.Slots).Select(c => c.Host).FirstOrDefault();
                if (free is null)
                {
                    return null;
                }
                try
                {
                    return StartRemoteWorker(free);
                }
                catch (ChildStartException e)
                {
                    last = e;
                    free.MarkDown(e.Message);
                    ProcessLog.Warning($"pool {Name}: host {free.HostName} is left out: {e.Message}");
                }
            }
        }

        private PoolWorker StartRemoteWorker(RemotePoolHost host)
        {
            int n = Interlocked.Increment(ref _workerCount);
            var command = new Remote.RemoteChild.Command(RemoteScriptBlock.PwshArgv(host.RemotePwsh, EncodedRemoteWorkerBootstrap.Value), $"worker {n} of pool {Name}")
            {
                PassThrough = true,
            };
            if (ProcessLog.Level is LogLevel level)
            {
                command.Environment.Add(new KeyValuePair<string, string?>(ChildEnvironment.LogLevelVariable, ((int)level).ToString(System.Globalization.CultureInfo.InvariantCulture)));
            }
            string ssh = ProgramLocator.Resolve(StartChildProcessCommand.SshProgram, WorkingDirectory, Environment.GetEnvironmentVariable("PATH"), ChildSupervisor.Default.IsExecutable);
            ChildProcess child = Remote.RemoteChild.Start(Table, $"{Name}.Worker-{n}", host.Target, ssh, command, ChildKind.ScriptBlock, daemon: true, ChildProcess.DefaultDaemonGracePeriod);
            // No fd 3 across ssh: the frames come on stdout, among whatever else the worker prints there.
            return Track(new PoolWorker(child, child.StandardInput!) { RemoteHost = host }, child.StandardOutput, passOthers: true);
        }

        /// <summary>The worker bootstrap with its frames on stdout.</summary>
        private static readonly Lazy<string> EncodedRemoteWorkerBootstrap = new Lazy<string>(() =>
        {
            const string recordsOnFd3 = "__pkOpenRecords $__pkProtocol.Modes.Records";
            if (!WorkerBootstrap.Contains(recordsOnFd3, StringComparison.Ordinal))
            {
                throw new InvalidOperationException("PoolWorker.ps1 no longer opens its records channel with '" + recordsOnFd3 + "'.");
            }
            return Convert.ToBase64String(Encoding.Unicode.GetBytes(WorkerBootstrap.Replace(recordsOnFd3, "__pkOpenRecords $__pkProtocol.Modes.RecordsOnStdout", StringComparison.Ordinal)));
        });

        /// <summary>Starts one more worker: a daemon pwsh running the worker bootstrap, records on fd 3, stdin kept open
        /// for requests; its first frame (the start frame: initialization script and its $using: values) is sent at once.</summary>
        private PoolWorker StartLocalWorker()
        {
            int n = Interlocked.Increment(ref _workerCount);
            var (file, args) = ScriptBlockLauncher.PwshCommand(EncodedWorkerBootstrap);
            if (!System.IO.Path.IsPathRooted(file))
            {
                file = ProgramLocator.Resolve(file, WorkingDirectory, Environment.GetEnvironmentVariable("PATH"), ChildSupervisor.Default.IsExecutable);
            }
            var request = new SpawnRequest(file, args, WorkingDirectory)
            {
                Kind = ChildKind.ScriptBlock,
                Daemon = true,
                CaptureRecords = true,
                RequestsChannel = true,
                Command = $"worker {n} of pool {Name}",
                Environment = ChildEnvironment.Build(Environment.GetEnvironmentVariables(),
                    new[] { new KeyValuePair<string, string?>(ChildProtocol.RequestsVariable, ChildSupervisor.Default.Platform.SupportsRecordsChannel ? ChildProtocol.RequestsDescriptor.ToString(System.Globalization.CultureInfo.InvariantCulture) : null) },
                    ProcessLog.Level),
            };
            ChildProcess child = ChildSupervisor.Default.Start(Table, $"{Name}.Worker-{n}", request);
            return Track(new PoolWorker(child, child.StandardInput!), child.Records, passOthers: false);
        }

        /// <summary>The worker's frames become events (its exit too), and it gets its start frame.</summary>
        private PoolWorker Track(PoolWorker worker, OutputBuffer frames, bool passOthers)
        {
            ChildProcess child = worker.Child;
            // Nothing arrives before the start frame below, so no line can slip past this filter.
            frames.LineFilter = line =>
            {
                if (passOthers && !line.StartsWith(ChildProtocol.FramePrefix, StringComparison.Ordinal))
                {
                    return false; // plain output of a worker whose frames share its stdout
                }
                if (!ChildProtocol.TryRelayLog(line, child.Name, child.Id))
                {
                    Events.Add(new PoolEvent(worker, line));
                }
                return true;
            };
            child.Exited.ContinueWith(_ => Events.Add(new PoolEvent(worker, null)), CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            lock (_workers)
            {
                _workers.Add(worker);
            }
            worker.Send(_startFrame);
            return worker;
        }

        /// <summary>A worker's process exited: it leaves the pool and the session's table.</summary>
        internal void Forget(PoolWorker worker)
        {
            worker.State = PoolWorkerState.Exited;
            lock (_workers)
            {
                _workers.Remove(worker);
            }
            ChildSupervisor.Default.Remove(worker.Child);
        }

        /// <summary>Ends every worker: told to exit (stdin closed) and waited for up to <see cref="ExitWait"/>, then
        /// SIGKILL; with <paramref name="force"/>, SIGKILL at once. Leaves no worker process behind.</summary>
        internal void EndWorkers(bool force, IEnumerable<PoolWorker>? only = null)
        {
            var workers = (only ?? Workers).ToList();
            if (!force)
            {
                foreach (var w in workers)
                {
                    w.State = PoolWorkerState.Retiring;
                    w.Send(ChildProtocol.EncodeLine(ChildProtocol.Tags.Exit, string.Empty));
                    w.CloseInput();
                }
                var deadline = DateTime.UtcNow + ExitWait;
                foreach (var w in workers)
                {
                    TimeSpan left = deadline - DateTime.UtcNow;
                    w.Child.WaitForExit(left > TimeSpan.Zero ? left : TimeSpan.Zero);
                }
            }
            var children = workers.Select(w => w.Child).Where(c => c.IsAlive).ToList();
            if (children.Count > 0)
            {
                ChildSupervisor.Default.Stop(children, force: true, _ => TimeSpan.Zero, force ? "pool workers ended" : "pool worker did not exit in time");
            }
            foreach (var w in workers)
            {
                w.CloseInput();
                w.Batch.Clear(); // what it ran belongs to a run that is over
                w.Index = 0;
                Forget(w);
            }
        }

        /// <summary>Remove-ChildProcessPool: the pool can no longer be used; its workers end.</summary>
        internal void Remove(bool force)
        {
            State = ChildProcessPoolState.Removed;
            EndWorkers(force);
        }

        public override string ToString() => Name;
    }
}
