using System;
using System.Collections.Generic;
using System.Linq;

namespace ProcessKit
{
    /// <summary>The children of one session (one PowerShell runspace): Python's per-process view of
    /// <c>active_children()</c> and of the <c>Process-N</c> counter. A collection only: starting, stopping and ending
    /// belong to <see cref="ChildSupervisor"/>. Thread-safe: a runspace may be driven from several threads.</summary>
    public sealed class ChildTable
    {
        private readonly object _sync = new object();
        private readonly List<ChildProcess> _children = new List<ChildProcess>();
        private int _counter;
        private bool _closed;

        internal ChildTable(string sessionName)
        {
            SessionName = sessionName;
        }

        /// <summary>For log records (e.g. "Runspace1").</summary>
        public string SessionName { get; }

        /// <summary>Serialises starts within a session, so the number a name takes is the number of the start
        /// (the first lock of the order in <see cref="ChildSupervisor"/>).</summary>
        internal object StartSync { get; } = new object();

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

        /// <summary>The number the next start takes (called under <see cref="StartSync"/>); throws once the session ended.</summary>
        internal int NextNumber()
        {
            lock (_sync)
            {
                if (_closed)
                {
                    throw new InvalidOperationException("The session that owns this child table has ended.");
                }
                return _counter + 1;
            }
        }

        /// <summary>Tracks a started child; its number is now taken.</summary>
        internal void Add(ChildProcess child, int number)
        {
            lock (_sync)
            {
                _counter = number;
                _children.Add(child);
            }
            child.Table = this;
        }

        internal void Remove(ChildProcess child)
        {
            lock (_sync)
            {
                _children.Remove(child);
            }
        }

        internal IReadOnlyList<ChildProcess> RunningDaemons()
        {
            lock (_sync)
            {
                return _children.Where(c => c.Daemon && c.IsAlive).ToArray();
            }
        }

        /// <summary>Marks the table closed (no further starts); false if it already was.</summary>
        internal bool Close()
        {
            lock (_sync)
            {
                if (_closed)
                {
                    return false;
                }
                _closed = true;
                return true;
            }
        }
    }
}
