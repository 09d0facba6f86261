using System.Globalization;

namespace Kvorum.Lab.Checking;

/// <summary>
/// Checks what the watchers of <c>kvorum lab check --workload watch</c> saw against each other and against the
/// operations the clients recorded: the property Jepsen checked in its analysis of etcd's watches. Each watcher
/// watches the whole key space, so the store's revisions, one per write, are every integer from the first write's
/// (<see cref="FirstWriteRevision"/>) to the final one.
/// <list type="bullet">
/// <item>Each watcher saw each revision once, in increasing order, and none missing from its start revision to the
/// final revision (a gap-free, duplicate-free, in-order slice).</item>
/// <item>All watchers saw the same event at each revision: one history.</item>
/// <item>That history is the clients': every acknowledged write is in it exactly once, a failed one never, an
/// indeterminate one at most once, and it holds nothing else.</item>
/// <item>Its order is the real-time order the clients saw: a write that completed before another was invoked has the
/// lower revision, and every linearizable read returned the value of the latest write before a point inside the
/// read, by revision.</item>
/// </list>
/// </summary>
internal static class WatchHistoryCheck
{
    /// <summary>The revision of a fresh store's first write: etcd's store starts at revision 1, with no keys.</summary>
    public const long FirstWriteRevision = 2;

    private const int MaxProblems = 20;

    /// <summary>Runs every check.</summary>
    /// <param name="history">The clients' operations (times in one monotonic unit).</param>
    /// <param name="watchers">What each watcher saw.</param>
    /// <param name="finalRevision">The store's revision at the end, which every watcher must have reached.</param>
    /// <returns>The problems found (at most a screenful), and counts for the report.</returns>
    public static WatchCheckResult Check(IReadOnlyList<Operation> history, IReadOnlyList<WatcherLog> watchers, long finalRevision)
    {
        ArgumentNullException.ThrowIfNull(history);
        ArgumentNullException.ThrowIfNull(watchers);
        var problems = new List<string>();
        void Problem(string text)
        {
            if (problems.Count < MaxProblems)
                problems.Add(text);
        }

        // One history: the first event seen at each revision, and every other watcher's must equal it.
        var byRevision = new Dictionary<long, WatchedEvent>();
        foreach (var watcher in watchers)
        {
            if (watcher.Failure is { } failure)
                Problem($"watcher {watcher.Id} stopped early: {failure}");
            var expected = Math.Max(watcher.StartRevision, FirstWriteRevision);
            foreach (var e in watcher.Events)
            {
                if (e.Revision < expected)
                    Problem($"watcher {watcher.Id} saw {e} again or out of order (expected r{expected} next)");
                else if (e.Revision > expected)
                    Problem($"watcher {watcher.Id} missed r{expected}{(e.Revision > expected + 1 ? $"..r{e.Revision - 1}" : "")}: it saw {e} after r{expected - 1}");
                expected = Math.Max(expected, e.Revision + 1);
                if (!byRevision.TryAdd(e.Revision, e) && byRevision[e.Revision] != e)
                    Problem($"watchers disagree at r{e.Revision}: watcher {watcher.Id} saw {e}, another saw {byRevision[e.Revision]}");
            }

            if (watcher.Failure is null && expected <= finalRevision)
                Problem($"watcher {watcher.Id} ended at r{expected - 1}, short of the final revision r{finalRevision}");
        }

        for (var r = FirstWriteRevision; r <= finalRevision; r++)
        {
            if (!byRevision.ContainsKey(r))
            {
                Problem($"no watcher saw r{r}");
                break;
            }
        }

        // The history is the clients' writes.
        var writes = history.Where(o => o.Input.Kind != OperationKind.Get).ToList();
        var writeOfValue = new Dictionary<(string Key, string Value), Operation>();
        foreach (var write in writes)
            writeOfValue[(write.Key, write.Input.Value!)] = write;
        var revisionOf = new Dictionary<(string Key, string Value), long>();
        foreach (var e in byRevision.Values.OrderBy(e => e.Revision))
        {
            if (e.IsDelete || e.Value is null || !writeOfValue.TryGetValue((e.Key, e.Value), out var write))
            {
                Problem($"{e} was written by no operation of the history");
                continue;
            }

            if (!revisionOf.TryAdd((e.Key, e.Value), e.Revision))
                Problem($"{e} is the second write of {KvInput.Quote(e.Value)} (first at r{revisionOf[(e.Key, e.Value)]})");
            if (write.Outcome == OperationOutcome.Failed || (write.Outcome == OperationOutcome.Ok && !write.Output!.Succeeded))
                Problem($"{e} was written by an operation that did not take effect: {write}");
        }

        foreach (var write in writes)
        {
            var tookEffect = write.Outcome == OperationOutcome.Ok && write.Output!.Succeeded;
            if (tookEffect && !revisionOf.ContainsKey((write.Key, write.Input.Value!)))
                Problem($"the acknowledged {write} is in no watcher's history");
        }

        // Real-time order, per key.
        var orderChecked = 0;
        foreach (var key in history.GroupBy(o => o.Key))
            orderChecked += CheckOrder(key.Key, [.. key], revisionOf, Problem);

        return new WatchCheckResult(problems, watchers.Count, watchers.Sum(w => w.Events.Count), watchers.Sum(w => w.Resumes), byRevision.Count, orderChecked);
    }

    /// <summary>
    /// Checks one key's writes and reads against the revision order: for writes sorted by revision, none may have
    /// completed before a lower one was invoked; a read that returned the value of revision r (0: absent) must not
    /// have started after a higher write completed, nor completed before the invocation of any write at or below r.
    /// </summary>
    private static int CheckOrder(string key, List<Operation> ops, Dictionary<(string Key, string Value), long> revisionOf, Action<string> problem)
    {
        var placed = ops.Where(o => o.Input.Kind != OperationKind.Get && revisionOf.ContainsKey((key, o.Input.Value!)))
            .Select(o => (Op: o, Revision: revisionOf[(key, o.Input.Value!)]))
            .OrderBy(w => w.Revision).ToList();
        if (placed.Count == 0 && !ops.Any(o => o.Input.Kind == OperationKind.Get && o.Outcome == OperationOutcome.Ok))
            return 0;

        // Suffix minimum of completions (an indeterminate write never completes) and prefix maximum of invocations.
        var minCompletedFrom = new long[placed.Count + 1];
        minCompletedFrom[placed.Count] = long.MaxValue;
        for (var i = placed.Count - 1; i >= 0; i--)
            minCompletedFrom[i] = Math.Min(minCompletedFrom[i + 1], Completion(placed[i].Op));
        var maxInvokedTo = new long[placed.Count];
        for (var i = 0; i < placed.Count; i++)
            maxInvokedTo[i] = Math.Max(i > 0 ? maxInvokedTo[i - 1] : long.MinValue, placed[i].Op.InvokedAt);

        for (var i = 0; i < placed.Count - 1; i++)
        {
            if (minCompletedFrom[i + 1] < placed[i].Op.InvokedAt)
            {
                var later = placed.Skip(i + 1).First(w => Completion(w.Op) == minCompletedFrom[i + 1]);
                problem($"{key}: {later.Op} completed before {placed[i].Op} was invoked, yet its revision r{later.Revision} is higher than r{placed[i].Revision}");
            }
        }

        var reads = 0;
        foreach (var read in ops.Where(o => o.Input.Kind == OperationKind.Get && o.Outcome == OperationOutcome.Ok))
        {
            reads++;
            long revision = 0;
            if (read.Output!.Value is { } value && !revisionOf.TryGetValue((key, value), out revision))
            {
                problem($"{key}: {read} read a value no watcher saw written");
                continue;
            }

            // The writes at or below the revision read: placed[0..upTo).
            var upTo = placed.FindIndex(w => w.Revision > revision);
            if (upTo < 0)
                upTo = placed.Count;
            if (minCompletedFrom[upTo] < read.InvokedAt)
                problem($"{key}: {read} returned r{revision}'s value, but a write at a higher revision had completed before the read began");
            if (upTo > 0 && maxInvokedTo[upTo - 1] > read.CompletedAt)
                problem($"{key}: {read} returned r{revision}'s value, but a write at or below r{revision} was invoked only after the read completed");
        }

        return placed.Count + reads;
    }

    private static long Completion(Operation op) => op.Outcome == OperationOutcome.Ok ? op.CompletedAt!.Value : long.MaxValue;
}

/// <summary>The outcome of <see cref="WatchHistoryCheck.Check"/>.</summary>
/// <param name="Problems">What is wrong (at most a screenful); empty when the watchers passed.</param>
/// <param name="Watchers">Watchers checked.</param>
/// <param name="Events">Events they received in all.</param>
/// <param name="Resumes">Times a watcher resumed on a new stream.</param>
/// <param name="Revisions">Distinct revisions seen.</param>
/// <param name="OrderChecked">Writes and reads whose place in the revision order was checked against real time.</param>
internal sealed record WatchCheckResult(IReadOnlyList<string> Problems, int Watchers, long Events, int Resumes, long Revisions, int OrderChecked)
{
    /// <summary>True when nothing is wrong.</summary>
    public bool Passed => Problems.Count == 0;

    /// <summary>One line, then the problems, one a line.</summary>
    public string Describe()
    {
        var head = string.Create(CultureInfo.InvariantCulture,
            $"watchers: {Watchers} watchers received {Events} events ({Revisions} revisions, {Resumes} resumes on another stream); {OrderChecked} writes and reads placed in real-time order; ");
        return Passed
            ? head + "every watcher saw a gap-free, duplicate-free, in-order slice of the one history the clients wrote and read"
            : head + "FAILED:\n" + string.Join("\n", Problems.Select(p => "  " + p));
    }
}
