using System.Management.Automation;

namespace ProcessKit.Commands
{
    /// <summary>Python's <c>is_alive()</c>: $true per selected child that is running, $false per one that exited.</summary>
    [Cmdlet(VerbsDiagnostic.Test, "ChildProcess", DefaultParameterSetName = InputObjectSet)]
    [OutputType(typeof(bool))]
    public sealed class TestChildProcessCommand : ChildSelectorCommand
    {
        protected override void ProcessRecord()
        {
            foreach (var child in SelectChildren())
            {
                WriteObject(child.IsAlive);
            }
        }
    }
}
