using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;

namespace ProcessKit
{
    /// <summary>The children of one session (one PowerShell runspace): Python's per-process view of
    /// <c>active_children()</c> and of the <c>Process-N</c> counter. Thread-safe: a runspace may be driven
    /// from several threads, and the supervisor completes children from its own.</summary>
    public sealed class ChildTable
    {
        private static readonly object AllSync = new object();
        private static readonly List<WeakReference<ChildTable>> AllTables = new List<WeakReference<ChildTable>>();

        private readonly object _sync = new object();
        /// <summary>Serialises starts within a session, so the number a name takes is the number of the start.</summary>
        private readonly object _startSync = new object();
        private readonly List<ChildProcess> _children = new List<ChildProcess>();
        private int _counter;
        private bool _closed;

        public ChildTable(string sessionName)
        {
            SessionName = sessionName;
            lock (AllSync)
            {
                AllTables.RemoveAll(w => !w.TryGetTarget(out _));
                AllTables.Add(new WeakReference<ChildTable>(this));
            }
        }

        /// <summary>For log records (e.g. "Runspace1").</summary>
        public string SessionName { get; }

        public bool IsClosed
        {
            get { lock (_sync) { return _closed; } }
        }

        /// <summary>Tracked children in start order.</summary>
        public IReadOnlyList<ChildProcess> Children
        {
            get { lock (_sync) { return _children.ToArray(); } }
        }

        /// <summary>The default name of the n-th child: <c>Process-n</c>, or <c>&lt;own name&gt;:n</c> inside a ProcessKit child.</summary>
        public static string DefaultName(int n)
        {
            string? parent = Environment.GetEnvironmentVariable(ChildEnvironment.NameVariable);
            return string.IsNullOrEmpty(parent) ? $"Process-{n}" : $"{parent}:{n}";
        }

        /// <summary>Starts a child and tracks it. As Python's process counter, every child started takes the next
        /// number, named or not, and an unnamed one is called by it (<see cref="DefaultName"/>); a failed start takes
        /// no number. Throws <see cref="ChildStartException"/> with the OS reason; nothing is tracked then.</summary>
        public ChildProcess Start(string? name, SpawnRequest request)
        {
            lock (_startSync)
            {
                lock (_sync)
                {
                    if (_closed)
                    {
                        throw new InvalidOperationException("The session that owns this child table has ended.");
                    }
                }
                int n = _counter + 1;
                ChildProcess child = ProcessPlatform.Current.Start(name ?? DefaultName(n), request, this);
                _counter = n;
                lock (_sync)
                {
                    _children.Add(child);
                }
                return child;
            }
        }

        /// <summary>The child with process id <paramref name="id"/>. Pids are reused (pid_max may be 32768), so an
        /// exited child can share its id with a running one: the running child wins (there is at most one), and among
        /// exited ones the newest (the last started), the one a user most likely means.</summary>
        public ChildProcess? FindById(int id)
        {
            ChildProcess[] withId;
            lock (_sync)
            {
                withId = _children.Where(c => c.Id == id).ToArray();
            }
            return withId.LastOrDefault(c => c.IsAlive) ?? withId.LastOrDefault();
        }

        /// <summary>Stops tracking an exited child and frees its buffers.</summary>
        public bool Remove(ChildProcess child)
        {
            if (child.IsAlive)
            {
                return false;
            }
            lock (_sync)
            {
                _children.Remove(child);
            }
            child.Removed = true;
            child.StandardOutput.Clear();
            child.StandardError.Clear();
            return true;
        }

        /// <summary>Session end (runspace closed, module removed): SIGTERM every running daemon's group, wait up
        /// to each one's grace period, then SIGKILL. Non-daemon children are left running, as SPEC says.</summary>
        public void EndDaemons(string why)
        {
            ChildProcess[] daemons;
            lock (_sync)
            {
                daemons = _children.Where(c => c.Daemon && c.IsAlive).ToArray();
            }
            EndDaemons(daemons, why);
        }

        /// <summary>How long closing a runspace waits for its daemons in line. Closing is also the first step of
        /// `exit`, so it must not hold the session up for a daemon's whole grace period: the rest of the SIGTERM →
        /// grace → SIGKILL sequence goes on in the background, and if the process ends meanwhile the daemons'
        /// guardians finish it.</summary>
        public static readonly TimeSpan CloseWait = TimeSpan.FromMilliseconds(300);

        /// <summary>Ends the daemons and marks the table closed (no further starts).</summary>
        public void Close(string why)
        {
            lock (_sync)
            {
                if (_closed)
                {
                    return;
                }
                _closed = true;
            }
            var ending = System.Threading.Tasks.Task.Run(() => EndDaemons(why));
            ending.Wait(CloseWait);
        }

        /// <summary>Every running daemon of every live table of this process (the process-exit path).</summary>
        public static IReadOnlyList<ChildProcess> AllRunningDaemons()
        {
            var result = new List<ChildProcess>();
            lock (AllSync)
            {
                foreach (var weak in AllTables)
                {
                    if (weak.TryGetTarget(out var table))
                    {
                        result.AddRange(table.Children.Where(c => c.Daemon && c.IsAlive));
                    }
                }
            }
            return result;
        }

        internal static void EndDaemons(IReadOnlyList<ChildProcess> daemons, string why, TimeSpan? maxWait = null)
        {
            foreach (var d in daemons)
            {
                ProcessLog.Info($"ending daemon {d.Name} (pid {d.Id}) because {why}");
            }
            ChildProcess.StopAll(daemons, force: false, d => d.DaemonGracePeriod, why, maxWait);
        }
    }
}
