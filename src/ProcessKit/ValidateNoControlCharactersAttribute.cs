using System.Globalization;
using System.Management.Automation;

namespace ProcessKit
{
    /// <summary>Refuses a string holding a control character (newline, tab, escape...): a child's name is written
    /// into log lines and tables, where a newline would forge or break a record.</summary>
    internal sealed class ValidateNoControlCharactersAttribute : ValidateArgumentsAttribute
    {
        protected override void Validate(object arguments, EngineIntrinsics engineIntrinsics)
        {
            string? text = arguments is PSObject pso ? pso.BaseObject as string : arguments as string;
            if (text is null)
            {
                return;
            }
            foreach (char c in text)
            {
                if (char.IsControl(c))
                {
                    throw new ValidationMetadataException(string.Format(CultureInfo.InvariantCulture,
                        "The value contains the control character U+{0:X4}; control characters (newlines, tabs, escapes) are not allowed in a child's name.", (int)c));
                }
            }
        }
    }
}
