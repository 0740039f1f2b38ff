using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;

namespace ProcessKit.Commands
{
    /// <summary>The selectors every cmdlet after Start shares: <c>-InputObject</c> (position 0, pipeline),
    /// <c>-Name</c> (wildcards, every match), <c>-Id</c> (by property name). Resolved once, here; a name or id that
    /// matches nothing is a non-terminating ChildProcessNotFound and the rest are still handled.</summary>
    public abstract class ChildSelectorCommand : PSCmdlet
    {
        protected const string InputObjectSet = "InputObject";
        /// <summary>-Name and -Id share a set so that an object with both properties (a deserialized child,
        /// Select-Object Id, Name) binds by property name without ambiguity; the Id, unique, then decides.</summary>
        protected const string SelectorSet = "Selector";

        [Parameter(ParameterSetName = InputObjectSet, Mandatory = true, Position = 0, ValueFromPipeline = true)]
        [ValidateNotNull]
        public ChildProcess[] InputObject { get; set; } = System.Array.Empty<ChildProcess>();

        [Parameter(ParameterSetName = SelectorSet, ValueFromPipelineByPropertyName = true)]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(ChildNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string[] Name { get; set; } = System.Array.Empty<string>();

        [Parameter(ParameterSetName = SelectorSet, ValueFromPipelineByPropertyName = true)]
        public int[] Id { get; set; } = System.Array.Empty<int>();

        /// <summary>The children of <paramref name="table"/> named like <paramref name="name"/> (wildcards, any case),
        /// in start order. Names need not be unique, so this may be several.</summary>
        internal static List<ChildProcess> Named(ChildTable table, string name)
        {
            var pattern = WildcardPattern.Get(name, WildcardOptions.IgnoreCase);
            return table.Children.Where(c => pattern.IsMatch(c.Name)).ToList();
        }

        /// <summary>The children this pipeline record selects, in order, each once; writes not-found errors.</summary>
        protected List<ChildProcess> SelectChildren()
        {
            var result = new List<ChildProcess>();
            var seen = new HashSet<ChildProcess>();
            ChildTable table = SessionTables.Current;
            bool byId = MyInvocation.BoundParameters.ContainsKey(nameof(Id));
            switch (ParameterSetName)
            {
                case SelectorSet when !byId:
                    foreach (string name in Name)
                    {
                        var matches = Named(table, name);
                        if (matches.Count == 0)
                        {
                            WriteError(ErrorHelper.ChildNotFound($"the name '{name}'", name));
                        }
                        result.AddRange(matches.Where(seen.Add));
                    }
                    break;
                case SelectorSet:
                    foreach (int id in Id)
                    {
                        var child = table.FindById(id);
                        if (child is null)
                        {
                            WriteError(ErrorHelper.ChildNotFound($"the id {id}", id));
                        }
                        else if (seen.Add(child))
                        {
                            result.Add(child);
                        }
                    }
                    break;
                default:
                    foreach (var child in InputObject)
                    {
                        if (child != null && seen.Add(child))
                        {
                            result.Add(child);
                        }
                    }
                    break;
            }
            return result;
        }
    }
}
