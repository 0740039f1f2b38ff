using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Runtime.CompilerServices;

namespace ProcessKit.Pool
{
    /// <summary>A pool's initialization failed; no run can use it.</summary>
    public sealed class PoolBrokenException : Exception
    {
        public PoolBrokenException(string reason)
            : base($"The pool cannot run items: {reason}")
        {
        }
    }

    /// <summary>The pool was removed.</summary>
    public sealed class PoolRemovedException : Exception
    {
        public PoolRemovedException()
            : base("The pool was removed (Remove-ChildProcessPool); make a new one with New-ChildProcessPool.")
        {
        }
    }

    /// <summary>A worker died while it ran an item.</summary>
    public sealed class PoolWorkerDiedException : Exception
    {
        public PoolWorkerDiedException(string message, int? exitCode)
            : base(message)
        {
            ExitCode = exitCode;
        }

        /// <summary>The worker's exit code: -9 for SIGKILL (the OOM killer, kill -9), -N for signal N.</summary>
        public int? ExitCode { get; }
    }

    /// <summary>An item ran longer than -TimeoutSeconds.</summary>
    public sealed class PoolItemTimeoutException : TimeoutException
    {
        public PoolItemTimeoutException(string message)
            : base(message)
        {
        }
    }

    /// <summary>The pool's error records, with their stable ids.</summary>
    internal static class PoolErrors
    {
        public const string WorkerDiedId = "ChildProcessPoolWorkerDied";
        public const string ItemTimeoutId = "ChildProcessPoolItemTimeout";
        public const string NotSerializableId = "ChildProcessPoolItemNotSerializable";
        public const string InitializationFailedId = "ChildProcessPoolInitializationFailed";
        public const string RemovedId = "ChildProcessPoolRemoved";
        public const string BusyId = "ChildProcessPoolBusy";
        public const string EmptyScriptId = "ChildProcessPoolEmptyScript";
        public const string InvalidTimeoutId = "ChildProcessPoolInvalidTimeout";
        public const string ParameterConflictId = "ChildProcessPoolParameterConflict";
        public const string NotFoundId = "ChildProcessPoolNotFound";

        public static ErrorRecord WorkerDied(object? item, PoolWorker worker)
        {
            int? code = worker.Child.ExitCode;
            string how = code is int c ? (c < 0 ? $"was ended by signal {-c} (exit code {c})" : $"exited with exit code {c}") : "was reaped by another process (exit code unknown)";
            var e = new PoolWorkerDiedException($"The pool worker {worker.Name} (pid {worker.Id}) {how} while it ran this item, so nothing the item wrote came back (a worker sends an item's output when the item ends); a new worker takes its place. An exit in an item, or a break or continue to a label the item does not have, ends its worker: to end an item early, use return or throw.", code);
            return new ErrorRecord(e, WorkerDiedId, ErrorCategory.OperationStopped, item);
        }

        public static ErrorRecord ItemTimeout(object? item, TimeSpan timeout, PoolWorker worker)
        {
            var e = new PoolItemTimeoutException($"The item ran longer than {timeout.TotalSeconds:0.###} s (-TimeoutSeconds); its worker {worker.Name} (pid {worker.Id}) was stopped and replaced, so nothing the item wrote came back.");
            return new ErrorRecord(e, ItemTimeoutId, ErrorCategory.OperationTimeout, item);
        }

        public static ErrorRecord NotSerializable(object? item, Exception e) =>
            new ErrorRecord(new ArgumentException($"The item cannot be serialized for a worker process, so it was not run: {e.Message}", e), NotSerializableId, ErrorCategory.InvalidData, item);

        public static ErrorRecord Broken(ChildProcessPool pool) =>
            new ErrorRecord(new PoolBrokenException(pool.BrokenReason ?? "its initialization failed"), InitializationFailedId, ErrorCategory.InvalidOperation, pool);

        public static ErrorRecord Removed(ChildProcessPool pool) =>
            new ErrorRecord(new PoolRemovedException(), RemovedId, ErrorCategory.InvalidOperation, pool);

        public static ErrorRecord Busy(ChildProcessPool pool) =>
            new ErrorRecord(new InvalidOperationException($"The pool {pool.Name} is running another Invoke-ChildProcessPool; a pool runs one at a time."), BusyId, ErrorCategory.ResourceBusy, pool);

        public static ErrorRecord EmptyScript() =>
            new ErrorRecord(new ArgumentException("The scriptblock is empty: there is nothing to run."), EmptyScriptId, ErrorCategory.InvalidArgument, null);

        public static ErrorRecord InvalidTimeout(double value) =>
            new ErrorRecord(new ArgumentOutOfRangeException("TimeoutSeconds", value, "-TimeoutSeconds must be a number of seconds above 0 (or infinity)."), InvalidTimeoutId, ErrorCategory.InvalidArgument, value);

        public static ErrorRecord Conflict(string parameter) =>
            new ErrorRecord(new ArgumentException($"-{parameter} belongs to the pool: give it to New-ChildProcessPool, not with -Pool."), ParameterConflictId, ErrorCategory.InvalidArgument, parameter);

        public static ErrorRecord NotFound(string name) =>
            new ErrorRecord(new ItemNotFoundException($"No pool named '{name}' in this session."), NotFoundId, ErrorCategory.ObjectNotFound, name);

        /// <summary>The messages of the error records among <paramref name="frames"/> (what an initialization script wrote).</summary>
        public static string Describe(IReadOnlyList<string> frames)
        {
            var messages = new List<string>();
            foreach (string line in frames)
            {
                if (ChildProtocol.TryParse(line, out var frame) && frame.Tag == ChildProtocol.Tags.Error &&
                    ChildProtocol.TryDecodeClixml(frame.Body, out string xml))
                {
                    try
                    {
                        var pso = PSObject.AsPSObject(PSSerializer.Deserialize(xml));
                        messages.Add(pso.Properties["Exception"]?.Value is PSObject ex ? ex.Properties["Message"]?.Value?.ToString() ?? pso.ToString() : pso.ToString());
                    }
                    catch (Exception e) when (e is System.Xml.XmlException || e is InvalidOperationException)
                    {
                        messages.Add("(an error record that could not be read)");
                    }
                }
            }
            return messages.Count > 0 ? string.Join("; ", messages) : "(it wrote no error record)";
        }
    }

    /// <summary>The pools of each session (runspace), by its child table.</summary>
    internal static class PoolRegistry
    {
        private static readonly ConditionalWeakTable<ChildTable, SessionPools> Pools = new ConditionalWeakTable<ChildTable, SessionPools>();

        private sealed class SessionPools
        {
            public readonly List<ChildProcessPool> List = new List<ChildProcessPool>();
            public int Counter;
        }

        public static string NextName(ChildTable table)
        {
            var pools = Pools.GetOrCreateValue(table);
            lock (pools)
            {
                return $"Pool-{++pools.Counter}";
            }
        }

        public static void Add(ChildTable table, ChildProcessPool pool)
        {
            var pools = Pools.GetOrCreateValue(table);
            lock (pools)
            {
                pools.List.Add(pool);
            }
        }

        public static void Remove(ChildTable table, ChildProcessPool pool)
        {
            var pools = Pools.GetOrCreateValue(table);
            lock (pools)
            {
                pools.List.Remove(pool);
            }
        }

        /// <summary>The pools named <paramref name="name"/>: an exact name (any case), else a wildcard; a literal name that
        /// matches nothing writes ChildProcessPoolNotFound, a wildcard that matches nothing is silent.</summary>
        public static List<ChildProcessPool> Named(Cmdlet cmdlet, IReadOnlyList<ChildProcessPool> pools, string name)
        {
            var pattern = WildcardPattern.Get(name, WildcardOptions.IgnoreCase);
            var matches = pools.Where(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase) || pattern.IsMatch(p.Name)).ToList();
            if (matches.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(name))
            {
                cmdlet.WriteError(PoolErrors.NotFound(name));
            }
            return matches;
        }

        public static IReadOnlyList<ChildProcessPool> All(ChildTable table)
        {
            var pools = Pools.GetOrCreateValue(table);
            lock (pools)
            {
                return pools.List.ToArray();
            }
        }
    }
}
