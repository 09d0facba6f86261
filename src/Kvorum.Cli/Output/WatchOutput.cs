using System.Globalization;
using System.Text;
using Kvorum.Etcd.Api;

namespace Kvorum.Cli.Output;

/// <summary>
/// Watch answers as etcdctl prints them. Simple: for each event its type (<c>PUT</c>, <c>DELETE</c>), then the
/// previous key and value if the answer has them, then the key and value (a DELETE's value is an empty line). JSON:
/// the Go client's <c>WatchResponse</c> struct, one line per answer:
/// <c>{"Header":{…},"Events":[…],"CompactRevision":0,"Canceled":false,"Created":false}</c>. Either way a progress
/// notification (an answer with a revision and nothing else) first prints <c>progress notify: REV</c>.
/// Safe to call from several watchers at once: each answer is written whole.
/// </summary>
internal sealed class WatchOutput
{
    /// <summary>The Go client's own answer for a watch that ended without the server's word (a refused create, a cut stream).</summary>
    private const string ClosedJson = "{\"Header\":{},\"Events\":null,\"CompactRevision\":0,\"Canceled\":true,\"Created\":false}";

    private readonly TextWriter _output;
    private readonly OutputFormat _format;
    private readonly Lock _gate = new();

    /// <summary>Creates a printer.</summary>
    /// <param name="output">Where to print.</param>
    /// <param name="format">simple (also for table) or json.</param>
    public WatchOutput(TextWriter output, OutputFormat format)
    {
        ArgumentNullException.ThrowIfNull(output);
        _output = output;
        _format = format;
    }

    /// <summary>
    /// Why the server ended a watch, in the words of etcd's Go client: a compacted start revision, the server's
    /// reason, or else a future revision.
    /// </summary>
    /// <param name="response">The canceled answer.</param>
    /// <returns>The reason, e.g. <c>etcdserver: mvcc: required revision has been compacted</c>.</returns>
    public static string CancelReason(WatchResponse response) => Kvorum.Etcd.Recipes.KeyWatch.CancelReason(response);

    /// <summary>Whether an answer is a progress notification: a revision and nothing else.</summary>
    public static bool IsProgressNotify(WatchResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        return response.Events.Count == 0 && !response.Canceled && !response.Created && response.CompactRevision == 0
            && (response.Header?.Revision ?? 0) != 0;
    }

    /// <summary>Prints an answer the server sent (the <c>created</c> answer is never passed here, as etcdctl never sees it).</summary>
    public void Response(WatchResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        var text = new StringBuilder();
        if (IsProgressNotify(response))
            text.Append(CultureInfo.InvariantCulture, $"progress notify: {response.Header!.Revision}\n");
        if (_format == OutputFormat.Json)
        {
            text.Append("{\"Header\":").Append(EtcdctlJson.Format(response.Header ?? new ResponseHeader()))
                .Append(",\"Events\":[").AppendJoin(',', response.Events.Select(EtcdctlJson.Format))
                .Append(CultureInfo.InvariantCulture, $"],\"CompactRevision\":{response.CompactRevision},\"Canceled\":{Bool(response.Canceled)},\"Created\":false}}\n");
        }
        else
        {
            foreach (var e in response.Events)
            {
                text.Append(e.Type == Event.Types.EventType.Delete ? "DELETE\n" : "PUT\n");
                if (e.PrevKv is not null)
                    AppendKv(text, e.PrevKv);
                AppendKv(text, e.Kv ?? new KeyValue());
            }
        }
        Write(text.ToString());
    }

    /// <summary>Prints what etcdctl prints for a watch that ended without a server answer: nothing, or its JSON.</summary>
    public void Closed()
    {
        if (_format == OutputFormat.Json)
            Write(ClosedJson + "\n");
    }

    private void Write(string text)
    {
        if (text.Length == 0)
            return;
        lock (_gate)
        {
            _output.Write(text);
            _output.Flush();
        }
    }

    private static void AppendKv(StringBuilder text, KeyValue kv) =>
        text.Append(kv.Key.ToStringUtf8()).Append('\n').Append(kv.Value.ToStringUtf8()).Append('\n');

    private static string Bool(bool value) => value ? "true" : "false";
}
