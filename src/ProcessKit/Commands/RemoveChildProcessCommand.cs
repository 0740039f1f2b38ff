using System.Management.Automation;

namespace ProcessKit.Commands
{
    /// <summary>Python's <c>close()</c>: stops tracking exited children and frees their buffers. A running child is
    /// refused (ChildProcessRunning) unless -Force, which stops it first (SIGKILL, as Remove-Job -Force).</summary>
    [Cmdlet(VerbsCommon.Remove, "ChildProcess", DefaultParameterSetName = InputObjectSet, SupportsShouldProcess = true)]
    [OutputType(typeof(void))]
    public sealed class RemoveChildProcessCommand : ChildSelectorCommand
    {
        [Parameter]
        public SwitchParameter Force { get; set; }

        protected override void ProcessRecord()
        {
            foreach (var child in SelectChildren())
            {
                if (!ShouldProcess($"{child.Name} (pid {child.Id})", "Remove"))
                {
                    continue;
                }
                if (child.IsAlive)
                {
                    if (!Force)
                    {
                        WriteError(ErrorHelper.StillRunning(child));
                        continue;
                    }
                    child.Stop(force: true, System.TimeSpan.Zero, "Remove-ChildProcess -Force");
                    if (child.IsAlive)
                    {
                        WriteError(ErrorHelper.StillRunning(child)); // SIGKILL not reaped in time (uninterruptible sleep)
                        continue;
                    }
                }
                child.Owner.Remove(child);
            }
        }
    }
}
