using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace ProcessKit.Pool
{
    /// <summary>Where a worker is in its life.</summary>
    public enum PoolWorkerState
    {
        /// <summary>Started; running its initialization script.</summary>
        Starting,
        /// <summary>Waiting for items.</summary>
        Idle,
        /// <summary>Running a batch of items.</summary>
        Busy,
        /// <summary>Told to finish (recycled after -MaxItemsPerWorker, or its pool removed).</summary>
        Retiring,
        /// <summary>Its process has exited.</summary>
        Exited,
    }

    /// <summary>One long-lived worker of a <see cref="ChildProcessPool"/>: a pwsh child (a daemon of the session, so it
    /// ends with the session however the session ends) that runs the pool's items one after another. Touched only by
    /// the thread that runs the pool (the pipeline thread of the Invoke-ChildProcessPool in progress), except
    /// <see cref="Send"/> (a pipe write).</summary>
    public sealed class PoolWorker
    {
        internal PoolWorker(ChildProcess child, Stream stdin)
        {
            Child = child;
            Stdin = stdin;
        }

        /// <summary>The worker's process, as Get-ChildProcess shows it.</summary>
        public ChildProcess Child { get; }

        public int Id => Child.Id;

        /// <summary>The host it runs on (null: this machine).</summary>
        public string? HostName => Child.HostName;

        internal RemotePoolHost? RemoteHost { get; set; }

        public string Name => Child.Name;

        public PoolWorkerState State { get; internal set; } = PoolWorkerState.Starting;

        /// <summary>Items this worker has finished.</summary>
        public int ItemsDone { get; internal set; }

        internal Stream Stdin { get; }

        /// <summary>The batch in progress and how far the worker got in it.</summary>
        internal List<PoolItem> Batch { get; } = new List<PoolItem>();

        internal int Index { get; set; }

        /// <summary>When the item at <see cref="Index"/> started (the batch was sent, or the previous item ended).</summary>
        internal DateTime ItemStarted { get; set; }

        /// <summary>The run whose scriptblock the worker holds (a request carries the script only when this changes).</summary>
        internal object? Job { get; set; }

        /// <summary>Its item ran over -TimeoutSeconds and it is being stopped.</summary>
        internal bool TimedOut { get; set; }

        /// <summary>What its initialization script wrote (an init failure is reported with it).</summary>
        internal List<string> InitRecords { get; } = new List<string>();

        internal PoolItem? Current => Index < Batch.Count ? Batch[Index] : null;

        /// <summary>Writes one frame line to the worker's stdin. A worker that died meanwhile makes this a no-op: its exit
        /// is handled as an event.</summary>
        internal void Send(string frameLine)
        {
            try
            {
                byte[] bytes = Encoding.UTF8.GetBytes(frameLine + "\n");
                Stdin.Write(bytes, 0, bytes.Length);
                Stdin.Flush();
            }
            catch (Exception e) when (e is IOException || e is ObjectDisposedException)
            {
                // EPIPE: the worker is gone; the exit event follows
            }
        }

        /// <summary>Closes its stdin: EOF makes an idle worker exit.</summary>
        internal void CloseInput()
        {
            try
            {
                Stdin.Dispose();
            }
            catch (IOException)
            {
                // already gone
            }
        }

        public override string ToString() => Name;
    }

    /// <summary>One input item of a run and what became of it.</summary>
    internal sealed class PoolItem
    {
        public PoolItem(object run, long sequence, object? input, string clixml)
        {
            Run = run;
            Sequence = sequence;
            Input = input;
            Clixml = clixml;
        }

        /// <summary>The run it belongs to: a worker's events that arrive after its run ended (killed when the run was
        /// aborted) must not count in the next run of the same pool.</summary>
        public object Run { get; }

        /// <summary>Its place in the input (results come out in this order unless -Unordered).</summary>
        public long Sequence { get; }

        public object? Input { get; }

        /// <summary>The item serialized once, when it was queued.</summary>
        public string Clixml { get; }

        /// <summary>Attempts made so far (-Retry allows more).</summary>
        public int Attempts { get; set; }

        /// <summary>Frame lines of the current attempt.</summary>
        public List<string> Records { get; } = new List<string>();

        /// <summary>An error of ours (worker died, timeout) written after the item's own records.</summary>
        public System.Management.Automation.ErrorRecord? Failure { get; set; }

        /// <summary>The worker that ran its last attempt.</summary>
        public ChildProcess? Worker { get; set; }

        /// <summary>Verbose notes of earlier attempts that failed and were retried.</summary>
        public List<string> Notes { get; } = new List<string>();
    }

    /// <summary>What happened to a worker, queued for the thread that runs the pool.</summary>
    internal readonly struct PoolEvent
    {
        public PoolEvent(PoolWorker worker, string? line)
        {
            Worker = worker;
            Line = line;
        }

        public PoolWorker Worker { get; }

        /// <summary>A frame line from the worker's records channel; null: the worker exited.</summary>
        public string? Line { get; }
    }
}
