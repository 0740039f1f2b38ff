using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;

namespace ProcessKit.Commands
{
    /// <summary>The selectors every cmdlet after Start shares: <c>-InputObject</c> (position 0, pipeline),
    /// <c>-Name</c> (wildcards, every match; also position 0, where digits are a pid), <c>-Id</c> (by property name).
    /// Resolved once, here; a literal name or an id that matches nothing is a non-terminating ChildProcessNotFound
    /// (a wildcard that matches nothing is silent) and the rest are still handled.</summary>
    public abstract class ChildSelectorCommand : PSCmdlet
    {
        protected const string InputObjectSet = "InputObject";
        /// <summary>-Name and -Id share a set so that an object with both properties (a deserialized child,
        /// Select-Object Id, Name) binds by property name without ambiguity; the Id, unique, then decides.</summary>
        protected const string SelectorSet = "Selector";

        [Parameter(ParameterSetName = InputObjectSet, Mandatory = true, Position = 0, ValueFromPipeline = true)]
        [ValidateNotNull]
        public ChildProcess[] InputObject { get; set; } = Array.Empty<ChildProcess>();

        /// <summary>Position 0 too (after -InputObject, whose type a string or number does not have): a name, or a pid
        /// as digits, as the first positional argument.</summary>
        [Parameter(ParameterSetName = SelectorSet, Position = 0, ValueFromPipelineByPropertyName = true)]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(ChildNameCompleter))]
        [ValidateNotNullOrEmpty]
        public string[] Name { get; set; } = Array.Empty<string>();

        /// <summary>Null or empty is a binding error, as with Get-Process -Id: `-Id $x.Id` with $x null must not
        /// quietly select nothing, or (Get-ChildProcess) everything.</summary>
        [Parameter(ParameterSetName = SelectorSet, ValueFromPipelineByPropertyName = true)]
        [ArgumentCompleter(typeof(ChildIdCompleter))]
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
        /// <paramref name="names"/> select, in order, each once, through <paramref name="found"/>. As Get-Process and
        /// Stop-Process do, a wildcard that matches nothing is silent, and a literal name or an id that matches
        /// nothing is reported through <paramref name="notFound"/> (what, target). A name of digits that names no
        /// child selects the child with that pid, so the first positional argument can be a name or a pid
        /// (<c>Stop-ChildProcess worker</c>, <c>Wait-ChildProcess 1234</c>, as <c>Stop-Job jworker</c>,
        /// <c>Remove-Job 1</c>): a single positional parameter, because -Name and -Id must share one parameter set.</summary>
        internal static void SelectEach(ChildTable table, IEnumerable<string>? names, IEnumerable<int>? ids,
            Action<ChildProcess> found, Action<string, object> notFound)
        {
            var seen = new HashSet<ChildProcess>();
            if (ids != null)
            {
                foreach (int id in ids)
                {
                    var child = table.FindById(id);
                    if (child is null)
                    {
                        notFound($"the id {id}", id);
                    }
                    else if (seen.Add(child))
                    {
                        found(child);
                    }
                }
                return;
            }
            foreach (string name in names ?? Array.Empty<string>())
            {
                var matches = Named(table, name);
                if (matches.Count == 0 && IsPid(name, out int pid))
                {
                    if (table.FindById(pid) is ChildProcess byPid)
                    {
                        matches.Add(byPid);
                    }
                    else
                    {
                        notFound($"the name or id '{name}'", name);
                        continue;
                    }
                }
                if (matches.Count == 0 && !IsValidWildcard(name))
                {
                    notFound($"the name '{name}'", name);
                }
                foreach (var child in matches.Where(seen.Add))
                {
                    found(child);
                }
            }
        }

        /// <summary><see cref="SelectEach"/> into a list, with not-found selectors written as ChildProcessNotFound.</summary>
        internal static List<ChildProcess> Select(ChildTable table, IEnumerable<string>? names, IEnumerable<int>? ids,
            Action<ErrorRecord> writeError)
        {
            var result = new List<ChildProcess>();
            SelectEach(table, names, ids, result.Add, (what, target) => writeError(ErrorHelper.ChildNotFound(what, target)));
            return result;
        }

        /// <summary>A pid as typed: digits only (no sign, no spaces), within int.</summary>
        private static bool IsPid(string name, out int pid)
        {
            pid = 0;
            return name.Length > 0 && name.All(char.IsAsciiDigit) && int.TryParse(name, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out pid);
        }

        /// <summary>A wildcard that matches nothing is silent; text without wildcard characters, or an unfinished
        /// pattern such as <c>w[</c> (which can only have meant a literal name), is a name that was not found.</summary>
        private static bool IsValidWildcard(string name)
        {
            if (!WildcardPattern.ContainsWildcardCharacters(name))
            {
                return false;
            }
            try
            {
                WildcardPattern.Get(name, WildcardOptions.IgnoreCase).IsMatch(string.Empty);
                return true;
            }
            catch (WildcardPatternException)
            {
                return false;
            }
        }

        /// <summary>The children this pipeline record selects, in order, each once; writes not-found errors.</summary>
        protected List<ChildProcess> SelectChildren()
        {
            if (ParameterSetName == SelectorSet)
            {
                bool byId = MyInvocation.BoundParameters.ContainsKey(nameof(Id));
                return Select(SessionTables.Current, Name, byId ? Id : null, WriteError);
            }
            var seen = new HashSet<ChildProcess>();
            return InputObject.Where(c => c != null && seen.Add(c)).ToList();
        }
    }
}
