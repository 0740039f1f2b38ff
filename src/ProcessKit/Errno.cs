namespace ProcessKit
{
    /// <summary>POSIX errno values that Linux and macOS share. ProcessKit uses them for failures it finds before
    /// asking the OS, so a start error carries the code the OS would have given, and names the codes it reports.</summary>
    internal static class Errno
    {
        public const int EPERM = 1;
        public const int ENOENT = 2;
        public const int ENXIO = 6;
        public const int E2BIG = 7;
        public const int ENOEXEC = 8;
        public const int ENOMEM = 12;
        public const int EACCES = 13;
        public const int ENOTDIR = 20;
        public const int EISDIR = 21;
        public const int EMFILE = 24;
        public const int ETXTBSY = 26;

        /// <summary>The symbolic name of <paramref name="errno"/> when it is one of the codes above, else null.
        /// Windows reports Win32 error codes, which have other names: null there.</summary>
        public static string? Name(int errno) => System.OperatingSystem.IsWindows() ? null : errno switch
        {
            EPERM => nameof(EPERM),
            ENOENT => nameof(ENOENT),
            ENXIO => nameof(ENXIO),
            E2BIG => nameof(E2BIG),
            ENOEXEC => nameof(ENOEXEC),
            ENOMEM => nameof(ENOMEM),
            EACCES => nameof(EACCES),
            ENOTDIR => nameof(ENOTDIR),
            EISDIR => nameof(EISDIR),
            EMFILE => nameof(EMFILE),
            ETXTBSY => nameof(ETXTBSY),
            _ => null,
        };
    }
}
