using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using ProcessKit.Pool;

namespace ProcessKit.Commands
{
    /// <summary>Python's <c>Pool.map</c> / <c>imap_unordered</c>: runs the scriptblock once per input item in long-lived
    /// worker processes, at most -ThrottleLimit at once, and writes each item's results as objects, in input order
    /// (or as each item is done with -Unordered). Without -Pool the call makes its own pool and ends it when it
    /// finishes, however it finishes.</summary>
    [Cmdlet(VerbsLifecycle.Invoke, "ChildProcessPool")]
    [OutputType(typeof(object))]
    public sealed class InvokeChildProcessPoolCommand : PSCmdlet, IDisposable
    {
        private readonly CancellationTokenSource _cancel = new CancellationTokenSource();
        private ChildProcessPool? _pool;
        private bool _ownsPool;
        private bool _acquired;
        private PoolRun? _run;

        [Parameter(Mandatory = true, Position = 0)]
        [ValidateNotNull]
        public ScriptBlock ScriptBlock { get; set; } = null!;

        [Parameter(ValueFromPipeline = true)]
        public PSObject? InputObject { get; set; }

        /// <summary>Arguments after the item: <c>{ param($x, $k) }</c> is Python's <c>f(x, k)</c>.</summary>
        [Parameter]
        public object[]? ArgumentList { get; set; }

        /// <summary>Workers of the pool this call makes (default: the number of CPUs).</summary>
        [Parameter]
        [ValidateRange(1, int.MaxValue)]
        public int ThrottleLimit { get; set; } = Environment.ProcessorCount;

        [Parameter]
        [ValidateNotNull]
        public ChildProcessPool? Pool { get; set; }

        [Parameter]
        [ValidateNotNull]
        public ScriptBlock? InitializationScript { get; set; }

        [Parameter]
        public SwitchParameter Unordered { get; set; }

        /// <summary>Per item: an item that runs longer is ended (its worker stopped and replaced).</summary>
        [Parameter]
        public double TimeoutSeconds { get; set; } = double.PositiveInfinity;

        [Parameter]
        [ValidateRange(0, int.MaxValue)]
        public int Retry { get; set; }

        [Parameter]
        [ValidateRange(1, int.MaxValue)]
        public int BatchSize { get; set; }

        protected override void BeginProcessing()
        {
            if (StartChildProcessCommand.HasNoStatements(ScriptBlock))
            {
                ThrowTerminatingError(PoolErrors.EmptyScript());
            }
            if (double.IsNaN(TimeoutSeconds) || TimeoutSeconds <= 0)
            {
                ThrowTerminatingError(PoolErrors.InvalidTimeout(TimeoutSeconds));
            }
            ChildTable table = SessionTables.Current;
            if (Pool != null)
            {
                foreach (string p in new[] { nameof(ThrottleLimit), nameof(InitializationScript) })
                {
                    if (MyInvocation.BoundParameters.ContainsKey(p))
                    {
                        ThrowTerminatingError(PoolErrors.Conflict(p));
                    }
                }
                _pool = Pool;
            }
            else
            {
                _pool = new ChildProcessPool(PoolRegistry.NextName(table), ThrottleLimit, InitializationScript, 0, table, SessionState);
                _ownsPool = true;
            }
            if (_pool.State == ChildProcessPoolState.Removed)
            {
                ThrowTerminatingError(PoolErrors.Removed(_pool));
            }
            if (_pool.State == ChildProcessPoolState.Broken)
            {
                ThrowTerminatingError(PoolErrors.Broken(_pool));
            }
            if (!_pool.TryAcquire())
            {
                ThrowTerminatingError(PoolErrors.Busy(_pool));
            }
            _acquired = true;
            var usingValues = new Hashtable(StringComparer.OrdinalIgnoreCase);
            var options = new PoolRunOptions
            {
                Script = ScriptBlockLauncher.RewriteUsing(ScriptBlock, SessionState, usingValues),
                Using = usingValues,
                Arguments = ArgumentList ?? Array.Empty<object>(),
                Unordered = Unordered,
                Timeout = double.IsPositiveInfinity(TimeoutSeconds) ? null : TimeSpan.FromSeconds(TimeoutSeconds),
                Retry = Retry,
                BatchSize = BatchSize,
            };
            _run = new PoolRun(_pool, options, this, _cancel.Token);
        }

        protected override void ProcessRecord()
        {
            if (!MyInvocation.ExpectingInput && !MyInvocation.BoundParameters.ContainsKey(nameof(InputObject)))
            {
                return;
            }
            Guard(() => _run!.Add(InputObject));
        }

        protected override void EndProcessing()
        {
            Guard(() => _run!.Finish());
            End(aborted: false);
        }

        /// <summary>A broken or removed pool ends the run with its error; anything else (Ctrl+C, -ErrorAction Stop) ends
        /// it too, and the workers busy with its items are ended before the exception goes on.</summary>
        private void Guard(Action action)
        {
            try
            {
                action();
            }
            catch (PoolBrokenException)
            {
                End(aborted: true);
                ThrowTerminatingError(PoolErrors.Broken(_pool!));
            }
            catch (PoolRemovedException)
            {
                End(aborted: true);
                ThrowTerminatingError(PoolErrors.Removed(_pool!));
            }
            catch
            {
                End(aborted: true);
                throw;
            }
        }

        /// <summary>A one-off pool ends with its run (workers told to exit, or killed when the run was aborted); a shared
        /// pool keeps its workers, except those an aborted run left busy.</summary>
        private void End(bool aborted)
        {
            if (_pool is null || !_acquired)
            {
                return;
            }
            _acquired = false;
            try
            {
                if (_ownsPool)
                {
                    var workers = _pool.Workers.ToList();
                    _pool.Remove(force: aborted);
                    if (!aborted)
                    {
                        // Exited now, so all they wrote to their console is read: the last lines still reach the host.
                        _run?.RelayConsole(workers);
                    }
                }
                else if (aborted && _run != null)
                {
                    _pool.EndWorkers(force: true, _run.BusyWorkers.ToList());
                }
            }
            finally
            {
                _pool.Release();
            }
        }

        protected override void StopProcessing() => _cancel.Cancel();

        public void Dispose()
        {
            End(aborted: true); // a pipeline that ended another way (an exception downstream) leaves nothing running
            _cancel.Dispose();
        }

    }

    /// <summary>Python's <c>Pool(n)</c>: a pool several Invoke-ChildProcessPool calls share (<c>with Pool(4) as p:</c>).</summary>
    [Cmdlet(VerbsCommon.New, "ChildProcessPool")]
    [OutputType(typeof(ChildProcessPool))]
    public sealed partial class NewChildProcessPoolCommand : PSCmdlet
    {
        [Parameter]
        [ValidateRange(1, int.MaxValue)]
        public int ThrottleLimit { get; set; } = Environment.ProcessorCount;

        [Parameter]
        [ValidateNotNullOrEmpty]
        [ValidateNoControlCharacters]
        public string? Name { get; set; }

        [Parameter]
        [ValidateNotNull]
        public ScriptBlock? InitializationScript { get; set; }

        /// <summary>Python's <c>maxtasksperchild</c>: a worker is replaced after this many items (default: never — a
        /// pwsh costs about half a second to start).</summary>
        [Parameter]
        [ValidateRange(1, int.MaxValue)]
        public int MaxItemsPerWorker { get; set; }

        /// <summary>Workers on these hosts over ssh (<c>[user@]host[:port]</c>): -ThrottleLimit on each, or one
        /// hashtable host → worker count. One queue over all of them.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public object[]? HostName { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? UserName { get; set; }

        [Parameter]
        [ValidateRange(1, 65535)]
        public int Port { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? KeyFilePath { get; set; }

        [Parameter]
        public Hashtable? SSHOption { get; set; }

        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? RemotePwsh { get; set; }

        [Parameter]
        [ValidateRange(1, 600)]
        public int ConnectTimeout { get; set; } = Remote.SshTarget.DefaultConnectTimeoutSeconds;

        protected override void EndProcessing()
        {
            ChildTable table = SessionTables.Current;
            List<RemotePoolHost>? hosts = null;
            try
            {
                hosts = RemoteHosts();
            }
            catch (ChildStartException e)
            {
                ThrowTerminatingError(ErrorHelper.StartFailure(e, HostName));
            }
            var pool = new ChildProcessPool(Name ?? PoolRegistry.NextName(table), ThrottleLimit, InitializationScript, MaxItemsPerWorker, table, SessionState);
            if (hosts != null)
            {
                pool.UseRemoteHosts(hosts);
            }
            PoolRegistry.Add(table, pool);
            WriteObject(pool);
        }
    }

    public sealed partial class NewChildProcessPoolCommand
    {
        private List<RemotePoolHost>? RemoteHosts()
        {
            if (HostName is null)
            {
                string? stray = Remote.SshTarget.StrayRemoteOnlyParameter(MyInvocation.BoundParameters);
                if (stray != null)
                {
                    throw new ChildStartException($"-{stray} applies only to a pool with remote workers (with -HostName).");
                }
                return null;
            }
            var slots = new List<(string Host, int Count)>();
            foreach (object? o in HostName)
            {
                object? value = o is PSObject pso ? pso.BaseObject : o;
                if (value is IDictionary map)
                {
                    foreach (DictionaryEntry e in map)
                    {
                        int count = LanguagePrimitives.ConvertTo<int>(e.Value);
                        if (count < 1)
                        {
                            throw new ChildStartException($"host '{e.Key}' must take at least one worker (got {count}).");
                        }
                        slots.Add((LanguagePrimitives.ConvertTo<string>(e.Key), count));
                    }
                }
                else if (value != null)
                {
                    slots.Add((LanguagePrimitives.ConvertTo<string>(value), ThrottleLimit));
                }
            }
            if (slots.Count == 0)
            {
                throw new ChildStartException("-HostName names no host.");
            }
            string? key = KeyFilePath is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(KeyFilePath);
            int? port = MyInvocation.BoundParameters.ContainsKey(nameof(Port)) ? Port : null;
            return slots.Select(h => new RemotePoolHost(new Remote.SshTarget(h.Host, UserName, port, key, SSHOption, ConnectTimeout), h.Count, RemotePwsh)).ToList();
        }
    }

    /// <summary>The pools of this session.</summary>
    [Cmdlet(VerbsCommon.Get, "ChildProcessPool")]
    [OutputType(typeof(ChildProcessPool))]
    public sealed class GetChildProcessPoolCommand : PSCmdlet
    {
        [Parameter(Position = 0)]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        public string[]? Name { get; set; }

        protected override void EndProcessing()
        {
            var pools = PoolRegistry.All(SessionTables.Current);
            if (Name is null)
            {
                WriteObject(pools, enumerateCollection: true);
                return;
            }
            foreach (string name in Name)
            {
                WriteObject(PoolRegistry.Named(this, pools, name), enumerateCollection: true);
            }
        }
    }

    /// <summary>Ends a pool and its workers (Python's <c>pool.close(); pool.join()</c>; with -Force, <c>terminate()</c>).</summary>
    [Cmdlet(VerbsCommon.Remove, "ChildProcessPool", SupportsShouldProcess = true, DefaultParameterSetName = "Pool")]
    [OutputType(typeof(void))]
    public sealed class RemoveChildProcessPoolCommand : PSCmdlet
    {
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = "Pool")]
        [ValidateNotNull]
        public ChildProcessPool[] Pool { get; set; } = Array.Empty<ChildProcessPool>();

        [Parameter(Mandatory = true, ParameterSetName = "Name")]
        [SupportsWildcards]
        [ValidateNotNullOrEmpty]
        public string[] Name { get; set; } = Array.Empty<string>();

        /// <summary>End the workers at once (SIGKILL), without waiting for items they run.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        protected override void ProcessRecord()
        {
            ChildTable table = SessionTables.Current;
            var pools = ParameterSetName == "Name"
                ? Name.SelectMany(n => PoolRegistry.Named(this, PoolRegistry.All(table), n)).ToList()
                : Pool.ToList();
            foreach (var pool in pools.Distinct())
            {
                if (!ShouldProcess($"{pool.Name} ({pool.Workers.Count} worker(s))", "Remove-ChildProcessPool"))
                {
                    continue;
                }
                pool.Remove(Force);
                PoolRegistry.Remove(pool.Table, pool);
            }
        }
    }
}
