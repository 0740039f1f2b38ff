using System;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Runtime.CompilerServices;

namespace ProcessKit.Commands
{
    /// <summary>One <see cref="ChildTable"/> per runspace, as PSOpenAD's RunspaceSpecificStorage: a runspace sees only
    /// its own children, and its daemons end when it closes. The weak table lets a dead runspace's entry go.</summary>
    internal static class SessionTables
    {
        private static readonly ConditionalWeakTable<Runspace, ChildTable> Tables = new ConditionalWeakTable<Runspace, ChildTable>();
        private static readonly object Sync = new object();

        /// <summary>The table of the runspace running the current pipeline.</summary>
        public static ChildTable Current
        {
            get
            {
                Runspace runspace = Runspace.DefaultRunspace
                    ?? throw new InvalidOperationException("ProcessKit cmdlets need a runspace.");
                lock (Sync)
                {
                    if (!Tables.TryGetValue(runspace, out ChildTable? table))
                    {
                        table = new ChildTable($"Runspace{runspace.Id}");
                        Tables.Add(runspace, table);
                        runspace.StateChanged += OnRunspaceStateChanged;
                    }
                    return table;
                }
            }
        }

        /// <summary>Runspace closing, closed or broken: its daemons end (the process may live on).</summary>
        private static void OnRunspaceStateChanged(object? sender, RunspaceStateEventArgs e)
        {
            var state = e.RunspaceStateInfo.State;
            if (sender is Runspace runspace &&
                (state == RunspaceState.Closing || state == RunspaceState.Closed || state == RunspaceState.Broken) &&
                Tables.TryGetValue(runspace, out ChildTable? table))
            {
                table.Close($"its runspace ({table.SessionName}) is {state.ToString().ToLowerInvariant()}");
            }
        }
    }

    /// <summary><c>Remove-Module ProcessKit</c> ends the daemons of the runspace that removes it;
    /// <c>Import-Module ProcessKit -Force</c>, which also calls OnRemove before importing again, does not.</summary>
    public sealed class ModuleCleanup : IModuleAssemblyCleanup
    {
        public void OnRemove(PSModuleInfo psModuleInfo)
        {
            if (Runspace.DefaultRunspace != null && !ModuleRemoval.IsReimport())
            {
                SessionTables.Current.EndDaemons("the ProcessKit module was removed");
            }
        }
    }
}
