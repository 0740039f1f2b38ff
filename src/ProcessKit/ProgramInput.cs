using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Text;

namespace ProcessKit
{
    /// <summary>Pipeline input for a program child, as a native command in a PowerShell pipeline receives it: the
    /// formatted text the host would show (what <c>$input | Out-String -Stream</c> gives), not each object's
    /// ToString() (<c>@{a=1; b=x}</c>). Strings stay as they are; $null sends nothing, as with a native command.</summary>
    internal static class ProgramInput
    {
        private const string OutString = @"Microsoft.PowerShell.Utility\Out-String";

        /// <summary>UTF-8 (no BOM) lines, each ending with \n. All objects are formatted in one go, so a list of
        /// objects is one table with one header, as on the screen. Must run on the cmdlet's pipeline thread.</summary>
        public static byte[] AsText(IReadOnlyList<object?> input)
        {
            var values = input.Where(i => i != null).Select(i => i is PSObject pso && pso.BaseObject is string s ? s : i!).ToList();
            IEnumerable<string> lines = values.All(v => v is string) ? values.Cast<string>() : Formatted(values);
            var text = new StringBuilder();
            foreach (string line in lines)
            {
                text.Append(line).Append('\n');
            }
            return new UTF8Encoding(false).GetBytes(text.ToString());
        }

        private static IEnumerable<string> Formatted(List<object> values)
        {
            using (var ps = PowerShell.Create(RunspaceMode.CurrentRunspace))
            {
                ps.AddCommand(OutString).AddParameter("Stream");
                return ps.Invoke<string>(values).ToList();
            }
        }
    }
}
