using System;
using System.Management.Automation;

namespace ProcessKit
{
    /// <summary>At import, warns once when this process cannot get its children's exit codes (see docs/pid1.md):
    /// an unusual .NET as PID 1, or SIGCHLD ignored from the start. Written to stderr because no cmdlet is running
    /// yet and a container's log is where it must be seen.</summary>
    public sealed class ModuleImport : IModuleAssemblyInitializer
    {
        private static int _warned;

        public void OnImport()
        {
            if (!OperatingSystem.IsLinux())
            {
                return;
            }
            string? problem = Unix.Pid1Reaping.Problem; // as PID 1 this also makes .NET record its reaps from now on
            if (problem != null && System.Threading.Interlocked.Exchange(ref _warned, 1) == 0)
            {
                Console.Error.WriteLine($"WARNING: ProcessKit: exit codes of child processes may be lost: {problem}.");
            }
        }
    }
}
