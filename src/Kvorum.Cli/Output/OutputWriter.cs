using System.Globalization;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Kvorum.Etcd.Api;

namespace Kvorum.Cli.Output;

/// <summary>Prints etcd responses in etcdctl's formats: simple lines, JSON, or a table.</summary>
internal sealed class OutputWriter
{
    private readonly TextWriter _output;

    /// <summary>Creates a writer.</summary>
    /// <param name="output">Where to print.</param>
    /// <param name="format">The format.</param>
    public OutputWriter(TextWriter output, OutputFormat format)
    {
        ArgumentNullException.ThrowIfNull(output);
        _output = output;
        Format = format;
    }

    /// <summary>The format in use.</summary>
    public OutputFormat Format { get; }

    /// <summary>Prints a put: <c>OK</c>, then the previous key and value if asked for.</summary>
    public void Put(PutResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (WroteJson(response))
            return;
        var text = new StringBuilder("OK\n");
        if (response.PrevKv is not null)
            AppendKv(text, response.PrevKv);
        _output.Write(text.ToString());
    }

    /// <summary>
    /// Prints a range as etcdctl does: each key, then its value (an empty line with <paramref name="keysOnly"/>, whose
    /// answer has no values); only the values with <paramref name="valuesOnly"/>; only the count with <paramref name="countOnly"/>.
    /// </summary>
    /// <param name="response">The response.</param>
    /// <param name="keysOnly">The keys were asked for without values.</param>
    /// <param name="countOnly">Print the count only.</param>
    /// <param name="valuesOnly">Print the values only (etcdctl's <c>--print-value-only</c>).</param>
    public void Range(RangeResponse response, bool keysOnly = false, bool countOnly = false, bool valuesOnly = false)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (WroteJson(response))
            return;
        if (countOnly)
        {
            _output.Write(response.Count.ToString(CultureInfo.InvariantCulture) + "\n");
            return;
        }

        if (Format == OutputFormat.Table)
        {
            TextTable table = keysOnly ? new("key") : new("key", "value", "create revision", "mod revision", "version");
            foreach (var kv in response.Kvs)
            {
                if (keysOnly)
                    table.AddRow(kv.Key.ToStringUtf8());
                else
                    table.AddRow(kv.Key.ToStringUtf8(), kv.Value.ToStringUtf8(), Number(kv.CreateRevision), Number(kv.ModRevision), Number(kv.Version));
            }

            _output.Write(table.ToString());
            return;
        }

        var text = new StringBuilder();
        foreach (var kv in response.Kvs)
        {
            if (!valuesOnly)
                text.Append(kv.Key.ToStringUtf8()).Append('\n');
            text.Append(kv.Value.ToStringUtf8()).Append('\n');
        }
        _output.Write(text.ToString());
    }

    /// <summary>Prints a delete: the number deleted, then the previous pairs if asked for.</summary>
    public void Delete(DeleteRangeResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (WroteJson(response))
            return;
        var text = new StringBuilder(Number(response.Deleted)).Append('\n');
        foreach (var kv in response.PrevKvs)
            AppendKv(text, kv);
        _output.Write(text.ToString());
    }

    /// <summary>Prints a txn: <c>SUCCESS</c> or <c>FAILURE</c>, then for each op a blank line and what the op's own command prints.</summary>
    public void Txn(TxnResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (WroteJson(response))
            return;
        var text = new StringBuilder(response.Succeeded ? "SUCCESS\n" : "FAILURE\n");
        foreach (var op in response.Responses)
        {
            text.Append('\n');
            switch (op.ResponseCase)
            {
                case ResponseOp.ResponseOneofCase.ResponsePut:
                    text.Append("OK\n");
                    if (op.ResponsePut.PrevKv is not null)
                        AppendKv(text, op.ResponsePut.PrevKv);
                    break;
                case ResponseOp.ResponseOneofCase.ResponseRange:
                    foreach (var kv in op.ResponseRange.Kvs)
                        AppendKv(text, kv);
                    break;
                case ResponseOp.ResponseOneofCase.ResponseDeleteRange:
                    text.Append(Number(op.ResponseDeleteRange.Deleted)).Append('\n');
                    foreach (var kv in op.ResponseDeleteRange.PrevKvs)
                        AppendKv(text, kv);
                    break;
                default:
                    text.Append("(nested txn)\n");
                    break;
            }
        }

        _output.Write(text.ToString());
    }

    /// <summary>Prints a compaction: <c>compacted revision N</c>, in every format (etcdctl 3.4 prints no JSON for it either).</summary>
    /// <param name="revision">The revision compacted to.</param>
    /// <param name="response">The response.</param>
    public void Compaction(long revision, CompactionResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        _output.Write($"compacted revision {Number(revision)}\n");
    }

    /// <summary>Prints alarms as etcdctl does, <c>memberID:ID alarm:TYPE</c> a line each (the id in decimal), or JSON.</summary>
    /// <param name="response">The alarms.</param>
    public void Alarms(AlarmResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (WroteJson(response))
            return;
        foreach (var alarm in response.Alarms)
            _output.Write($"memberID:{alarm.MemberID.ToString(CultureInfo.InvariantCulture)} alarm:{alarm.Alarm.ToString().ToUpperInvariant()}\n");
    }

    /// <summary>Prints endpoint statuses: a table, one comma-separated line each, or a JSON array.</summary>
    /// <param name="statuses">One per endpoint that answered.</param>
    public void Status(IReadOnlyList<EndpointStatus> statuses)
    {
        ArgumentNullException.ThrowIfNull(statuses);
        switch (Format)
        {
            case OutputFormat.Json:
                WriteJsonArray(statuses.Select(s => ("Endpoint", s.Endpoint, "Status", (IMessage)s.Status)));
                return;
            case OutputFormat.Table:
                var table = new TextTable("endpoint", "id", "version", "db size", "is leader", "is learner", "raft term", "raft index", "raft applied index", "errors");
                foreach (var s in statuses)
                    table.AddRow(StatusCells(s));
                _output.Write(table.ToString());
                return;
            default:
                _output.Write(string.Concat(statuses.Select(s => string.Join(", ", StatusCells(s)) + "\n")));
                return;
        }
    }

    /// <summary>Prints each endpoint's HashKV answer: a table, etcdctl's <c>endpoint, hash</c> lines, or JSON.</summary>
    /// <param name="answers">The answers, each with its endpoint.</param>
    public void HashKV(IReadOnlyList<(string Endpoint, HashKVResponse Response)> answers)
    {
        ArgumentNullException.ThrowIfNull(answers);
        switch (Format)
        {
            case OutputFormat.Json:
                WriteJsonArray(answers.Select(a => ("Endpoint", a.Endpoint, "HashKV", (IMessage)a.Response)));
                return;
            case OutputFormat.Table:
                var table = new TextTable("endpoint", "hash", "hash revision", "compact revision");
                foreach (var (endpoint, response) in answers)
                    table.AddRow(endpoint, Number(response.Hash), Number(response.HashRevision), Number(response.CompactRevision));
                _output.Write(table.ToString());
                return;
            default:
                _output.Write(string.Concat(answers.Select(a => $"{a.Endpoint}, {Number(a.Response.Hash)}\n")));
                return;
        }
    }

    /// <summary>
    /// Prints <c>snapshot status</c> as etcdctl does: <c>hash, revision, total keys, total size</c> (hash in hex), a
    /// table, or <c>{"hash":…,"revision":…,"totalKey":…,"totalSize":…}</c>.
    /// </summary>
    /// <param name="summary">The backup's figures.</param>
    public void SnapshotStatus(Kvorum.Server.Backup.BackupSummary summary)
    {
        ArgumentNullException.ThrowIfNull(summary);
        var hash = summary.Hash.ToString("x", CultureInfo.InvariantCulture);
        switch (Format)
        {
            case OutputFormat.Json:
                _output.Write($"{{\"hash\":{Number((long)summary.Hash)},\"revision\":{Number(summary.Revision)},\"totalKey\":{Number(summary.TotalKeys)},\"totalSize\":{Number(summary.TotalSize)}}}\n");
                return;
            case OutputFormat.Table:
                var table = new TextTable("hash", "revision", "total keys", "total size");
                table.AddRow(hash, Number(summary.Revision), Number(summary.TotalKeys), ByteSize.Format(summary.TotalSize));
                _output.Write(table.ToString());
                return;
            default:
                _output.Write($"{hash}, {Number(summary.Revision)}, {Number(summary.TotalKeys)}, {ByteSize.Format(summary.TotalSize)}\n");
                return;
        }
    }

    /// <summary>Prints <c>endpoint health</c> in table or JSON format, as etcdctl does (simple lines go to stderr: the command prints those).</summary>
    /// <param name="results">One per endpoint: whether it is healthy, how long the read took (Go's format), why not.</param>
    public void Health(IReadOnlyList<(string Endpoint, bool Healthy, string Took, string Error)> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        if (Format == OutputFormat.Json)
        {
            // etcdctl marshals its own struct here: fields endpoint, health, took and, when set, error.
            _output.Write("[" + string.Join(",", results.Select(r =>
                $"{{\"endpoint\":{EtcdctlJson.Quote(r.Endpoint)},\"health\":{Bool(r.Healthy)},\"took\":{EtcdctlJson.Quote(r.Took)}"
                + (r.Error.Length > 0 ? $",\"error\":{EtcdctlJson.Quote(r.Error)}" : "") + "}")) + "]\n");
            return;
        }
        var table = new TextTable("endpoint", "health", "took", "error");
        foreach (var r in results)
            table.AddRow(r.Endpoint, Bool(r.Healthy), r.Took, r.Error);
        _output.Write(table.ToString());
    }

    /// <summary>Prints a member list: a table, one comma-separated line each, or the response as JSON.</summary>
    public void Members(MemberListResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (WroteJson(response))
            return;
        if (Format == OutputFormat.Table)
        {
            var table = new TextTable("id", "status", "name", "peer addrs", "client addrs", "is learner");
            foreach (var m in response.Members)
                table.AddRow(MemberCells(m));
            _output.Write(table.ToString());
            return;
        }

        _output.Write(string.Concat(response.Members.Select(m => string.Join(", ", MemberCells(m)) + "\n")));
    }

    /// <summary>Prints a line in simple and table formats, or <paramref name="response"/> in JSON.</summary>
    /// <param name="line">The simple line.</param>
    /// <param name="response">The response to show as JSON.</param>
    public void Line(string line, IMessage response)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (!WroteJson(response))
            _output.Write(line + "\n");
    }

    /// <summary>A member id as etcdctl shows it: lower-case hex.</summary>
    /// <returns>The hex text.</returns>
    public static string Hex(ulong id) => id.ToString("x", CultureInfo.InvariantCulture);

    private static string[] StatusCells(EndpointStatus s) =>
    [
        s.Endpoint,
        Hex(s.Status.Header?.MemberId ?? 0),
        s.Status.Version,
        ByteSize.Format(s.Status.DbSize),
        Bool(s.IsLeader),
        Bool(s.Status.IsLearner),
        Number(s.Status.RaftTerm),
        Number(s.Status.RaftIndex),
        Number(s.Status.RaftAppliedIndex),
        string.Join(", ", s.Status.Errors),
    ];

    private static string[] MemberCells(Member m) =>
    [
        Hex(m.ID),
        m.Name.Length == 0 ? "unstarted" : "started",
        m.Name,
        string.Join(",", m.PeerURLs),
        string.Join(",", m.ClientURLs),
        Bool(m.IsLearner),
    ];

    private bool WroteJson(IMessage message)
    {
        if (Format != OutputFormat.Json)
            return false;
        _output.Write(EtcdctlJson.Format(message) + "\n");
        return true;
    }

    /// <summary>etcdctl's JSON for answers from several endpoints: <c>[{"Endpoint":"…","Status":{…}},…]</c>.</summary>
    private void WriteJsonArray(IEnumerable<(string NameKey, string Name, string MessageKey, IMessage Message)> items)
    {
        var text = new StringBuilder("[");
        foreach ((var nameKey, var name, var messageKey, var message) in items)
        {
            if (text.Length > 1)
                text.Append(',');
            text.Append('{').Append(EtcdctlJson.Quote(nameKey)).Append(':').Append(EtcdctlJson.Quote(name))
                .Append(',').Append(EtcdctlJson.Quote(messageKey)).Append(':').Append(EtcdctlJson.Format(message)).Append('}');
        }
        _output.Write(text.Append("]\n").ToString());
    }

    private static void AppendKv(StringBuilder text, KeyValue kv) =>
        text.Append(kv.Key.ToStringUtf8()).Append('\n').Append(kv.Value.ToStringUtf8()).Append('\n');

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Number(ulong value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Bool(bool value) => value ? "true" : "false";
}
