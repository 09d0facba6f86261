using System.Diagnostics;
using System.Globalization;
using System.Text;
using Kvorum.Etcd.Api;

namespace Kvorum.Cli.Client;

/// <summary>
/// etcdctl's <c>watch KEY -- COMMAND ARGS...</c>: after each answer is printed, COMMAND runs once per event, in order
/// and to completion, with <c>ETCD_WATCH_REVISION</c> (the answer's header revision), <c>ETCD_WATCH_EVENT_TYPE</c>,
/// <c>ETCD_WATCH_KEY</c> and <c>ETCD_WATCH_VALUE</c> in its environment — the last three quoted as Go's <c>%q</c>
/// quotes them, as etcdctl sets them. A command that cannot start or exits non-zero ends the watch
/// (<c>command ["…" "…"] error (exit status N)</c>, exit 1).
/// </summary>
internal sealed class WatchExec(IReadOnlyList<string> command)
{
    /// <summary>The command and its arguments.</summary>
    public IReadOnlyList<string> Command { get; } = command;

    /// <summary>Runs the command for each event of <paramref name="response"/>; its output goes to the CLI's streams.</summary>
    /// <exception cref="CommandFailedException">The command could not start, or exited with another code than 0.</exception>
    public async Task RunAsync(CliContext context, WatchResponse response, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(response);
        foreach (var e in response.Events)
        {
            await context.Out.FlushAsync(cancellation).ConfigureAwait(false);
            var start = new ProcessStartInfo(Command[0])
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            foreach (var argument in Command.Skip(1))
                start.ArgumentList.Add(argument);
            start.Environment["ETCD_WATCH_REVISION"] = response.Header.Revision.ToString(CultureInfo.InvariantCulture);
            start.Environment["ETCD_WATCH_EVENT_TYPE"] = GoQuote(Encoding.UTF8.GetBytes(e.Type == Event.Types.EventType.Put ? "PUT" : "DELETE"));
            start.Environment["ETCD_WATCH_KEY"] = GoQuote(e.Kv.Key.Span);
            start.Environment["ETCD_WATCH_VALUE"] = GoQuote(e.Kv.Value.Span);
            int code;
            try
            {
                using var process = Process.Start(start) ?? throw new InvalidOperationException("the process did not start");
                var copying = Task.WhenAll(CopyAsync(process.StandardOutput, context.Out), CopyAsync(process.StandardError, context.Error));
                await process.WaitForExitAsync(cancellation).ConfigureAwait(false);
                await copying.ConfigureAwait(false);
                code = process.ExitCode;
            }
            catch (Exception x) when (x is System.ComponentModel.Win32Exception or InvalidOperationException)
            {
                throw new CommandFailedException($"command {Describe()} error ({x.Message})", x);
            }
            if (code != 0)
                throw new CommandFailedException($"command {Describe()} error (exit status {code})");
        }
    }

    /// <summary>The command as etcdctl names it in its error: Go's <c>%q</c> of a list of strings.</summary>
    private string Describe() => "[" + string.Join(' ', Command.Select(c => GoQuote(Encoding.UTF8.GetBytes(c)))) + "]";

    private static async Task CopyAsync(StreamReader from, TextWriter to)
    {
        var buffer = new char[4096];
        int read;
        while ((read = await from.ReadAsync(buffer).ConfigureAwait(false)) > 0)
            await to.WriteAsync(buffer.AsMemory(0, read)).ConfigureAwait(false);
        await to.FlushAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// <paramref name="bytes"/> as Go's <c>strconv.Quote</c> writes them: in double quotes; <c>"</c> and <c>\</c>
    /// escaped; printable UTF-8 as is; the usual control characters as <c>\n</c>, <c>\t</c>…; other characters as
    /// <c>\x</c>, <c>\u</c> or <c>\U</c> escapes; bytes that are not UTF-8 as <c>\xNN</c>.
    /// </summary>
    internal static string GoQuote(ReadOnlySpan<byte> bytes)
    {
        var text = new StringBuilder(bytes.Length + 2).Append('"');
        while (!bytes.IsEmpty)
        {
            if (Rune.DecodeFromUtf8(bytes, out var rune, out var used) != System.Buffers.OperationStatus.Done)
            {
                text.Append(CultureInfo.InvariantCulture, $"\\x{bytes[0]:x2}");
                bytes = bytes[1..];
                continue;
            }
            bytes = bytes[used..];
            switch (rune.Value)
            {
                case '"': text.Append("\\\""); break;
                case '\\': text.Append("\\\\"); break;
                case '\a': text.Append("\\a"); break;
                case '\b': text.Append("\\b"); break;
                case '\f': text.Append("\\f"); break;
                case '\n': text.Append("\\n"); break;
                case '\r': text.Append("\\r"); break;
                case '\t': text.Append("\\t"); break;
                case '\v': text.Append("\\v"); break;
                default:
                    if (IsPrint(rune))
                        text.Append(rune.ToString());
                    else if (rune.Value < 0x80)
                        text.Append(CultureInfo.InvariantCulture, $"\\x{rune.Value:x2}");
                    else if (rune.Value < 0x10000)
                        text.Append(CultureInfo.InvariantCulture, $"\\u{rune.Value:x4}");
                    else
                        text.Append(CultureInfo.InvariantCulture, $"\\U{rune.Value:x8}");
                    break;
            }
        }
        return text.Append('"').ToString();
    }

    /// <summary>Go's <c>strconv.IsPrint</c>, close enough: letters, marks, numbers, punctuation, symbols and the ASCII space.</summary>
    private static bool IsPrint(Rune rune) =>
        rune.Value == ' ' || Rune.GetUnicodeCategory(rune) switch
        {
            UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse
                or UnicodeCategory.OtherNotAssigned or UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator
                or UnicodeCategory.ParagraphSeparator => false,
            _ => true,
        };
}
