using Kvorum.Fuzz;
using SharpFuzz;

// Usage:
//   Kvorum.Fuzz run TARGET          the afl-fuzz loop (started by fuzz/run.sh, input on stdin)
//   Kvorum.Fuzz replay TARGET FILE  one input, with the exception it throws if any (to study a crash afl-fuzz saved)
//   Kvorum.Fuzz seeds DIR           writes each target's seed inputs to DIR/TARGET/
//   Kvorum.Fuzz list                the target names
if (args is ["list"])
{
    foreach (var t in FuzzTargets.All)
        Console.WriteLine(t.Name);
    return 0;
}
if (args is ["seeds", var corpus])
{
    foreach (var t in FuzzTargets.All)
    {
        var dir = Directory.CreateDirectory(Path.Combine(corpus, t.Name)).FullName;
        var seeds = t.Seeds();
        for (var i = 0; i < seeds.Count; i++)
            File.WriteAllBytes(Path.Combine(dir, $"seed-{i}"), seeds[i]);
    }
    return 0;
}
if (args is ["run", var runName] && FuzzTargets.Find(runName) is { } runTarget)
{
    Fuzzer.OutOfProcess.Run(stream =>
    {
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        runTarget.Run(buffer.ToArray());
    });
    return 0;
}
if (args is ["replay", var replayName, var file] && FuzzTargets.Find(replayName) is { } replayTarget)
{
    replayTarget.Run(File.ReadAllBytes(file));
    Console.WriteLine("no failure");
    return 0;
}
Console.Error.WriteLine($"usage: Kvorum.Fuzz run|replay TARGET [FILE] | seeds DIR | list; targets: {string.Join(", ", FuzzTargets.All.Select(t => t.Name))}");
return 2;
