using System.Management.Automation;

namespace ProcessKit.Commands
{
    /// <summary>Python's <c>active_children()</c>, but also the exited ones until they are removed. Without
    /// arguments, every tracked child; a wildcard that matches nothing is silent (as Get-Job).</summary>
    [Cmdlet(VerbsCommon.Get, "ChildProcess")]
    [OutputType(typeof(ChildProcess))]
    public sealed class GetChildProcessCommand : PSCmdlet
    {
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(ChildNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string[]? Name { get; set; }

        /// <summary>Wins over -Name when both are given (a piped object with both properties): ids are unique.
        /// Null or empty is a binding error: `-Id $x.Id` with $x null must not list every child.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        [ArgumentCompleter(typeof(ChildIdCompleter))]
        [ValidateNotNullOrEmpty]
        public int[]? Id { get; set; }

        protected override void ProcessRecord()
        {
            ChildTable table = SessionTables.Current;
            if (Name is null && Id is null)
            {
                WriteObject(table.Children, enumerateCollection: true);
                return;
            }
            WriteObject(ChildSelectorCommand.Select(table, Name, Id, WriteError), enumerateCollection: true);
        }
    }
}
