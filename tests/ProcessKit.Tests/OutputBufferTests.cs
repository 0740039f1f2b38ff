using System;
using System.Linq;
using System.Text;
using Xunit;

namespace ProcessKit.Tests
{
    public class OutputBufferTests
    {
        private static void Feed(OutputBuffer buffer, byte[] bytes, int chunk)
        {
            for (int i = 0; i < bytes.Length; i += chunk)
            {
                int n = System.Math.Min(chunk, bytes.Length - i);
                buffer.Append(bytes.Skip(i).Take(n).ToArray(), n);
            }
        }

        [Fact]
        public void SplitsLinesAcrossChunksAndLineEndings()
        {
            var b = new OutputBuffer();
            Feed(b, Encoding.UTF8.GetBytes("one\ntwo\r\nthree\rfour"), 3);
            b.Complete();
            Assert.Equal(new[] { "one", "two", "three", "four" }, b.Read(keep: false, out long dropped));
            Assert.Equal(0, dropped);
            Assert.True(b.Completed);
        }

        [Fact]
        public void KeepsMultiByteCharactersSplitBetweenReads()
        {
            var b = new OutputBuffer();
            Feed(b, Encoding.UTF8.GetBytes("grüße 🚀 ünïcödé\n"), 1);
            Assert.Equal("grüße 🚀 ünïcödé", Assert.Single(b.Read(false, out _)));
        }

        [Fact]
        public void InvalidUtf8BecomesReplacementCharacterNotAnError()
        {
            var b = new OutputBuffer();
            b.Append(new byte[] { 0x61, 0xff, 0xfe, 0x62, 0x0a }, 5);
            string line = Assert.Single(b.Read(false, out _));
            Assert.StartsWith("a", line);
            Assert.EndsWith("b", line);
            Assert.Contains('\uFFFD', line);
        }

        [Fact]
        public void KeepLeavesLinesAndConsumingReadRemovesThem()
        {
            var b = new OutputBuffer();
            Feed(b, Encoding.UTF8.GetBytes("a\nb\n"), 64);
            Assert.Equal(2, b.Read(keep: true, out _).Count);
            Assert.Equal(2, b.Read(keep: false, out _).Count);
            Assert.Empty(b.Read(keep: false, out _));
        }

        private static byte[] Lines(int from, int count, string suffix = "")
        {
            var sb = new StringBuilder();
            for (int i = from; i < from + count; i++)
            {
                sb.Append("line").Append(i.ToString("00000")).Append(suffix).Append('\n');
            }
            return Encoding.UTF8.GetBytes(sb.ToString());
        }

        [Fact]
        public void TextBeyondMemoryIsSpilledNotDroppedAndComesBackInOrder()
        {
            var b = new OutputBuffer(maxMemoryBytes: 1024, maxDiskBytes: 1 << 20);
            Feed(b, Lines(0, 5000), 4096);
            Assert.True(b.MemoryBytes <= 1024);
            Assert.True(b.SpilledBytes > 0);
            Assert.True(b.SpillFileCount > 0);
            var lines = b.Read(keep: false, out long dropped);
            Assert.Equal(0, dropped);
            Assert.Equal(Enumerable.Range(0, 5000).Select(i => $"line{i:00000}"), lines);
            Assert.Equal(0, b.SpillFileCount); // read to the end: the spill file is given back
            Feed(b, Lines(5000, 3), 64);
            Assert.Equal(new[] { "line05000", "line05001", "line05002" }, b.Read(false, out _)); // back in memory
        }

        [Fact]
        public void ProgramTextBeyondTheDiskCapDropsTheOldestAndCountsThem()
        {
            var b = new OutputBuffer(maxMemoryBytes: 1024, maxDiskBytes: 4096);
            Feed(b, Lines(0, 2000), 512);
            var lines = b.Read(false, out long dropped);
            Assert.True(dropped > 0);
            Assert.Equal(2000, lines.Count + dropped);
            Assert.Equal("line01999", lines.Last());
            Assert.Equal(Enumerable.Range((int)dropped, lines.Count).Select(i => $"line{i:00000}"), lines); // the oldest went
            Assert.True(lines.Sum(l => l.Length + 1) <= 4096 + 1024);
            b.Read(false, out long droppedAgain);
            Assert.Equal(0, droppedAgain); // reported once
            Assert.Equal(dropped, b.DroppedLines);
        }

        [Fact]
        public void RecordsAreNeverDroppedWhateverTheCaps()
        {
            var b = new OutputBuffer(maxMemoryBytes: 1024, maxDiskBytes: 4096) { KeepLongLinesWhole = true };
            Feed(b, Lines(0, 20000, new string('r', 50)), 8192);
            b.Complete();
            var lines = b.Read(false, out long dropped);
            Assert.Equal(0, dropped);
            Assert.Equal(0, b.DroppedLines);
            Assert.Equal(20000, lines.Count);
            Assert.Equal("line19999" + new string('r', 50), lines.Last());
        }

        [Fact]
        public void ARecordLargerThanMemoryArrivesWhole()
        {
            var b = new OutputBuffer(maxMemoryBytes: 1024, maxDiskBytes: 4096) { KeepLongLinesWhole = true };
            string big = new string('x', 300_000);
            Feed(b, Encoding.UTF8.GetBytes("short\n" + big + "\nafter\n"), 7000);
            b.Complete();
            Assert.Equal(new[] { "short", big, "after" }, b.Read(false, out long dropped));
            Assert.Equal(0, dropped);
        }

        [Fact]
        public void ATextLineLongerThanTheLineLimitIsHandedOverInPieces()
        {
            var b = new OutputBuffer(maxLineChars: 10);
            Feed(b, Encoding.UTF8.GetBytes(new string('x', 25)), 7);
            b.Complete();
            var lines = b.Read(false, out long dropped);
            Assert.Equal(new[] { 10, 10, 5 }, lines.Select(l => l.Length));
            Assert.Equal(0, dropped);
        }

        [Theory]
        [InlineData("\n")]
        [InlineData("\r\n")]
        public void ALineOfExactlyTheLimitIsOneLineWithNoEmptyLineAfterIt(string newline)
        {
            var b = new OutputBuffer(maxLineChars: 10);
            Feed(b, Encoding.UTF8.GetBytes(new string('x', 10) + newline + new string('y', 20) + newline + "z" + newline), 3);
            b.Complete();
            var lines = b.Read(false, out _);
            Assert.Equal(new[] { new string('x', 10), new string('y', 10), new string('y', 10), "z" }, lines);
        }

        [Fact]
        public void ACutNeverFallsBetweenASurrogatePair()
        {
            var b = new OutputBuffer(maxLineChars: 10);
            string text = new string('x', 9) + "\U0001F600" + "abc"; // the pair would straddle the limit
            Feed(b, Encoding.UTF8.GetBytes(text + "\n"), 1);
            b.Complete();
            var lines = b.Read(false, out _);
            Assert.Equal(text, string.Concat(lines));
            Assert.All(lines, l => Assert.False(char.IsHighSurrogate(l[^1])));
        }

        [Fact]
        public void KeptReadsSeeSpilledLinesAndLeaveThem()
        {
            var b = new OutputBuffer(maxMemoryBytes: 1024, maxDiskBytes: 1 << 20);
            Feed(b, Lines(0, 1000), 1000);
            var expected = Enumerable.Range(0, 1000).Select(i => $"line{i:00000}").ToList();
            Assert.Equal(expected, b.Read(keep: true, out _));
            Assert.Equal(expected, b.Read(keep: true, out _));
            Assert.Equal(expected, b.Read(keep: false, out _));
            Assert.Empty(b.Read(keep: false, out _));
        }

        [Fact]
        public void ABlankLineFloodStaysWithinTheMemoryBound()
        {
            // Empty lines used to count zero characters: a `yes ''` grew the session without limit.
            GC.Collect();
            GC.WaitForPendingFinalizers();
            long before = GC.GetTotalMemory(true);
            var b = new OutputBuffer();
            var chunk = Enumerable.Repeat((byte)'\n', 64 * 1024).ToArray();
            for (int i = 0; i < 80; i++) // 5,242,880 empty lines
            {
                b.Append(chunk, chunk.Length);
            }
            Assert.True(b.MemoryBytes <= OutputBuffer.DefaultMaxMemoryBytes, $"{b.MemoryBytes} bytes in memory");
            long grown = GC.GetTotalMemory(true) - before;
            Assert.True(grown < OutputBuffer.DefaultMaxMemoryBytes + 4 * 1024 * 1024, $"heap grew by {grown} bytes");
            GC.KeepAlive(b);
            long count = 0;
            while (true)
            {
                var got = b.Take(OutputBuffer.ReadChunkBytes, includePartial: true, out _, out _);
                if (got.Count == 0)
                {
                    break;
                }
                Assert.All(got, l => Assert.Equal(string.Empty, l));
                count += got.Count;
            }
            Assert.Equal(80L * 64 * 1024, count);
            Assert.Equal(0, b.MemoryBytes);
            Assert.Equal(0, b.SpillFileCount);
        }

        [Fact]
        public void MemoryIsGivenBackAfterAConsumingRead()
        {
            var b = new OutputBuffer();
            Feed(b, Lines(0, 50000), 65536);
            Assert.True(b.MemoryBytes > 50000 * 8);
            b.Read(false, out _);
            Assert.Equal(0, b.MemoryBytes); // the queue's array is released too, not only its strings
        }

        [Fact]
        public void AFreshBufferAllocatesAlmostNothing()
        {
            new OutputBuffer().Append(new byte[] { 0x61 }, 1); // warm up the JIT and the shared scratch
            long before = GC.GetAllocatedBytesForCurrentThread();
            var b = new OutputBuffer();
            long cost = GC.GetAllocatedBytesForCurrentThread() - before;
            GC.KeepAlive(b);
            Assert.True(cost < 512, $"a fresh buffer allocated {cost} bytes"); // it was ~8.3 KB (a preallocated char buffer)
        }

        [Fact]
        public void ClearClosesTheSpillFileAndDiscardsLaterOutput()
        {
            var b = new OutputBuffer(maxMemoryBytes: 1024, maxDiskBytes: 1 << 20);
            Feed(b, Lines(0, 1000), 4096);
            Assert.True(b.SpillFileCount > 0);
            b.Clear();
            Assert.Equal(0, b.SpillFileCount);
            Assert.Equal(0, b.MemoryBytes);
            Feed(b, Lines(0, 10), 4096);
            Assert.Empty(b.Read(false, out _));
        }

        [Fact]
        public void APartialLineIsHandedToAConsumingReadAndItsRestComesAsItsOwnLine()
        {
            var b = new OutputBuffer();
            Feed(b, Encoding.UTF8.GetBytes("Name: "), 64);
            Assert.True(b.HasPartialLine);
            Assert.Equal(new[] { "Name: " }, b.Read(keep: true, out _));
            Assert.Equal(new[] { "Name: " }, b.Read(keep: false, out _));
            Assert.Empty(b.Read(false, out _));
            Feed(b, Encoding.UTF8.GetBytes("rest\nnext\n"), 64);
            Assert.Equal(new[] { "rest", "next" }, b.Read(false, out _));
            Feed(b, Encoding.UTF8.GetBytes("prompt> "), 64);
            Assert.Equal(new[] { "prompt> " }, b.Read(false, out _));
            Feed(b, Encoding.UTF8.GetBytes("\r\nafter\n"), 64);
            Assert.Equal(new[] { "after" }, b.Read(false, out _)); // only the newline followed: no empty line
        }

        [Fact]
        public void AStreamingReadCanLeaveThePartialLineForLater()
        {
            var b = new OutputBuffer();
            Feed(b, Encoding.UTF8.GetBytes("one\ntw"), 64);
            Assert.Equal(new[] { "one" }, b.Take(OutputBuffer.ReadChunkBytes, includePartial: false, out _, out _));
            Assert.Empty(b.Take(OutputBuffer.ReadChunkBytes, includePartial: false, out _, out _));
            Feed(b, Encoding.UTF8.GetBytes("o\n"), 64);
            Assert.Equal(new[] { "two" }, b.Take(OutputBuffer.ReadChunkBytes, includePartial: false, out _, out _));
        }

        [Fact]
        public void ARecordIsNeverHandedOverInPart()
        {
            var b = new OutputBuffer { KeepLongLinesWhole = true };
            Feed(b, Encoding.UTF8.GetBytes("\u001ePK1 S hal"), 64);
            Assert.False(b.HasPartialLine);
            Assert.Empty(b.Read(false, out _));
            Feed(b, Encoding.UTF8.GetBytes("f\n"), 64);
            Assert.Equal(new[] { "\u001ePK1 S half" }, b.Read(false, out _));
        }

        [Fact]
        public async System.Threading.Tasks.Task WaitForChangeCompletesOnTheNextAppendAndAtTheEnd()
        {
            var b = new OutputBuffer();
            long v = b.Version;
            var waiting = b.WaitForChange(v);
            Assert.False(waiting.IsCompleted);
            b.Append(new byte[] { 0x61 }, 1);
            await waiting.WaitAsync(TimeSpan.FromSeconds(10));
            v = b.Version;
            var atEnd = b.WaitForChange(v);
            Assert.False(atEnd.IsCompleted);
            b.Complete();
            await atEnd.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.True(b.WaitForChange(v).IsCompleted); // a waiter that missed the end sees it at once
            Assert.False(b.WaitForChange(b.Version).IsCompleted); // and an ended stream does not wake its waiter for ever
        }
    }
}
