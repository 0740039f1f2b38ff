using System;
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
        public ChildProcess[] InputObject { get; set; } = Array.Empty<ChildProcess>();

        [Parameter(ParameterSetName = SelectorSet, ValueFromPipelineByPropertyName = true)]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(ChildNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string[] Name { get; set; } = Array.Empty<string>();

        /// <summary>Null or empty is a binding error, as with Get-Process -Id: `-Id $x.Id` with $x null must not
        /// quietly select nothing, or (Get-ChildProcess) everything.</summary>
        [Parameter(ParameterSetName = SelectorSet, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        public int[] Id { get; set; } = Array.Empty<int>();

        /// <summary>The children of <paramref name="table"/> named <paramref name="name"/>, in start order. A name
        /// equal (any case) to a child's name selects exactly the children with that name, so a name holding wildcard
        /// characters (<c>w[1]</c>) can still be selected; otherwise it is a wildcard pattern (any case; escapes work, so
        /// <c>[WildcardPattern]::Escape($name)</c> does too). Names need
        /// not be unique, so this may be several.</summary>
        internal static List<ChildProcess> Named(ChildTable table, string name)
        {
            var children = table.Children;
            var exact = children.Where(c => string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase)).ToList();
            if (exact.Count > 0)
            {
                return exact;
            }
            try
            {
                var pattern = WildcardPattern.Get(name, WildcardOptions.IgnoreCase);
                return children.Where(c => pattern.IsMatch(c.Name)).ToList();
            }
            catch (WildcardPatternException)
            {
                return new List<ChildProcess>(); // e.g. "w[" : not a valid pattern, and no child has that name
            }
        }

        /// <summary>The children that <paramref name="ids"/> (when given; ids are unique, so they win) or else
        /// <paramref name="names"/> select, in order, each once. A selector that matches nothing is a
        /// ChildProcessNotFound written through <paramref name="writeError"/>; a wildcard that matches nothing is
        /// one only when <paramref name="reportEmptyWildcard"/> (Get-ChildProcess, as Get-Job, stays silent).</summary>
        internal static List<ChildProcess> Select(ChildTable table, IEnumerable<string>? names, IEnumerable<int>? ids,
            Action<ErrorRecord> writeError, bool reportEmptyWildcard)
        {
            var result = new List<ChildProcess>();
            var seen = new HashSet<ChildProcess>();
            if (ids != null)
            {
                foreach (int id in ids)
                {
                    var child = table.FindById(id);
                    if (child is null)
                    {
                        writeError(ErrorHelper.ChildNotFound($"the id {id}", id));
                    }
                    else if (seen.Add(child))
                    {
                        result.Add(child);
                    }
                }
                return result;
            }
            foreach (string name in names ?? Array.Empty<string>())
            {
                var matches = Named(table, name);
                if (matches.Count == 0 && (reportEmptyWildcard || !WildcardPattern.ContainsWildcardCharacters(name)))
                {
                    writeError(ErrorHelper.ChildNotFound($"the name '{name}'", name));
                }
                result.AddRange(matches.Where(seen.Add));
            }
            return result;
        }

        /// <summary>The children this pipeline record selects, in order, each once; writes not-found errors.</summary>
        protected List<ChildProcess> SelectChildren()
        {
            if (ParameterSetName == SelectorSet)
            {
                bool byId = MyInvocation.BoundParameters.ContainsKey(nameof(Id));
                return Select(SessionTables.Current, Name, byId ? Id : null, WriteError, reportEmptyWildcard: true);
            }
            var seen = new HashSet<ChildProcess>();
            return InputObject.Where(c => c != null && seen.Add(c)).ToList();
        }
    }
}
