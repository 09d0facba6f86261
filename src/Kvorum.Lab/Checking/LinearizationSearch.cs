using System.Diagnostics;

namespace Kvorum.Lab.Checking;

/// <summary>
/// Decides whether the operations of one partition (one key) are linearizable against a sequential model:
/// the Wing and Gong (1993) search with Lowe's (2017) just-in-time linearization and memoisation of
/// (linearized set, state) configurations, the algorithm Porcupine implements.
/// </summary>
/// <remarks>
/// <para>
/// The history is an event list of calls and returns sorted by time (on equal times calls come first, so
/// operations that touch at an instant count as concurrent: the permissive reading). The search walks the
/// list from the front. At a call it tries to linearize that operation now: if the model accepts it and
/// the resulting configuration is new, it removes the call and its return from the list, pushes a frame and
/// starts again from the front. At a return it is stuck: that operation's interval has ended and it is not
/// linearized, so the last choice was wrong; it pops a frame, puts that operation back and tries the next
/// call after it. The history is linearizable iff every return leaves the list; it is not iff the search
/// gets stuck with nothing left to pop.
/// </para>
/// <para>
/// An indeterminate operation has a call and no return: it never forces anything, so it can be linearized
/// anywhere after its invocation, or not at all. Indeterminate read-only operations are dropped up front.
/// </para>
/// <para>
/// Read-only operations are forced, which prunes most branches. Claim: if a completed read-only operation
/// <c>o</c> is callable (no pending return precedes its call) and the model accepts it in the current state,
/// then if any linearization extends the current path, one does with <c>o</c> next. Proof: take one, and
/// move <c>o</c> to the front. Every operation that completed before <c>o</c> was invoked is already on the
/// path (else its return would precede <c>o</c>'s call), so real time is respected; <c>o</c> leaves every
/// state unchanged, so the others see the same states as before, and <c>o</c> itself is accepted now.
/// Hence when the subtree under a forced frame fails, its parent fails too, and the search backtracks
/// past it without trying <c>o</c> elsewhere.
/// </para>
/// </remarks>
internal sealed class LinearizationSearch<TState, TInput, TOutput>
{
    private const int Head = 0;
    private const int End = -1;

    private readonly ISequentialModel<TState, TInput, TOutput> _model;
    private readonly ModelOperation<TInput, TOutput>[] _ops;

    // The event list, a doubly linked list over entries 0..m: entry 0 is the head sentinel, entries 1..m
    // are calls and returns in time order. Lifting an operation unlinks its entries but keeps their own
    // links, so putting it back (always in reverse order of lifting) is O(1), as in dancing links.
    // Invariant: the linked entries are exactly the head plus the entries of the operations not linearized
    // on the current path (dropped operations have no entries).
    private readonly int[] _next;
    private readonly int[] _prev;
    private readonly int[] _opOf;       // entry -> operation index
    private readonly int[] _returnOf;   // call entry -> its return entry, or End for optional ops and returns
    private readonly bool[] _isCall;
    private readonly int _requiredCount; // operations with a return entry
    private readonly bool[] _forced;     // operation -> determinate and read-only (see the remarks)

    /// <summary>Prepares the search over <paramref name="ops"/>.</summary>
    public LinearizationSearch(ISequentialModel<TState, TInput, TOutput> model, IReadOnlyList<ModelOperation<TInput, TOutput>> ops)
    {
        _model = model;
        _ops = [.. ops];
        _forced = new bool[_ops.Length];
        var events = new List<(long Time, int Kind, int Op)>(ops.Count * 2);
        for (var i = 0; i < ops.Count; i++)
        {
            var op = ops[i];
            if (op.IsOptional && model.IsReadOnly(op.Input))
                continue;
            events.Add((op.InvokedAt, 0, i));
            if (op.CompletedAt is { } completed)
            {
                events.Add((completed, 1, i));
                _requiredCount++;
                _forced[i] = model.IsReadOnly(op.Input, op.Output!);
            }
        }
        // Calls (kind 0) before returns (kind 1) at equal times; then by index, so runs repeat exactly.
        events.Sort();

        var m = events.Count;
        _next = new int[m + 1];
        _prev = new int[m + 1];
        _opOf = new int[m + 1];
        _returnOf = new int[m + 1];
        _isCall = new bool[m + 1];
        var callEntryOf = new int[ops.Count];
        _opOf[Head] = -1;
        _returnOf[Head] = End;
        for (var e = 0; e <= m; e++)
        {
            _next[e] = e == m ? End : e + 1;
            _prev[e] = e - 1;
        }
        for (var k = 0; k < m; k++)
        {
            var entry = k + 1;
            var (_, kind, op) = events[k];
            _opOf[entry] = op;
            _returnOf[entry] = End;
            _isCall[entry] = kind == 0;
            if (kind == 0)
                callEntryOf[op] = entry;
            else
                _returnOf[callEntryOf[op]] = entry; // the call sorts first: InvokedAt <= CompletedAt
        }
    }

    /// <summary>Runs the search until it decides or <paramref name="budget"/> is exhausted.</summary>
    public SearchOutcome Run(SearchBudget budget)
    {
        var cache = new StateCache<TState>(EqualityComparer<TState>.Default);
        var linearized = new LinearizedSet(_ops.Length);
        // The path: frame i linearized the call entry pathEntry[i], from state pathState[i]. A forced frame
        // linearized a read-only operation: if its subtree fails, so does its parent (see the remarks).
        var pathEntry = new int[_ops.Length];
        var pathState = new TState[_ops.Length];
        var pathForced = new bool[_ops.Length];
        var depth = 0;
        var state = _model.Initial;
        var remaining = _requiredCount; // operations with a return still in the list
        cache.Add(linearized, state);

        var best = new Failure(-1, [], -1, [], "");
        long steps = 0;
        // A cached configuration: its bitset, the hash-set slot and the record around it (a rough upper bound).
        long bytesPerConfiguration = (((_ops.Length + 63) / 64) * 8) + 96;
        var maxConfigurations = Math.Max(1, budget.MaxCacheBytes / bytesPerConfiguration);
        var entry = _next[Head];
        while (remaining > 0)
        {
            if ((++steps & 0xFFF) == 0 && (budget.IsExhausted || cache.Count > maxConfigurations))
                return new SearchOutcome(Verdict.Unknown, best.Prefix, -1, [], best.State, steps);
            // A return is always reached before the end of the list while any remains (see the invariant).
            Debug.Assert(entry != End, "walked past every return without getting stuck");

            var stuck = !_isCall[entry];
            if (!stuck)
            {
                var index = _opOf[entry];
                ref readonly var op = ref _ops[index];
                TState next;
                var accepted = true;
                if (op.IsOptional)
                    next = _model.StepUnobserved(state, op.Input);
                else
                    accepted = _model.TryStep(state, op.Input, op.Output!, out next);
                if (accepted)
                {
                    linearized.Add(index);
                    if (cache.Add(linearized, next))
                    {
                        pathEntry[depth] = entry;
                        pathState[depth] = state;
                        pathForced[depth] = _forced[index];
                        depth++;
                        state = next;
                        Lift(entry);
                        if (!op.IsOptional)
                            remaining--;
                        entry = _next[Head];
                        continue;
                    }
                    linearized.Remove(index);
                    // A forced operation's configuration already failed, so this one fails too.
                    stuck = _forced[index];
                }
                if (!stuck)
                {
                    entry = _next[entry];
                    continue;
                }
            }

            // Stuck: an operation has completed but no order of the candidates before it works (or a forced
            // operation leads only to a configuration that already failed). Undo the last free choice.
            if (depth > best.Depth && !_isCall[entry])
                best = Snapshot(pathEntry, depth, entry, state);
            bool forced;
            do
            {
                if (depth == 0)
                    return new SearchOutcome(Verdict.NotLinearizable, best.Prefix, best.Stuck, best.Candidates, best.State, steps);
                depth--;
                var undone = pathEntry[depth];
                forced = pathForced[depth];
                state = pathState[depth];
                pathState[depth] = default!; // let the state be collected
                var index = _opOf[undone];
                linearized.Remove(index);
                Unlift(undone);
                if (!_ops[index].IsOptional)
                    remaining++;
                entry = _next[undone];
            }
            while (forced);
        }

        var order = new int[depth];
        for (var i = 0; i < depth; i++)
            order[i] = _opOf[pathEntry[i]];
        return new SearchOutcome(Verdict.Linearizable, order, -1, [], _model.Describe(state), steps);
    }

    /// <summary>Records the current path and the operations that could have come next, for the report.</summary>
    private Failure Snapshot(int[] pathEntry, int depth, int stuckEntry, TState state)
    {
        var prefix = new int[depth];
        for (var i = 0; i < depth; i++)
            prefix[i] = _opOf[pathEntry[i]];
        var candidates = new List<int>();
        for (var e = _next[Head]; e != stuckEntry; e = _next[e])
        {
            if (_isCall[e])
                candidates.Add(_opOf[e]);
        }
        return new Failure(depth, prefix, _opOf[stuckEntry], candidates, _model.Describe(state));
    }

    private void Lift(int call)
    {
        Unlink(call);
        if (_returnOf[call] != End)
            Unlink(_returnOf[call]);
    }

    private void Unlift(int call)
    {
        if (_returnOf[call] != End)
            Relink(_returnOf[call]);
        Relink(call);
    }

    private void Unlink(int e)
    {
        _next[_prev[e]] = _next[e];
        if (_next[e] != End)
            _prev[_next[e]] = _prev[e];
    }

    private void Relink(int e)
    {
        _next[_prev[e]] = e;
        if (_next[e] != End)
            _prev[_next[e]] = e;
    }

    /// <summary>The deepest point at which the search got stuck.</summary>
    private sealed record Failure(int Depth, int[] Prefix, int Stuck, List<int> Candidates, string State);
}
