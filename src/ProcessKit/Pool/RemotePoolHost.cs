using ProcessKit.Remote;

namespace ProcessKit.Pool
{
    /// <summary>One host of a pool with remote workers (New-ChildProcessPool -HostName): how to reach it, how many
    /// workers it takes, and whether it is left out because a worker could not start there.</summary>
    public sealed class RemotePoolHost
    {
        internal RemotePoolHost(SshTarget target, int slots, string? remotePwsh)
        {
            Target = target;
            Slots = slots;
            RemotePwsh = remotePwsh;
        }

        public string HostName => Target.Display;

        /// <summary>Workers at most on this host.</summary>
        public int Slots { get; }

        /// <summary>Why it is left out (null while it is used).</summary>
        public string? DownReason { get; private set; }

        public bool IsDown => DownReason != null;

        internal SshTarget Target { get; }

        internal string? RemotePwsh { get; }

        internal void MarkDown(string reason) => DownReason = reason;

        public override string ToString() => HostName;
    }
}
