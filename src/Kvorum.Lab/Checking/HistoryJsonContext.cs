using System.Text.Json.Serialization;

namespace Kvorum.Lab.Checking;

/// <summary>Source-generated (reflection-free) JSON metadata for one history line.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    WriteIndented = false)]
[JsonSerializable(typeof(Operation))]
internal sealed partial class HistoryJsonContext : JsonSerializerContext;
