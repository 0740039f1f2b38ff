using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace ProcessKit.Windows
{
    /// <summary>Windows passes a child one command-line string, not an argv; the child's C runtime splits it again.
    /// This builds that string so that each argument reaches the child's argv as exactly one element, with nothing
    /// re-quoted by a shell in between (SPEC: -ArgumentList). Pure string code: testable on any OS.</summary>
    internal static class WindowsCommandLine
    {
        /// <summary>Characters cmd.exe would interpret even inside double quotes, or that end its command line.
        /// No escaping of them survives cmd's parsing reliably, so a batch-file argument holding one is refused.</summary>
        private static readonly char[] CmdUnsafe = { '"', '%', '\r', '\n', '\0' };

        /// <summary>Characters that split or redirect a cmd.exe command line outside double quotes.</summary>
        private static readonly char[] CmdNeedsQuotes = { ' ', '\t', ',', ';', '=', '&', '|', '<', '>', '(', ')', '^', '!' };

        /// <summary>Quotes one argument by the MSVC C runtime rules (the ones CommandLineToArgvW also follows):
        /// an argument without whitespace or quotes is left as is; otherwise it is wrapped in quotes, a quote inside
        /// becomes <c>\"</c>, and backslashes are doubled only where they precede a quote (or the closing quote).</summary>
        public static string Quote(string argument)
        {
            if (argument.Length > 0 && argument.IndexOfAny(new[] { ' ', '\t', '\n', '\v', '"' }) < 0)
            {
                return argument;
            }
            var sb = new StringBuilder(argument.Length + 2);
            sb.Append('"');
            for (int i = 0; i < argument.Length; i++)
            {
                int backslashes = 0;
                while (i < argument.Length && argument[i] == '\\')
                {
                    backslashes++;
                    i++;
                }
                if (i == argument.Length)
                {
                    sb.Append('\\', backslashes * 2); // they precede the closing quote
                    break;
                }
                if (argument[i] == '"')
                {
                    sb.Append('\\', backslashes * 2 + 1).Append('"');
                }
                else
                {
                    sb.Append('\\', backslashes).Append(argument[i]);
                }
            }
            sb.Append('"');
            return sb.ToString();
        }

        /// <summary>The lpApplicationName and lpCommandLine for CreateProcessW. The program is always named
        /// explicitly (no search by CreateProcess); a batch file runs through cmd.exe, see <see cref="ForBatchFile"/>.</summary>
        public static (string ApplicationName, string CommandLine) Build(string fileName, IReadOnlyList<string> arguments)
        {
            if (IsBatchFile(fileName))
            {
                return ForBatchFile(fileName, arguments);
            }
            // argv[0] is parsed differently (up to the next quote, no backslash escapes); a path cannot hold a
            // quote, so wrapping it whole is always right.
            var sb = new StringBuilder();
            sb.Append('"').Append(fileName).Append('"');
            foreach (string argument in arguments)
            {
                sb.Append(' ').Append(Quote(argument));
            }
            return (fileName, sb.ToString());
        }

        public static bool IsBatchFile(string fileName)
        {
            string extension = Path.GetExtension(fileName);
            return extension.Equals(".bat", StringComparison.OrdinalIgnoreCase) || extension.Equals(".cmd", StringComparison.OrdinalIgnoreCase);
        }

        /// <summary>CreateProcess runs a batch file through cmd.exe, which parses the command line by its own rules,
        /// not MSVC's: MSVC quoting alone lets an argument inject commands (CVE-2024-24576, "BatBadBut"). So cmd.exe
        /// is started explicitly from the system directory: /d (no AutoRun), /e:ON, /v:OFF (no !delayed! expansion),
        /// /s /c "…" (strip exactly the outer quotes). Arguments are quoted the way cmd splits them, and arguments
        /// cmd cannot take literally (a quote, %, a line break) are refused instead of being passed altered.</summary>
        private static (string ApplicationName, string CommandLine) ForBatchFile(string fileName, IReadOnlyList<string> arguments)
        {
            string cmd = Path.Combine(Environment.SystemDirectory, "cmd.exe");
            var sb = new StringBuilder();
            sb.Append('"').Append(cmd).Append("\" /d /e:ON /v:OFF /s /c \"");
            sb.Append('"').Append(CheckForCmd(fileName, fileName, "its path")).Append('"');
            for (int i = 0; i < arguments.Count; i++)
            {
                string argument = CheckForCmd(arguments[i], fileName, $"argument {i + 1}");
                bool quote = argument.Length == 0 || argument.IndexOfAny(CmdNeedsQuotes) >= 0;
                sb.Append(' ').Append(quote ? "\"" + argument + "\"" : argument);
            }
            sb.Append('"');
            return (cmd, sb.ToString());
        }

        private static string CheckForCmd(string text, string fileName, string what)
        {
            if (text.IndexOfAny(CmdUnsafe) >= 0)
            {
                throw new ChildStartException(
                    $"Cannot start batch file '{fileName}': {what} contains a double quote, '%' or a line break, which cmd.exe cannot pass on unchanged.");
            }
            return text;
        }
    }
}
