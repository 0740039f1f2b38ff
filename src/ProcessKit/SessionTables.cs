using System;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace ProcessKit
{
    /// <summary>The module's side of the lifecycle: maps the runspace running the current pipeline to its
    /// <see cref="ChildTable"/> (kept by <see cref="ChildSupervisor"/>, one registry, the runspace held weakly, as
    /// PSOpenAD's RunspaceSpecificStorage) and tells the supervisor when that runspace ends. A runspace sees only its
    /// own children.</summary>
    internal static class SessionTables
    {
        /// <summary>The table of the runspace running the current pipeline.</summary>
        public static ChildTable Current
        {
            get
            {
                Runspace runspace = Runspace.DefaultRunspace
                    ?? throw new InvalidOperationException("ProcessKit cmdlets need a runspace.");
                ChildTable table = ChildSupervisor.Default.TableFor(runspace, $"Runspace{runspace.Id}", out bool created);
                if (created)
                {
                    runspace.StateChanged += OnRunspaceStateChanged;
                }
                return table;
            }
        }

        /// <summary>Runspace closing, closed or broken: its daemons end (the process may live on).</summary>
        private static void OnRunspaceStateChanged(object? sender, RunspaceStateEventArgs e)
        {
            var state = e.RunspaceStateInfo.State;
            if (sender is Runspace runspace &&
                (state == RunspaceState.Closing || state == RunspaceState.Closed || state == RunspaceState.Broken))
            {
                ChildTable table = ChildSupervisor.Default.TableFor(runspace, $"Runspace{runspace.Id}");
                ChildSupervisor.Default.EndSession(table, $"its runspace ({table.SessionName}) is {state.ToString().ToLowerInvariant()}");
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
                ChildSupervisor.Default.EndDaemons(SessionTables.Current, "the ProcessKit module was removed");
            }
        }
    }
}
