using System.Globalization;
using System.Text;
using Kvorum.Cli.Client;
using Kvorum.Etcd.Api;

namespace Kvorum.Cli.Output;

/// <summary>
/// The lease answers as etcdctl prints them. Its JSON for grant, time-to-live, keep-alive and list is not the protobuf
/// message but the Go client's own struct, which embeds the response header: the header's fields come first at the
/// top level (<c>omitempty</c>), then the struct's fields under their Go names, always present (<c>"TTL":0</c>,
/// <c>"keys":null</c>). Revoke prints the protobuf message itself.
/// </summary>
internal sealed class LeaseOutput
{
    private readonly TextWriter _output;
    private readonly OutputFormat _format;

    /// <summary>Creates a printer.</summary>
    /// <param name="output">Where to print.</param>
    /// <param name="format">simple (also for table, as etcdctl's lease commands have no table) or json.</param>
    public LeaseOutput(TextWriter output, OutputFormat format)
    {
        ArgumentNullException.ThrowIfNull(output);
        _output = output;
        _format = format;
    }

    /// <summary><c>lease 2040a249b23b5b0f granted with TTL(2s)</c>.</summary>
    public void Granted(LeaseGrantResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        Write(response.Header, $"lease {LeaseIds.Format(response.ID)} granted with TTL({Number(response.TTL)}s)",
            $"\"ID\":{Number(response.ID)},\"TTL\":{Number(response.TTL)},\"Error\":{EtcdctlJson.Quote(response.Error)}");
    }

    /// <summary><c>lease 2040a249b23b5b0f revoked</c>.</summary>
    public void Revoked(long id, LeaseRevokeResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        _output.Write(_format == OutputFormat.Json ? EtcdctlJson.Format(response) + "\n" : $"lease {LeaseIds.Format(id)} revoked\n");
    }

    /// <summary>
    /// <c>lease … granted with TTL(100s), remaining(99s)</c>, with <c>, attached keys([k1 k2])</c> when asked for; a
    /// lease the server does not know (granted TTL 0, TTL -1) is <c>lease … already expired</c>.
    /// </summary>
    public void TimeToLive(LeaseTimeToLiveResponse response, bool keys)
    {
        ArgumentNullException.ThrowIfNull(response);
        var line = new StringBuilder("lease ").Append(LeaseIds.Format(response.ID));
        if (response.GrantedTTL == 0 && response.TTL == -1)
        {
            line.Append(" already expired");
        }
        else
        {
            line.Append(CultureInfo.InvariantCulture, $" granted with TTL({Number(response.GrantedTTL)}s), remaining({Number(response.TTL)}s)");
            if (keys)
                line.Append(", attached keys([").AppendJoin(' ', response.Keys.Select(k => k.ToStringUtf8())).Append("])");
        }
        var keysJson = response.Keys.Count == 0 ? "null" : "[" + string.Join(',', response.Keys.Select(k => $"\"{k.ToBase64()}\"")) + "]";
        Write(response.Header, line.ToString(),
            $"\"id\":{Number(response.ID)},\"ttl\":{Number(response.TTL)},\"granted-ttl\":{Number(response.GrantedTTL)},\"keys\":{keysJson}");
    }

    /// <summary><c>lease … keepalived with TTL(100)</c>.</summary>
    public void KeptAlive(LeaseKeepAliveResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        Write(response.Header, $"lease {LeaseIds.Format(response.ID)} keepalived with TTL({Number(response.TTL)})",
            $"\"ID\":{Number(response.ID)},\"TTL\":{Number(response.TTL)}");
    }

    /// <summary><c>found 3 leases</c>, then one id a line.</summary>
    public void Leases(LeaseLeasesResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        var lines = new StringBuilder("found ").Append(response.Leases.Count.ToString(CultureInfo.InvariantCulture)).Append(" leases");
        foreach (var lease in response.Leases)
            lines.Append('\n').Append(LeaseIds.Format(lease.ID));
        Write(response.Header, lines.ToString(),
            "\"leases\":[" + string.Join(',', response.Leases.Select(l => $"{{\"id\":{Number(l.ID)}}}")) + "]");
    }

    /// <summary>Prints <paramref name="simple"/> and a newline, or the Go struct's JSON: the header's fields, then <paramref name="fields"/>.</summary>
    private void Write(ResponseHeader? header, string simple, string fields)
    {
        if (_format != OutputFormat.Json)
        {
            _output.Write(simple + "\n");
            return;
        }
        var headerFields = EtcdctlJson.Format(header ?? new ResponseHeader())[1..^1];
        _output.Write("{" + headerFields + (headerFields.Length > 0 ? "," : "") + fields + "}\n");
    }

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);
}
