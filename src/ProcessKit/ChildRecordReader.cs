using System;
using System.Collections.Generic;
using System.Management.Automation;
using System.Text;

namespace ProcessKit.Commands
{
    /// <summary>Turns a child's captured lines back into what PowerShell users expect: a scriptblock child's framed
    /// records become objects and stream records (as Receive-Job rehydrates them); plain lines stay text; stderr
    /// lines become error records.</summary>
    internal static class ChildRecordReader
    {
        public static void Emit(PSCmdlet cmdlet, ChildProcess child, IReadOnlyList<string> stdout, IReadOnlyList<string> stderr, bool stderrAsText)
        {
            foreach (string line in stdout)
            {
                if (child.Kind == ChildKind.ScriptBlock && line.StartsWith(ScriptBlockLauncher.FramePrefix, StringComparison.Ordinal))
                {
                    EmitFrame(cmdlet, child, line);
                }
                else
                {
                    cmdlet.WriteObject(line);
                }
            }
            foreach (string line in stderr)
            {
                if (stderrAsText)
                {
                    cmdlet.WriteObject(line);
                    continue;
                }
                cmdlet.WriteError(new ErrorRecord(new ChildStandardErrorException(line), ErrorHelper.StandardError, ErrorCategory.FromStdErr, child));
            }
        }

        private static void EmitFrame(PSCmdlet cmdlet, ChildProcess child, string line)
        {
            string rest = line.Substring(ScriptBlockLauncher.FramePrefix.Length);
            int space = rest.IndexOf(' ');
            if (space < 0)
            {
                cmdlet.WriteObject(line);
                return;
            }
            string tag = rest.Substring(0, space);
            if (TryPrimitive(tag, rest.Substring(space + 1), out object? primitive))
            {
                cmdlet.WriteObject(primitive); // strings and numbers travel without CLIXML: ten times less to read
                return;
            }
            object? item;
            try
            {
                string xml = Encoding.UTF8.GetString(Convert.FromBase64String(rest.Substring(space + 1)));
                item = PSSerializer.Deserialize(xml);
            }
            catch (Exception e) when (e is FormatException || e is System.Xml.XmlException || e is InvalidOperationException)
            {
                cmdlet.WriteObject(line); // not ours after all: hand it over as text, never lose it
                return;
            }
            var pso = item as PSObject;
            switch (tag)
            {
                case "E":
                    cmdlet.WriteError(ToErrorRecord(pso, child));
                    break;
                case "W":
                    cmdlet.WriteWarning(Text(pso, "Message"));
                    break;
                case "V":
                    cmdlet.WriteVerbose(Text(pso, "Message"));
                    break;
                case "D":
                    cmdlet.WriteDebug(Text(pso, "Message"));
                    break;
                case "I":
                    object? data = pso?.Properties["MessageData"]?.Value;
                    var tags = new List<string>();
                    if (pso?.Properties["Tags"]?.Value is PSObject tagsObj && tagsObj.BaseObject is System.Collections.IEnumerable list)
                    {
                        foreach (var t in list)
                        {
                            tags.Add(t?.ToString() ?? string.Empty);
                        }
                    }
                    if (data is PSObject dataObj && dataObj.Properties["Message"] != null && tags.Contains("PSHOST"))
                    {
                        data = new HostInformationMessage { Message = dataObj.Properties["Message"].Value?.ToString() ?? string.Empty };
                    }
                    cmdlet.WriteInformation(data, tags.ToArray());
                    break;
                default:
                    cmdlet.WriteObject(item);
                    break;
            }
        }

        private static bool TryPrimitive(string tag, string text, out object? value)
        {
            var inv = System.Globalization.CultureInfo.InvariantCulture;
            value = null;
            switch (tag)
            {
                case "S":
                    value = text;
                    return true;
                case "i" when int.TryParse(text, System.Globalization.NumberStyles.Integer, inv, out int i):
                    value = i;
                    return true;
                case "l" when long.TryParse(text, System.Globalization.NumberStyles.Integer, inv, out long l):
                    value = l;
                    return true;
                case "d" when double.TryParse(text, System.Globalization.NumberStyles.Float, inv, out double d):
                    value = d;
                    return true;
                case "b" when bool.TryParse(text, out bool b):
                    value = b;
                    return true;
                default:
                    return false;
            }
        }

        private static string Text(PSObject? pso, string property) =>
            pso?.Properties[property]?.Value?.ToString() ?? pso?.ToString() ?? string.Empty;

        private static ErrorRecord ToErrorRecord(PSObject? pso, ChildProcess child)
        {
            string message = pso?.Properties["Exception"]?.Value is PSObject ex && ex.Properties["Message"]?.Value is object m
                ? m.ToString() ?? string.Empty
                : pso?.ToString() ?? "error in child process";
            string id = pso?.Properties["FullyQualifiedErrorId"]?.Value?.ToString() ?? "ChildProcessError";
            var category = ErrorCategory.NotSpecified;
            // A deserialized ErrorRecord carries its category flat, as ErrorCategory_Category.
            string? categoryText = pso?.Properties["ErrorCategory_Category"]?.Value?.ToString()
                ?? (pso?.Properties["CategoryInfo"]?.Value as PSObject)?.Properties["Category"]?.Value?.ToString();
            if (categoryText != null && Enum.TryParse(categoryText, out ErrorCategory parsed))
            {
                category = parsed;
            }
            return new ErrorRecord(new ChildProcessErrorException(message, child.Name), id, category, child);
        }
    }

    /// <summary>An error raised inside a scriptblock child, rehydrated in the session.</summary>
    public sealed class ChildProcessErrorException : Exception
    {
        public ChildProcessErrorException(string message, string childName)
            : base(message)
        {
            ChildName = childName;
        }

        public string ChildName { get; }
    }

    /// <summary>A line a child wrote to stderr.</summary>
    public sealed class ChildStandardErrorException : Exception
    {
        public ChildStandardErrorException(string line)
            : base(line)
        {
        }
    }
}
