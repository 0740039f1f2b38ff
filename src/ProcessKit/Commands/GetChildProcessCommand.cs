using System.Linq;
using System.Management.Automation;

namespace ProcessKit.Commands
{
    /// <summary>Python's <c>active_children()</c>, but also the exited ones until they are removed.</summary>
    [Cmdlet(VerbsCommon.Get, "ChildProcess")]
    [OutputType(typeof(ChildProcess))]
    public sealed class GetChildProcessCommand : PSCmdlet
    {
        [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(ChildNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string[]? Name { get; set; }

        /// <summary>Wins over -Name when both are given (a piped object with both properties): ids are unique.</summary>
        [Parameter(ValueFromPipelineByPropertyName = true)]
        public int[]? Id { get; set; }

        protected override void ProcessRecord()
        {
            ChildTable table = SessionTables.Current;
            if (Name != null && Id is null)
            {
                foreach (string name in Name)
                {
                    var matches = ChildSelectorCommand.Named(table, name);
                    if (matches.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(name))
                    {
                        WriteError(ErrorHelper.ChildNotFound($"the name '{name}'", name));
                    }
                    WriteObject(matches, enumerateCollection: true);
                }
            }
            else if (Id != null)
            {
                foreach (int id in Id)
                {
                    var child = table.FindById(id);
                    if (child is null)
                    {
                        WriteError(ErrorHelper.ChildNotFound($"the id {id}", id));
                    }
                    else
                    {
                        WriteObject(child);
                    }
                }
            }
            else
            {
                WriteObject(table.Children, enumerateCollection: true);
            }
        }
    }
}
