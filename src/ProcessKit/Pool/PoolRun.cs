using System;
using System.Collections;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using ProcessKit.Commands;

namespace ProcessKit.Pool
{
    /// <summary>What one Invoke-ChildProcessPool call asks of its pool.</summary>
    internal sealed class PoolRunOptions
    {
        public string Script { get; set; } = string.Empty;
        public object[] Arguments { get; set; } = Array.Empty<object>();
        public Hashtable Using { get; set; } = new Hashtable();
        public bool Unordered { get; set; }
        public TimeSpan? Timeout { get; set; }
        public int Retry { get; set; }
        /// <summary>Items per request; 0: chosen by the run.</summary>
        public int BatchSize { get; set; }
    }

    /// <summary>One Invoke-ChildProcessPool call over a pool: a bounded queue of input items, the dispatch of batches to
    /// idle workers, per-item timeouts, retries, the replacement of dead workers, and results in input order (or as
    /// done). Everything runs on the cmdlet's pipeline thread, which also writes the results: workers only post events
    /// (<see cref="PoolEvent"/>), so no lock is held anywhere here and a dead or stuck worker can never hang the run.</summary>
    internal sealed class PoolRun
    {
        /// <summary>Items queued and not yet sent, at most: a million-item pipeline does not sit in memory.</summary>
        internal const int QueueCapacity = 4096;

        /// <summary>Automatic batches stay at or below this, so a batch never holds back its worker's results long.</summary>
        private const int MaxAutoBatch = 64;

        /// <summary>An item taking this long (on average) is sent on its own, so work stays balanced over workers.</summary>
        private const double SlowItemMs = 5;

        /// <summary>Input arriving faster than this apart is gathered into batches (up to <see cref="MaxAutoBatch"/>)
        /// before it is sent, so a fast pipeline does not cost a request per item; slower input goes out at once.</summary>
        private static readonly TimeSpan GatherGap = TimeSpan.FromMilliseconds(1);

        /// <summary>How often the run wakes, at most, to check timeouts, Ctrl+C and progress while it waits for events.</summary>
        private const int WakeMs = 100;

        /// <summary>A run shows progress once it has lasted this long, and updates it at most this often.</summary>
        private static readonly TimeSpan ProgressAfter = TimeSpan.FromSeconds(1);
        private static readonly TimeSpan ProgressEvery = TimeSpan.FromMilliseconds(250);

        private const int ProgressActivityId = 0x504B; // "PK"

        private readonly ChildProcessPool _pool;
        private readonly PoolRunOptions _options;
        private readonly PSCmdlet _cmdlet;
        private readonly CancellationToken _cancel;
        private readonly string _requestScriptFrame;
        private readonly LinkedList<PoolItem> _pending = new LinkedList<PoolItem>();
        private readonly SortedDictionary<long, PoolItem> _finished = new SortedDictionary<long, PoolItem>();
        private readonly Queue<PoolItem> _ready = new Queue<PoolItem>();
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private long _submitted;
        private long _done;
        private long _nextToWrite;
        private double _itemMsTotal;
        private bool _inputComplete;
        private bool _progressShown;
        private TimeSpan _lastAdd = -TimeSpan.FromDays(1);
        private bool _gathering;
        private bool _fastInput;
        private TimeSpan _lastProgress;

        public PoolRun(ChildProcessPool pool, PoolRunOptions options, PSCmdlet cmdlet, CancellationToken cancel)
        {
            _pool = pool;
            _options = options;
            _cmdlet = cmdlet;
            _cancel = cancel;
            _requestScriptFrame = string.Empty;
            Job = new object();
        }

        /// <summary>This run's identity: a worker that holds it already has the script.</summary>
        private object Job { get; }

        /// <summary>Queues one input item (serialized now, so an item that cannot be serialized is reported here and
        /// skipped), waiting while the queue is full; writes whatever results are ready meanwhile.</summary>
        public void Add(object? input)
        {
            // The time the producer took since the last item was queued (our own work does not count).
            _fastInput = _clock.Elapsed - _lastAdd < GatherGap;
            string clixml;
            try
            {
                clixml = PSSerializer.Serialize(input, ChildProtocol.SerializationDepth);
            }
            catch (Exception e) when (!(e is PipelineStoppedException))
            {
                _cmdlet.WriteError(PoolErrors.NotSerializable(input, e));
                return;
            }
            while (_pending.Count >= QueueCapacity)
            {
                Pump(block: true);
            }
            _pending.AddLast(new PoolItem(Job, _submitted++, input, clixml));
            _gathering = _options.BatchSize == 0 && _fastInput && _pending.Count < MaxAutoBatch && AverageItemMs < SlowItemMs;
            Pump(block: false);
            _lastAdd = _clock.Elapsed;
        }

        /// <summary>No more input: runs until every item is done, writing results as they come.</summary>
        public void Finish()
        {
            _inputComplete = true;
            _gathering = false;
            while (_done < _submitted)
            {
                Pump(block: true);
            }
            if (_progressShown)
            {
                var record = new ProgressRecord(ProgressActivityId, "Invoke-ChildProcessPool", "Done") { RecordType = ProgressRecordType.Completed };
                _cmdlet.WriteProgress(record);
            }
        }

        /// <summary>The workers busy with this run's items (ended when the run is stopped or fails).</summary>
        public IEnumerable<PoolWorker> BusyWorkers => _pool.Workers.Where(w => w.State == PoolWorkerState.Busy && ReferenceEquals(w.Job, Job));

        private void Pump(bool block)
        {
            // Events first: a worker that died while idle (killed, or stopped with Get-ChildProcess | Stop-ChildProcess
            // between two calls) is forgotten and replaced before it could be given a batch it never runs.
            HandleQueuedEvents();
            Dispatch();
            if (block && TakeEvent(out PoolEvent ev))
            {
                Handle(ev);
            }
            HandleQueuedEvents();
            CheckTimeouts();
            Dispatch();
            RelayConsole();
            WriteReady();
            WriteProgress();
        }

        private void HandleQueuedEvents()
        {
            while (_pool.Events.TryTake(out PoolEvent ev))
            {
                Handle(ev);
            }
        }

        /// <summary>What items write past PowerShell's streams — [Console]::Out and ::Error, $host.UI.WriteLine — lands in
        /// the workers' stdout and stderr. It goes to the host as it comes, as Write-Host's text does (tagged PSHOST), so
        /// it shows as ForEach-Object -Parallel shows it, and a long-lived worker's buffers do not fill with text nobody
        /// reads. A line still being written waits for its end.</summary>
        internal void RelayConsole(IEnumerable<PoolWorker>? workers = null)
        {
            foreach (var w in workers ?? _pool.Workers)
            {
                foreach (var buffer in new[] { w.Child.StandardOutput, w.Child.StandardError })
                {
                    // Nearly always empty: this runs on every pump, so an empty buffer costs a look, not a read.
                    while (buffer.MemoryBytes > 0 || buffer.SpilledBytes > 0)
                    {
                        var lines = buffer.Take(OutputBuffer.ReadChunkBytes, includePartial: false, out _, out _);
                        if (lines.Count == 0)
                        {
                            break;
                        }
                        foreach (string line in lines)
                        {
                            _cmdlet.WriteInformation(new HostInformationMessage { Message = line }, HostTags);
                        }
                    }
                }
            }
        }

        /// <summary>The tag Write-Host gives its records: the host shows them whatever $InformationPreference says.</summary>
        private static readonly string[] HostTags = { "PSHOST" };

        private bool TakeEvent(out PoolEvent ev)
        {
            try
            {
                return _pool.Events.TryTake(out ev, WakeMs, _cancel);
            }
            catch (OperationCanceledException)
            {
                throw new PipelineStoppedException();
            }
        }

        /// <summary>Starts workers as needed (lazily, never more than the items need), then gives each idle worker a batch.</summary>
        private void Dispatch()
        {
            if (_pool.State == ChildProcessPoolState.Broken)
            {
                throw new PoolBrokenException(_pool.BrokenReason ?? "its initialization failed");
            }
            if (_pool.State == ChildProcessPoolState.Removed)
            {
                throw new PoolRemovedException();
            }
            if (_pending.Count == 0)
            {
                return;
            }
            var workers = _pool.Workers;
            int waiting = workers.Count(w => w.State == PoolWorkerState.Idle || w.State == PoolWorkerState.Starting);
            int live = workers.Count(w => w.State != PoolWorkerState.Retiring && w.State != PoolWorkerState.Exited);
            while (live < _pool.ThrottleLimit && waiting < _pending.Count)
            {
                try
                {
                    if (_pool.StartWorker() is null)
                    {
                        break; // every usable host is full (some are down)
                    }
                }
                catch (ChildStartException e)
                {
                    _pool.MarkBroken($"a worker could not be started: {e.Message}");
                    throw new PoolBrokenException(_pool.BrokenReason!);
                }
                live++;
                waiting++;
            }
            if (_gathering)
            {
                return; // more input is coming fast: let it form a batch (workers were started above)
            }
            // A worker whose exit is not handled yet gets nothing: its exit event forgets it, and a new one is started.
            foreach (var worker in _pool.Workers.Where(w => w.State == PoolWorkerState.Idle && w.Child.IsAlive).ToList())
            {
                if (_pending.Count == 0)
                {
                    break;
                }
                Send(worker, TakeBatch());
            }
        }

        private List<PoolItem> TakeBatch()
        {
            int size = _options.BatchSize;
            if (size <= 0)
            {
                // Python's chunksize for map() is len / (4 × workers); the length of a pipeline is unknown, so the queue
                // stands in for it. Slow items go one by one, so that one worker does not sit on several.
                // While fast input still streams in, full batches; at the end, smaller ones that share the tail out.
                size = AverageItemMs >= SlowItemMs ? 1
                    : _fastInput && !_inputComplete ? MaxAutoBatch
                    : (int)Math.Ceiling(_pending.Count / (4.0 * _pool.ThrottleLimit));
                size = Math.Clamp(size, 1, MaxAutoBatch);
            }
            var batch = new List<PoolItem>(Math.Min(size, _pending.Count));
            while (batch.Count < size && _pending.First != null)
            {
                batch.Add(_pending.First.Value);
                _pending.RemoveFirst();
            }
            return batch;
        }

        private double AverageItemMs => _done > 0 ? _itemMsTotal / _done : 0;

        private void Send(PoolWorker worker, List<PoolItem> batch)
        {
            var request = new Hashtable
            {
                ["Items"] = batch.Select(i => new Hashtable { ["Id"] = i.Sequence, ["Xml"] = i.Clixml }).ToArray(),
            };
            if (!ReferenceEquals(worker.Job, Job))
            {
                request["Script"] = _options.Script;
                request["Args"] = _options.Arguments;
                request["Using"] = _options.Using;
                worker.Job = Job;
            }
            foreach (var item in batch)
            {
                item.Attempts++;
                item.Worker = worker.Child;
            }
            worker.Batch.Clear();
            worker.Batch.AddRange(batch);
            worker.Index = 0;
            worker.ItemStarted = DateTime.UtcNow;
            worker.State = PoolWorkerState.Busy;
            // Each item travels as the CLIXML made when it was queued (a string in the request), so its depth is the
            // protocol's whatever the nesting here.
            worker.Send(ChildProtocol.EncodeClixml(ChildProtocol.Tags.Request, PSSerializer.Serialize(request, ChildProtocol.SerializationDepth + 1)));
        }

        private void Handle(PoolEvent ev)
        {
            var w = ev.Worker;
            if (ev.Line is null)
            {
                OnExited(w);
                return;
            }
            if (!ChildProtocol.TryParse(ev.Line, out ChildProtocol.Frame frame))
            {
                return;
            }
            if (w.State == PoolWorkerState.Starting)
            {
                if (frame.Tag != ChildProtocol.Tags.Response)
                {
                    w.InitRecords.Add(ev.Line);
                }
                else if (ChildProtocol.TryParseResponse(frame.Body, out long initId, out bool initOk) && initId == 0 && initOk)
                {
                    w.State = PoolWorkerState.Idle;
                    _pool.StartCrashes = 0;
                }
                else
                {
                    _pool.MarkBroken("its initialization script failed: " + PoolErrors.Describe(w.InitRecords));
                }
                return;
            }
            PoolItem? item = w.Current;
            if (item is null || !ReferenceEquals(item.Run, Job))
            {
                return; // a worker of an earlier, aborted run still talking
            }
            if (frame.Tag == ChildProtocol.Tags.Response)
            {
                // The id must be the item's: anything else is a frame of an earlier run, never credited to this one.
                if (ChildProtocol.TryParseResponse(frame.Body, out long id, out bool ok) && id == item.Sequence)
                {
                    Complete(w, failed: !ok, failure: null);
                }
            }
            else
            {
                item.Records.Add(ev.Line);
            }
        }

        /// <summary>The worker finished the item at its index (or it failed there).</summary>
        private void Complete(PoolWorker w, bool failed, ErrorRecord? failure)
        {
            PoolItem item = w.Batch[w.Index++];
            var now = DateTime.UtcNow;
            _itemMsTotal += (now - w.ItemStarted).TotalMilliseconds;
            w.ItemStarted = now;
            w.ItemsDone++;
            _pool.CountCompleted();
            Finish(item, failed, failure);
            if (w.Index >= w.Batch.Count && w.State == PoolWorkerState.Busy)
            {
                w.Batch.Clear();
                w.Index = 0;
                if (_pool.MaxItemsPerWorker > 0 && w.ItemsDone >= _pool.MaxItemsPerWorker)
                {
                    w.State = PoolWorkerState.Retiring; // recycled: its exit is an event like any other
                    w.Send(ChildProtocol.EncodeLine(ChildProtocol.Tags.Exit, string.Empty));
                    w.CloseInput();
                }
                else
                {
                    w.State = PoolWorkerState.Idle;
                }
            }
        }

        private void Finish(PoolItem item, bool failed, ErrorRecord? failure)
        {
            if (failed && item.Attempts <= _options.Retry)
            {
                string why = failure?.Exception.Message ?? "it wrote errors or threw";
                item.Notes.Add($"Item {item.Sequence + 1} failed on attempt {item.Attempts} of {_options.Retry + 1} ({why}); retrying.");
                item.Records.Clear();
                _pending.AddFirst(item);
                return;
            }
            item.Failure = failure;
            _done++;
            if (_options.Unordered)
            {
                _ready.Enqueue(item);
                return;
            }
            _finished[item.Sequence] = item;
            while (_finished.Remove(_nextToWrite, out PoolItem? next))
            {
                _ready.Enqueue(next);
                _nextToWrite++;
            }
        }

        private void OnExited(PoolWorker w)
        {
            var state = w.State;
            _pool.Forget(w);
            if (state == PoolWorkerState.Starting)
            {
                // Killed or crashed (a signal, or a status taken by someone else) before it was ready: a new one takes its
                // place, up to a few in a row. An exit of its own (the initialization script's exit N) breaks the pool.
                bool crashed = w.Child.ExitCode is not int code || code < 0;
                string records = w.InitRecords.Count > 0 ? ": " + PoolErrors.Describe(w.InitRecords) : string.Empty;
                if (!crashed || ++_pool.StartCrashes >= ChildProcessPool.MaxStartCrashes)
                {
                    _pool.MarkBroken($"a worker exited with exit code {w.Child.ExitCode?.ToString() ?? "unknown"} while it started{records}" +
                        (crashed ? $" ({_pool.StartCrashes} in a row)" : string.Empty));
                }
                return;
            }
            if (w.Current is PoolItem item && ReferenceEquals(item.Run, Job))
            {
                ErrorRecord failure = w.TimedOut
                    ? PoolErrors.ItemTimeout(item.Input, _options.Timeout ?? TimeSpan.Zero, w)
                    : PoolErrors.WorkerDied(item.Input, w);
                var rest = w.Batch.Skip(w.Index + 1).ToList();
                w.State = PoolWorkerState.Exited;
                Complete(w, failed: true, failure);
                // The items of its batch it never began go back to the front of the queue, in order, as not yet tried.
                for (int i = rest.Count - 1; i >= 0; i--)
                {
                    rest[i].Attempts--;
                    _pending.AddFirst(rest[i]);
                }
                w.Batch.Clear();
            }
        }

        private void CheckTimeouts()
        {
            if (_options.Timeout is not TimeSpan timeout)
            {
                return;
            }
            var now = DateTime.UtcNow;
            foreach (var w in _pool.Workers)
            {
                if (w.State == PoolWorkerState.Busy && !w.TimedOut && now - w.ItemStarted > timeout)
                {
                    w.TimedOut = true;
                    ProcessLog.Info($"item {w.Current?.Sequence + 1} ran over {timeout.TotalSeconds:0.###}s on {w.Name} (pid {w.Id}); stopping that worker");
                    var child = w.Child;
                    System.Threading.Tasks.Task.Run(() => child.Stop(false, ChildProcessPool.StopGrace, "pool item timed out"));
                }
            }
        }

        /// <summary>Writes the results of finished items: their records in the order the worker sent them, errors
        /// naming the input item, then our own error for an item that could not finish.</summary>
        private void WriteReady()
        {
            while (_ready.Count > 0)
            {
                PoolItem item = _ready.Dequeue();
                foreach (string note in item.Notes)
                {
                    _cmdlet.WriteVerbose(note);
                }
                var target = item.Input ?? (object)"(null item)";
                foreach (string line in item.Records)
                {
                    ChildRecordReader.EmitLine(_cmdlet, item.Worker!, line, target);
                }
                item.Records.Clear();
                if (item.Failure != null)
                {
                    _cmdlet.WriteError(item.Failure);
                }
            }
        }

        private void WriteProgress()
        {
            var elapsed = _clock.Elapsed;
            if (elapsed < ProgressAfter || elapsed - _lastProgress < ProgressEvery)
            {
                return;
            }
            _lastProgress = elapsed;
            _progressShown = true;
            double rate = _done / Math.Max(elapsed.TotalSeconds, 0.001);
            string status = _inputComplete ? $"{_done} of {_submitted} items done ({rate:0.#}/s)" : $"{_done} items done ({rate:0.#}/s)";
            var record = new ProgressRecord(ProgressActivityId, "Invoke-ChildProcessPool", status);
            if (_inputComplete && _submitted > 0)
            {
                record.PercentComplete = (int)(100 * _done / _submitted);
                if (rate > 0)
                {
                    record.SecondsRemaining = (int)Math.Ceiling((_submitted - _done) / rate);
                }
            }
            _cmdlet.WriteProgress(record);
        }
    }
}
