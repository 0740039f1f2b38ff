using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;
using System.Threading.Tasks;

namespace ProcessKit
{
    /// <summary>The one owner of the child lifecycle: it keeps the per-session tables, starts children, stops them
    /// (SIGTERM → one shared grace period → SIGKILL), and ends daemons when their session ends — runspace close,
    /// <c>Remove-Module</c>, process exit, SIGTERM, SIGHUP — and arms the lifeline that ends them when the session's
    /// process dies in a way nothing in-process sees (SIGKILL, a crash). Who ends daemons? This class, and for the
    /// deaths it cannot see, the lifeline it armed. The OS work is behind <see cref="IProcessPlatform"/>.
    ///
    /// Locks, in the only order they are ever taken (docs/design.md, "Locks"):
    /// <list type="number">
    /// <item><see cref="ChildTable"/>'s start lock: held across one start (spawn, lifeline, the "started" record), so a
    /// session's children take their numbers in start order. Only other starts of the same session wait on it.</item>
    /// <item><see cref="_tablesSync"/> and <see cref="ChildTable"/>'s list lock: list operations only.</item>
    /// <item><see cref="ChildProcess"/>'s lock: reads and writes of its state fields only — no I/O, no logging, no
    /// callbacks.</item>
    /// <item>The platform's reap gate of one child (Unix: kill(2) and waitpid(2) only, so a signal never reaches a pid
    /// the kernel may have reused).</item>
    /// <item><see cref="ProcessLog"/>'s lock, always last: one record's write to the sink, so lines never interleave.</item>
    /// </list>
    /// Nothing that blocks (waits, pipe writes, log writes) runs under any of 2–4.</summary>
    public sealed class ChildSupervisor
    {
        /// <summary>Stop-ChildProcess waits this long after SIGTERM before SIGKILL (SPEC: 5 s).</summary>
        public static readonly TimeSpan DefaultStopGracePeriod = TimeSpan.FromSeconds(5);

        /// <summary>Session end: SIGTERM → this → SIGKILL. One second leaves room inside SPEC's
        /// "nothing of a daemon is left two seconds after its session is gone".</summary>
        public static readonly TimeSpan DefaultDaemonGracePeriod = TimeSpan.FromSeconds(1);

        /// <summary>How long to wait for a SIGKILLed child to be reaped before giving up (a process in
        /// uninterruptible sleep can take a moment; it must not hang the caller forever).</summary>
        internal static readonly TimeSpan KillReapTimeout = TimeSpan.FromSeconds(30);

        /// <summary>How long closing a runspace waits for its daemons in line. Closing is also the first step of
        /// `exit`, so it must not hold the session up for a daemon's whole grace period: the rest of the SIGTERM →
        /// grace → SIGKILL sequence goes on in the background, and if the process ends meanwhile the lifeline
        /// finishes it.</summary>
        public static readonly TimeSpan SessionCloseWait = TimeSpan.FromMilliseconds(300);

        /// <summary>At process exit, wait this long in line for daemons to take their SIGTERM (so their exit is
        /// logged); the lifeline finishes the job once the process is gone, so `exit` is never held up by a daemon
        /// that ignores SIGTERM.</summary>
        public static readonly TimeSpan ProcessExitWait = TimeSpan.FromMilliseconds(300);

        /// <summary>Poll interval while a stopped child's group still has members after its leader exited. Only
        /// this rare case polls; the normal wait is event-driven.</summary>
        private const int StragglerPollMs = 50;

        private static readonly Lazy<ChildSupervisor> DefaultInstance = new Lazy<ChildSupervisor>(() =>
        {
            var supervisor = new ChildSupervisor(Platforms.ForThisMachine());
            supervisor.HookProcessEnd();
            return supervisor;
        });

        private readonly ConditionalWeakTable<object, ChildTable> _tables = new ConditionalWeakTable<object, ChildTable>();
        private readonly ConditionalWeakTable<ChildTable, WarmHostPool> _warmPools = new ConditionalWeakTable<ChildTable, WarmHostPool>();
        private readonly object _tablesSync = new object();
        private readonly List<IDisposable> _signalHooks = new List<IDisposable>();
        private int _processEnding;

        internal ChildSupervisor(IProcessPlatform platform)
        {
            Platform = platform;
        }

        /// <summary>The supervisor of this process, on this machine's platform, hooked to the process's end.</summary>
        public static ChildSupervisor Default => DefaultInstance.Value;

        internal IProcessPlatform Platform { get; }

        /// <summary>True when <paramref name="path"/> names a file this process may execute.</summary>
        public bool IsExecutable(string path) => Platform.IsExecutable(path);

        /// <summary>The table of <paramref name="session"/> (a runspace), created on first use. The session object is
        /// held weakly: a session that is gone takes its table with it.</summary>
        public ChildTable TableFor(object session, string sessionName) => TableFor(session, sessionName, out _);

        /// <summary>As <see cref="TableFor(object, string)"/>; <paramref name="created"/> tells the one caller that made it.</summary>
        public ChildTable TableFor(object session, string sessionName, out bool created)
        {
            lock (_tablesSync)
            {
                created = !_tables.TryGetValue(session, out ChildTable? table);
                if (table is null)
                {
                    table = new ChildTable(sessionName);
                    _tables.Add(session, table);
                }
                return table;
            }
        }

        private List<ChildTable> AllTables()
        {
            lock (_tablesSync)
            {
                return _tables.Select(kv => kv.Value).ToList();
            }
        }

        /// <summary>Starts a child and tracks it in <paramref name="table"/>. As Python's process counter, every child
        /// started takes the next number, named or not, and an unnamed one is called by it
        /// (<see cref="ChildTable.DefaultName"/>); a failed start takes no number. A daemon is tracked only once its
        /// lifeline is armed. Throws <see cref="ChildStartException"/> with the OS reason; nothing is tracked then.</summary>
        public ChildProcess Start(ChildTable table, string? name, SpawnRequest request)
        {
            lock (table.StartSync)
            {
                int n = table.NextNumber();
                string childName = name ?? ChildTable.DefaultName(n);
                if (request.HostPayload != null)
                {
                    if (WarmPool(table) is WarmHostPool pool && WarmHostPool.TargetCount > 0)
                    {
                        ChildProcess? warm = pool.Take(request) is WarmHost host ? StartOnHost(table, n, childName, request, host, pool) : null;
                        pool.RefillAfter(warm);
                        if (warm != null)
                        {
                            return warm;
                        }
                    }
                    request.StandardInput ??= request.HostPayload(null);
                }
                LogSpawning(childName, request);
                IChildHandle handle = Platform.Spawn(childName, request);
                if (request.Daemon)
                {
                    try
                    {
                        Platform.ArmLifeline(handle, childName, request.DaemonGracePeriod);
                    }
                    catch (ChildStartException e)
                    {
                        // No lifeline, no daemon guarantee: undo the start rather than track a daemon that could leak.
                        Platform.Discard(handle);
                        throw new ChildStartException($"Cannot start daemon {childName}: its lifeline could not be armed ({e.Message})", e.OsError);
                    }
                }
                var child = new ChildProcess(childName, handle, request, this);
                table.Add(child, n);
                ProcessLog.Info($"child process {child.Name} started (pid {child.Id}{(child.Daemon ? ", daemon" : "")}): {child.Command}");
                if (request.KeepStandardInputOpen || request.RequestsChannel)
                {
                    child.StandardInput = Platform.TakeStandardInput(handle);
                }
                Platform.Watch(handle, child); // from here on its exit can be reported, after the "started" record
                return child;
            }
        }

        /// <summary>The idle warm hosts of <paramref name="table"/>'s session, created on first use; null on a platform
        /// without them.</summary>
        internal WarmHostPool? WarmPool(ChildTable table)
        {
            if (Platform is not IWarmHostPlatform warm)
            {
                return null;
            }
            lock (_tablesSync)
            {
                return _warmPools.GetValue(table, _ => new WarmHostPool(this, warm));
            }
        }

        /// <summary>A scriptblock child on an idle warm host, under the table's start lock as a cold start: the host is
        /// adopted (its output and exit now the child's; for a daemon, its lifeline armed), tracked, logged as started,
        /// then given its payload with the start entry — its name, the environment as a diff against the host's
        /// spawn-time one, and the location — and only then may its exit be reported. Null when the host died while
        /// idle (the caller starts cold).</summary>
        private ChildProcess? StartOnHost(ChildTable table, int n, string childName, SpawnRequest request, WarmHost host, WarmHostPool pool)
        {
            var warm = (IWarmHostPlatform)Platform;
            IChildHandle handle = host.Handle!;
            var child = new ChildProcess(childName, handle, request, this);
            bool adopted;
            try
            {
                adopted = warm.Adopt(handle, child, childName, request.Daemon ? request.DaemonGracePeriod : (TimeSpan?)null);
            }
            catch (ChildStartException e)
            {
                pool.Discard(host);
                throw new ChildStartException($"Cannot start daemon {childName}: its lifeline could not be armed ({e.Message})", e.OsError);
            }
            if (!adopted)
            {
                pool.Discard(host);
                return null;
            }
            byte[] payload;
            try
            {
                var target = ChildEnvironment.ForChild(request.Environment, childName);
                payload = request.HostPayload!(new WarmStart(childName, WarmHostPool.Diff(host.Environment, target), request.WorkingDirectory));
            }
            catch
            {
                Platform.Signal(handle, ChildSignal.Kill);
                host.CloseInput();
                warm.Release(handle);
                throw;
            }
            ProcessLog.Debug($"{childName} takes warm host (pid {handle.Id})");
            table.Add(child, n);
            ProcessLog.Info($"child process {child.Name} started (pid {child.Id}{(child.Daemon ? ", daemon" : "")}): {child.Command}");
            WarmHostPool.Feed(host, payload);
            warm.Release(handle); // from here on its exit can be reported, after the "started" record
            return child;
        }

        /// <summary>Stops tracking an exited child and frees what its output holds. False while it runs.</summary>
        public bool Remove(ChildProcess child)
        {
            if (child.IsAlive)
            {
                return false;
            }
            child.Table?.Remove(child);
            child.Release();
            return true;
        }

        /// <summary>Stops one child: Python's <c>terminate()</c> or, with <paramref name="force"/>, <c>kill()</c>.</summary>
        public void Stop(ChildProcess child, bool force, TimeSpan gracePeriod, string reason, CancellationToken cancellationToken = default) =>
            Stop(new[] { child }, force, _ => gracePeriod, reason, null, cancellationToken);

        /// <summary>Stops many children at once: every signal first, then one shared grace period, then SIGKILL for those
        /// still alive, so N stubborn children cost one grace period, not N. A stopped child's whole group is ended:
        /// members its leader left behind get the rest of the grace, then SIGKILL. <paramref name="waitLimit"/> bounds
        /// the whole wait (session end: the lifeline finishes the job); a child whose grace is longer than it is not
        /// SIGKILLed here. Ctrl+C (<paramref name="cancellationToken"/>) ends the wait; signals already sent stay sent.
        /// Returns once every child exited (or the bound passed). An exited child is left alone.</summary>
        public void Stop(IReadOnlyList<ChildProcess> children, bool force, Func<ChildProcess, TimeSpan> gracePeriod, string reason,
            TimeSpan? waitLimit = null, CancellationToken cancellationToken = default)
        {
            var running = new List<ChildProcess>();
            foreach (var child in children)
            {
                if (child.MarkStopRequested())
                {
                    SendSignal(child, force ? ChildSignal.Kill : ChildSignal.Terminate, reason);
                    running.Add(child);
                }
            }
            DateTime start = DateTime.UtcNow;
            if (!force)
            {
                foreach (var child in running)
                {
                    TimeSpan grace = gracePeriod(child);
                    bool mayKill = !waitLimit.HasValue || grace <= waitLimit.Value;
                    TimeSpan wait = mayKill ? grace : waitLimit!.Value;
                    TimeSpan left = wait - (DateTime.UtcNow - start);
                    if (child.WaitForExit(left > TimeSpan.Zero ? left : TimeSpan.Zero, cancellationToken))
                    {
                        continue;
                    }
                    if (cancellationToken.IsCancellationRequested)
                    {
                        return;
                    }
                    if (mayKill)
                    {
                        ProcessLog.Info($"grace period of {grace.TotalSeconds:0.###}s expired for {child.Name} (pid {child.Id}); sending SIGKILL");
                        SendSignal(child, ChildSignal.Kill, "grace period expired");
                    }
                }
            }
            if (waitLimit.HasValue)
            {
                return;
            }
            if (!force)
            {
                EndStragglers(running, gracePeriod, start, cancellationToken);
            }
            foreach (var child in running)
            {
                if (!child.WaitForExit(KillReapTimeout, cancellationToken) && cancellationToken.IsCancellationRequested)
                {
                    return;
                }
            }
        }

        /// <summary>A leader that exited on SIGTERM may leave group members that ignore it: they get the rest of the
        /// grace period, then SIGKILL.</summary>
        private void EndStragglers(List<ChildProcess> stopped, Func<ChildProcess, TimeSpan> gracePeriod, DateTime start,
            CancellationToken cancellationToken)
        {
            var pending = stopped.Where(c => !c.IsAlive).ToList();
            while (pending.Count > 0 && !cancellationToken.IsCancellationRequested)
            {
                ISet<int> live = Platform.LiveProcessGroups(pending.Select(c => c.Id).ToList());
                pending.RemoveAll(c => !live.Contains(c.Id));
                foreach (var child in pending.Where(c => DateTime.UtcNow - start >= gracePeriod(c)).ToList())
                {
                    ProcessLog.Info($"grace period expired for what {child.Name} (pid {child.Id}) left in process group {child.Id}; sending SIGKILL");
                    Platform.KillGroup(child.Id);
                    pending.Remove(child);
                }
                if (pending.Count > 0)
                {
                    cancellationToken.WaitHandle.WaitOne(StragglerPollMs);
                }
            }
        }

        private void SendSignal(ChildProcess child, ChildSignal signal, string reason)
        {
            if (!child.IsAlive)
            {
                return;
            }
            // Logged before it is sent, so the record precedes the exit it causes. The platform refuses a child that was
            // reaped meanwhile, so a record may rarely name a signal that a just-exited child no longer needed.
            ProcessLog.Info($"sending {Platforms.SignalName(signal)} to {child.Name} (pid {child.Id}, process group {child.Id}): {reason}");
            if (child.SignalForwarder?.Invoke(signal) != true)
            {
                Platform.Signal(child.Handle, signal);
            }
        }

        /// <summary>The session's runspace is closing (or closed, or broken): no more starts; its daemons end, waited
        /// for in line only <see cref="SessionCloseWait"/>. Non-daemon children are left running, as SPEC says.</summary>
        public void EndSession(ChildTable table, string why)
        {
            if (!table.Close())
            {
                return;
            }
            ClosePool(table);
            var ending = Task.Run(() => EndDaemons(table.RunningDaemons(), why, waitLimit: null));
            ending.Wait(SessionCloseWait);
        }

        /// <summary><c>Remove-Module</c>: the table's daemons end (SIGTERM → grace → SIGKILL), waited for.</summary>
        public void EndDaemons(ChildTable table, string why) => EndDaemons(table.RunningDaemons(), why, waitLimit: null);

        private void EndDaemons(IReadOnlyList<ChildProcess> daemons, string why, TimeSpan? waitLimit)
        {
            foreach (var d in daemons)
            {
                ProcessLog.Info($"ending daemon {d.Name} (pid {d.Id}) because {why}");
            }
            Stop(daemons, force: false, d => d.DaemonGracePeriod, why, waitLimit);
        }

        /// <summary>The session's process is ending gracefully (exit, end of script, SIGTERM, SIGHUP): end the daemons
        /// of every session in it, once, waiting in line only <see cref="ProcessExitWait"/> (the lifeline finishes the
        /// job), then hand the output of the children that outlive it to readers of their own.</summary>
        internal void OnProcessEnding(string why)
        {
            if (Interlocked.Exchange(ref _processEnding, 1) != 0)
            {
                return;
            }
            foreach (var t in AllTables())
            {
                ClosePool(t); // idle hosts end now, and no drainer is started for their pipes
            }
            var daemons = AllTables().SelectMany(t => t.RunningDaemons()).ToList();
            ProcessLog.Info($"process shutting down: {why}; {daemons.Count} daemon(s) to end");
            EndDaemons(daemons, why, ProcessExitWait);
            Platform.HandOffOutput();
        }

        private void ClosePool(ChildTable table)
        {
            WarmHostPool? pool;
            lock (_tablesSync)
            {
                _warmPools.TryGetValue(table, out pool);
            }
            pool?.Close();
        }

        /// <summary>The in-process ends of the whole process. Runspace close and Remove-Module come from the module layer.</summary>
        private void HookProcessEnd()
        {
            AppDomain.CurrentDomain.ProcessExit += (_, _) => OnProcessEnding("the session is exiting");
            try
            {
                // pwsh ends on SIGTERM without raising ProcessExit, and a closed terminal sends SIGHUP: end (and log) the
                // daemons first. Not cancelled, so the runtime's default (ending the process) still follows.
                _signalHooks.Add(PosixSignalRegistration.Create(PosixSignal.SIGHUP, _ => OnProcessEnding("the session received SIGHUP")));
                _signalHooks.Add(PosixSignalRegistration.Create(PosixSignal.SIGTERM, _ => OnProcessEnding("the session received SIGTERM")));
            }
            catch (PlatformNotSupportedException)
            {
                // Only ProcessExit then; the lifeline covers the rest.
            }
        }

        /// <summary>The Debug record of a spawn, built only when Debug is on (it joins the whole argv).</summary>
        private static void LogSpawning(string name, SpawnRequest request)
        {
            if (ProcessLog.IsEnabled(LogLevel.Debug))
            {
                var argv = new[] { request.FileName }.Concat(request.Arguments).Select(Abbreviate);
                ProcessLog.Debug($"spawning {name}: argv [{string.Join(", ", argv)}], working directory '{request.WorkingDirectory}', output {request.OutputMode}");
            }
        }

        /// <summary>Long arguments (the encoded bootstrap of a scriptblock child) are cut for the debug log.</summary>
        private static string Abbreviate(string arg) => arg.Length <= 80 ? arg : arg.Substring(0, 40) + $"…({arg.Length} chars)";
    }
}
