using System.Globalization;
using System.Text;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Kvorum.Cli.Output;

/// <summary>
/// An etcd response as etcdctl's <c>-w json</c> prints it. etcdctl runs Go's <c>encoding/json</c> over the generated
/// Go structs, so the text follows Go's rules, not protobuf's JSON mapping, and scripts (jq) depend on them:
/// <list type="bullet">
/// <item>one line, no spaces; fields in declaration order, named as in the .proto (<c>cluster_id</c>, <c>dbSize</c>);</item>
/// <item>every field at its zero value left out (<c>omitempty</c>): 0, false, "", empty bytes, no message, empty lists;</item>
/// <item>64-bit integers and enums as JSON numbers; bytes in standard base64;</item>
/// <item>a oneof as an object named after the oneof in Go's CamelCase, holding one field in Go's CamelCase:
/// <c>{"Response":{"ResponsePut":{...}}}</c>;</item>
/// <item>strings escaped as Go escapes them: <c>&lt;</c>, <c>&gt;</c>, <c>&amp;</c>, U+2028 and U+2029 as \u escapes,
/// other characters as they are.</item>
/// </list>
/// </summary>
internal static class EtcdctlJson
{
    /// <summary>The message as one line of etcdctl's JSON.</summary>
    /// <returns>The JSON text, without a newline.</returns>
    public static string Format(IMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var text = new StringBuilder();
        WriteMessage(text, message);
        return text.ToString();
    }

    private static void WriteMessage(StringBuilder text, IMessage message)
    {
        text.Append('{');
        var first = true;
        var oneofsDone = new HashSet<OneofDescriptor>();
        foreach (var field in message.Descriptor.Fields.InDeclarationOrder())
        {
            var oneof = field.RealContainingOneof;
            if (oneof is not null)
            {
                // Go's struct has one field for the whole oneof, where its first member is declared.
                if (!oneofsDone.Add(oneof))
                    continue;
                var set = oneof.Accessor.GetCaseFieldDescriptor(message);
                if (set is null)
                    continue;
                Separate(text, ref first);
                WriteName(text, GoName(oneof.Name));
                text.Append('{');
                WriteName(text, GoName(set.Name));
                WriteValue(text, set, set.Accessor.GetValue(message));
                text.Append('}');
                continue;
            }
            var value = field.Accessor.GetValue(message);
            if (IsEmpty(field, value))
                continue;
            Separate(text, ref first);
            WriteName(text, field.Name);
            WriteValue(text, field, value);
        }
        text.Append('}');
    }

    private static void Separate(StringBuilder text, ref bool first)
    {
        if (!first)
            text.Append(',');
        first = false;
    }

    private static void WriteName(StringBuilder text, string name)
    {
        WriteString(text, name);
        text.Append(':');
    }

    private static bool IsEmpty(FieldDescriptor field, object? value)
    {
        if (value is null)
            return true;
        if (field.IsRepeated)
            return ((System.Collections.IList)value).Count == 0;
        return value switch
        {
            bool b => !b,
            string s => s.Length == 0,
            ByteString bytes => bytes.IsEmpty,
            int i => i == 0,
            long l => l == 0,
            uint u => u == 0,
            ulong ul => ul == 0,
            Enum e => Convert.ToInt32(e, CultureInfo.InvariantCulture) == 0,
            _ => false,
        };
    }

    private static void WriteValue(StringBuilder text, FieldDescriptor field, object value)
    {
        if (field.IsRepeated)
        {
            text.Append('[');
            var first = true;
            foreach (var item in (System.Collections.IList)value)
            {
                Separate(text, ref first);
                WriteSingle(text, field, item);
            }
            text.Append(']');
            return;
        }
        WriteSingle(text, field, value);
    }

    private static void WriteSingle(StringBuilder text, FieldDescriptor field, object value)
    {
        switch (value)
        {
            case IMessage nested:
                WriteMessage(text, nested);
                break;
            case string s:
                WriteString(text, s);
                break;
            case ByteString bytes:
                text.Append('"').Append(bytes.ToBase64()).Append('"');
                break;
            case bool b:
                text.Append(b ? "true" : "false");
                break;
            case Enum e:
                text.Append(Convert.ToInt32(e, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture));
                break;
            case IFormattable number:
                text.Append(number.ToString(null, CultureInfo.InvariantCulture));
                break;
            default:
                throw new NotSupportedException($"field {field.FullName}: {value.GetType().Name} is not printed by etcdctl");
        }
    }

    /// <summary>A protobuf name as protoc-gen-go names the Go field: <c>response_delete_range</c> → <c>ResponseDeleteRange</c>.</summary>
    internal static string GoName(string protoName)
    {
        var name = new StringBuilder(protoName.Length);
        var upper = true;
        foreach (var c in protoName)
        {
            if (c == '_')
            {
                upper = true;
                continue;
            }
            name.Append(upper ? char.ToUpperInvariant(c) : c);
            upper = false;
        }
        return name.ToString();
    }

    /// <summary>A JSON string as Go's encoding/json writes it.</summary>
    internal static string Quote(string value)
    {
        var text = new StringBuilder(value.Length + 2);
        WriteString(text, value);
        return text.ToString();
    }

    private static void WriteString(StringBuilder text, string value)
    {
        text.Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"':
                    text.Append("\\\"");
                    break;
                case '\\':
                    text.Append("\\\\");
                    break;
                case '\n':
                    text.Append("\\n");
                    break;
                case '\r':
                    text.Append("\\r");
                    break;
                case '\t':
                    text.Append("\\t");
                    break;
                case '<' or '>' or '&' or '\u2028' or '\u2029':
                    text.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    break;
                default:
                    if (c < 0x20)
                        text.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else
                        text.Append(c);
                    break;
            }
        }
        text.Append('"');
    }
}
