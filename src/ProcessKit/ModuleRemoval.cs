using System;
using System.Diagnostics;
using Microsoft.PowerShell.Commands;

namespace ProcessKit
{
    /// <summary>Tells a re-import (<c>Import-Module -Force</c>, a common first line of scripts) from a real
    /// <c>Remove-Module</c>: both call <see cref="System.Management.Automation.IModuleAssemblyCleanup.OnRemove"/>
    /// synchronously from the cmdlet's own thread, so the cmdlet is on the managed stack. The nearest of the two
    /// decides: a Remove-Module run by a module that is being imported is still a removal. The statics (every
    /// session's ChildTable, the supervisor) survive a re-import because the assembly stays loaded, so the daemons
    /// stay tracked and controllable. Neither PowerShell's script call stack (no cmdlet frames) nor the command text
    /// (aliases, splatting, <c>Get-Module | Import-Module -Force</c>) tells this reliably; nor does deferring until
    /// the pipeline ends, since a whole script is one pipeline and Remove-Module must act at once.</summary>
    internal static class ModuleRemoval
    {
        public static bool IsReimport()
        {
            var frames = new StackTrace(fNeedFileInfo: false).GetFrames();
            foreach (var frame in frames)
            {
                for (Type? t = frame.GetMethod()?.DeclaringType; t != null; t = t.DeclaringType)
                {
                    if (t == typeof(RemoveModuleCommand))
                    {
                        return false;
                    }
                    if (t == typeof(ImportModuleCommand))
                    {
                        return true;
                    }
                }
            }
            return false; // neither cmdlet (e.g. PowerShell.Dispose of the runspace): a removal
        }
    }
}
