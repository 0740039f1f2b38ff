using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace ProcessKit
{
    /// <summary>Tab completion of -Id from the children this session tracks: the pids whose digits start with what is
    /// typed, in start order, with the child's name and state in the list and the tooltip (a pid alone says nothing).</summary>
    public sealed class ChildIdCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            string typed = (wordToComplete ?? string.Empty).Trim('\'', '"');
            return SessionTables.Current.Children
                .Select(c => (Id: c.Id.ToString(CultureInfo.InvariantCulture), Child: c))
                .Where(e => e.Id.StartsWith(typed, System.StringComparison.Ordinal))
                .Select(e => new CompletionResult(e.Id, $"{e.Id} {e.Child.Name} ({e.Child.State})",
                    CompletionResultType.ParameterValue, $"{e.Child.Name} (pid {e.Id}): {e.Child.State}"));
        }
    }
}
