using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace ProcessKit
{
    /// <summary>Tab completion of -Name from the children this session tracks.</summary>
    public sealed class ChildNameCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            // The typed text completes as a pattern ("Proc*-1") and as a literal prefix: a name may hold wildcard
            // characters ("w[1]"), and a half-typed "w[" is not a valid pattern at all.
            string typed = (wordToComplete ?? string.Empty).Trim('\'', '"');
            var literal = WildcardPattern.Get(WildcardPattern.Escape(typed) + "*", WildcardOptions.IgnoreCase);
            var pattern = WildcardPattern.ContainsWildcardCharacters(typed) ? WildcardPattern.Get(typed + "*", WildcardOptions.IgnoreCase) : literal;
            return SessionTables.Current.Children
                .Select(c => c.Name)
                .Distinct()
                .Where(n => literal.IsMatch(n) || Matches(pattern, n))
                .Select(n => new CompletionResult(NeedsQuotes(n) ? "'" + n.Replace("'", "''") + "'" : n,
                    n, CompletionResultType.ParameterValue, n));
        }

        /// <summary>Anything but letters, digits and "-_.:" may mean something to the parser (space, quotes, $, `,
        /// ;, |, parentheses, braces, commas...): single quotes keep the name as it is.</summary>
        private static bool NeedsQuotes(string name) =>
            name.Length == 0 || name.Any(c => !char.IsLetterOrDigit(c) && "-_.:".IndexOf(c) < 0);

        private static bool Matches(WildcardPattern pattern, string name)
        {
            try
            {
                return pattern.IsMatch(name);
            }
            catch (WildcardPatternException)
            {
                return false; // an unfinished pattern ("w[") still completes as a literal prefix
            }
        }
    }
}
