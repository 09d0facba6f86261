// A child process for the crash test: appends from many concurrent writers with group commit and prints
// each index the moment its append is acknowledged, taking snapshots (and so compacting) as it goes,
// until the parent kills it with SIGKILL.
//
// Usage: Kvorum.Storage.CrashChild <data-dir> <round> <writers> <segment-size>
// Output lines (each ends with " ." so that a line cut by the kill can be recognised and ignored):
//   READY <last-index> .
//   A <index> <round> <writer> <seq> .      entry acknowledged (durable)
//   S <index> .                             snapshot at index durable
using System.Globalization;
using System.Text;
using Kvorum.Raft;
using Kvorum.Storage;

var dataDir = args[0];
var round = int.Parse(args[1], CultureInfo.InvariantCulture);
var writers = int.Parse(args[2], CultureInfo.InvariantCulture);
var segmentSize = long.Parse(args[3], CultureInfo.InvariantCulture);

using var storage = DiskRaftStorage.Open(new StorageOptions { DataDirectory = dataDir, SegmentSize = segmentSize });
var output = Console.Out;
var outputLock = new object();
void Say(string line)
{
    lock (outputLock)
    {
        output.Write(line + " .\n");
        output.Flush();
    }
}

Say($"READY {storage.LastIndex}");
var stop = DateTime.UtcNow.AddSeconds(30);
var tasks = new List<Task>();
for (var w = 0; w < writers; w++)
{
    var writer = w;
    tasks.Add(Task.Run(async () =>
    {
        for (var seq = 0; DateTime.UtcNow < stop; seq++)
        {
            var index = await storage.AppendAsync((ulong)round, CrashPayload.For(round, writer, seq));
            Say($"A {index} {round} {writer} {seq}");
        }
    }));
}
tasks.Add(Task.Run(async () =>
{
    var conf = ConfState.OfVoters(1, 2, 3);
    while (DateTime.UtcNow < stop)
    {
        await Task.Delay(15);
        var last = storage.LastIndex;
        if (last > storage.Snapshot.Index + 300)
        {
            var at = last - 100;
            storage.CreateSnapshot(at, conf, Encoding.ASCII.GetBytes($"snap-{at}"));
            Say($"S {at}");
        }
    }
}));
await Task.WhenAll(tasks);

/// <summary>The payload a writer appends; the parent recomputes it to check what survived.</summary>
internal static class CrashPayload
{
    /// <summary>Bytes for (round, writer, seq), 40 to 200 long.</summary>
    public static byte[] For(int round, int writer, int seq) =>
        Encoding.ASCII.GetBytes($"r{round}-w{writer}-s{seq}-".PadRight(40 + (seq * 7 % 160), (char)('a' + (seq % 26))));
}
