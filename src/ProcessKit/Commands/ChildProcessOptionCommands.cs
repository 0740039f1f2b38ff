using System.Linq;
using System.Management.Automation;
using System.Threading.Tasks;

namespace ProcessKit.Commands
{
    /// <summary>The module's settings, as <c>Get-ChildProcessOption</c> shows them, with what the current session
    /// keeps right now.</summary>
    public sealed class ChildProcessOption
    {
        internal ChildProcessOption(int warmHostCount, int idle, int ready, int[] idleIds)
        {
            WarmHostCount = warmHostCount;
            IdleWarmHostCount = idle;
            ReadyWarmHostCount = ready;
            IdleWarmHostIds = idleIds;
        }

        /// <summary>How many idle pwsh hosts each session keeps for its next scriptblock children (0: none).</summary>
        public int WarmHostCount { get; }

        /// <summary>Idle hosts this session keeps now, ready or still starting.</summary>
        public int IdleWarmHostCount { get; }

        /// <summary>Idle hosts of this session that are up and waiting: the next scriptblock child starts on one.</summary>
        public int ReadyWarmHostCount { get; }

        /// <summary>Process ids of this session's idle hosts (each a pwsh that is nobody's child yet).</summary>
        public int[] IdleWarmHostIds { get; }
    }

    /// <summary>Sets module settings, in the style of <c>Set-PSReadLineOption</c>. <c>-WarmHostCount</c>: how many
    /// pre-started pwsh hosts a session keeps after its first scriptblock child (default 1; 0 disables and ends the
    /// idle ones). Each idle host is a whole pwsh (≈120 MB).</summary>
    [Cmdlet(VerbsCommon.Set, "ChildProcessOption")]
    [OutputType(typeof(ChildProcessOption))]
    public sealed class SetChildProcessOptionCommand : PSCmdlet
    {
        [Parameter]
        [ValidateRange(0, WarmHostPool.MaxCount)]
        public int WarmHostCount { get; set; }

        [Parameter]
        public SwitchParameter PassThru { get; set; }

        protected override void EndProcessing()
        {
            if (MyInvocation.BoundParameters.ContainsKey(nameof(WarmHostCount)))
            {
                WarmHostPool.TargetCount = WarmHostCount;
                if (ChildSupervisor.Default.WarmPool(SessionTables.Current) is WarmHostPool pool)
                {
                    // Fewer: the extra idle hosts end now. More: started in the background, once the session has had
                    // a scriptblock child (before that, nothing is started).
                    pool.Trim();
                    Task.Run(pool.Fill);
                }
            }
            if (PassThru)
            {
                WriteObject(GetChildProcessOptionCommand.Current());
            }
        }
    }

    /// <summary>The module's settings (<see cref="SetChildProcessOptionCommand"/>) and this session's idle hosts.</summary>
    [Cmdlet(VerbsCommon.Get, "ChildProcessOption")]
    [OutputType(typeof(ChildProcessOption))]
    public sealed class GetChildProcessOptionCommand : PSCmdlet
    {
        protected override void EndProcessing() => WriteObject(Current());

        internal static ChildProcessOption Current()
        {
            var pool = ChildSupervisor.Default.WarmPool(SessionTables.Current);
            return new ChildProcessOption(WarmHostPool.TargetCount, pool?.IdleCount ?? 0, pool?.ReadyCount ?? 0, pool?.IdleIds.ToArray() ?? System.Array.Empty<int>());
        }
    }
}
