namespace ProcessKit
{
    /// <summary>The environment variables every child sees.</summary>
    public static class ChildEnvironment
    {
        /// <summary>The child's name (Python's <c>current_process().name</c>).</summary>
        public const string NameVariable = "PROCESSKIT_NAME";

        /// <summary>The process id of the session that started the child.</summary>
        public const string ParentIdVariable = "PROCESSKIT_PARENT_ID";

        /// <summary>The log level the parent enabled, so a scriptblock child logs its own side at the same level.</summary>
        public const string LogLevelVariable = "PROCESSKIT_LOG_LEVEL";
    }
}
