using System.Management.Automation;

namespace ProcessKit.Commands
{
    /// <summary>Python's <c>exitcode</c>: $null while running, the exit status, or -N when signal N ended the child.</summary>
    [Cmdlet(VerbsCommon.Get, "ChildExitCode", DefaultParameterSetName = InputObjectSet)]
    [OutputType(typeof(int))]
    public sealed class GetChildExitCodeCommand : ChildSelectorCommand
    {
        protected override void ProcessRecord()
        {
            foreach (var child in SelectChildren())
            {
                WriteObject(child.ExitCode);
            }
        }
    }
}
