using System.Linq;
using System.Management.Automation;

namespace ProcessKit.Commands
{
    /// <summary>Python's <c>active_children()</c>, but also the exited ones until they are removed.</summary>
    [Cmdlet(VerbsCommon.Get, "ChildProcess", DefaultParameterSetName = "All")]
    [OutputType(typeof(ChildProcess))]
    public sealed class GetChildProcessCommand : PSCmdlet
    {
        [Parameter(ParameterSetName = "Name", Position = 0, ValueFromPipelineByPropertyName = true)]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(ChildNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string[]? Name { get; set; }

        [Parameter(ParameterSetName = "Id", Mandatory = true, ValueFromPipelineByPropertyName = true)]
        public int[]? Id { get; set; }

        protected override void ProcessRecord()
        {
            var children = SessionTables.Current.Children;
            if (Name != null)
            {
                foreach (string name in Name)
                {
                    var pattern = WildcardPattern.Get(name, WildcardOptions.IgnoreCase);
                    var matches = children.Where(c => pattern.IsMatch(c.Name)).ToList();
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
                    var child = children.FirstOrDefault(c => c.Id == id);
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
                WriteObject(children, enumerateCollection: true);
            }
        }
    }
}
