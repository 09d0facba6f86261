using Kvorum.Lab.Checking;

namespace Kvorum.Lab.Tests;

public class HistoryJsonTests
{
    private static History Sample() => new HistoryScript()
        .Put(1, 0, 10, "a")
        .Get(2, 5, 12, null, key: "other")
        .Cas(3, 11, 20, "a", "b", succeeded: true)
        .Cas(3, 21, 30, null, "c", succeeded: false)
        .Failed(4, 1, 2, KvInput.Put("k", "never"))
        .Indeterminate(5, 3, KvInput.Cas("k", "b", "d"))
        .Build();

    [Fact]
    public void Round_trips_every_kind_and_outcome()
    {
        var history = Sample();
        var text = new StringWriter();
        HistoryJson.Write(history, text);

        var lines = text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(history.Count, lines.Length);
        var back = HistoryJson.Read(new StringReader(text.ToString()));
        Assert.Equal(history, back);
    }

    [Fact]
    public void Writes_compact_camel_case_lines_with_named_enums()
    {
        var line = HistoryJson.Serialize(Sample()[2]);
        Assert.Equal(
            """{"id":2,"process":3,"input":{"kind":"cas","key":"k","value":"b","expected":"a"},"invokedAt":11,"completedAt":20,"outcome":"ok","output":{"succeeded":true}}""",
            line);
    }

    [Fact]
    public void Round_trips_through_a_file()
    {
        var path = Path.GetTempFileName();
        try
        {
            HistoryJson.WriteFile(Sample(), path);
            Assert.Equal(Sample(), HistoryJson.ReadFile(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Names_the_line_of_malformed_input()
    {
        var good = HistoryJson.Serialize(Sample()[0]);
        var e = Assert.Throws<FormatException>(() => HistoryJson.Read(new StringReader(good + "\n\n{\"id\":")));
        Assert.StartsWith("line 3:", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Rejects_a_completed_operation_without_output()
    {
        const string line = """{"id":1,"process":1,"input":{"kind":"get","key":"k"},"invokedAt":1,"completedAt":2,"outcome":"ok"}""";
        Assert.Throws<FormatException>(() => HistoryJson.Deserialize(line));
    }

    [Fact]
    public void Rejects_duplicate_ids()
    {
        var line = HistoryJson.Serialize(Sample()[0]);
        Assert.Throws<FormatException>(() => HistoryJson.Read(new StringReader(line + "\n" + line)));
    }
}
