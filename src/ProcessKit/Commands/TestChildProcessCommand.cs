using System.Management.Automation;

namespace ProcessKit.Commands
{
    /// <summary>Python's <c>is_alive()</c>: $true per selected child that is running, $false per one that exited, and
    /// $false for a literal name or an id that matches no child (as Test-Path answers for a path that does not exist),
    /// so <c>if (-not (Test-ChildProcess -Name server)) { ... }</c> works. A wildcard that matches nothing outputs
    /// nothing.</summary>
    [Cmdlet(VerbsDiagnostic.Test, "ChildProcess", DefaultParameterSetName = InputObjectSet)]
    [OutputType(typeof(bool))]
    public sealed class TestChildProcessCommand : ChildSelectorCommand
    {
        protected override void ProcessRecord()
        {
            if (ParameterSetName == SelectorSet)
            {
                bool byId = MyInvocation.BoundParameters.ContainsKey(nameof(Id));
                SelectEach(SessionTables.Current, Name, byId ? Id : null, c => WriteObject(c.IsAlive), (_, _) => WriteObject(false));
                return;
            }
            foreach (var child in SelectChildren())
            {
                WriteObject(child.IsAlive);
            }
        }
    }
}
