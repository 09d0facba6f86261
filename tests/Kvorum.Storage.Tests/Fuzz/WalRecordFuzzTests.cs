using Kvorum.Fuzz.Targets;
using Kvorum.Tests.Fuzzing;

namespace Kvorum.Storage.Tests.Fuzz;

/// <summary>Random and damaged WAL records (<see cref="WalRecordTarget"/>).</summary>
public class WalRecordFuzzTests
{
    [Fact]
    public void Random_and_damaged_records_parse_or_are_refused_as_invalid()
    {
        FuzzRun.Check(WalRecordTarget.Seeds(), WalRecordTarget.Run, GetType());
    }

    [Fact]
    public void Every_valid_record_parses_whole_and_writes_back_to_its_bytes()
    {
        foreach (var seed in WalRecordTarget.Seeds())
        {
            Assert.Equal(ParseStatus.Ok, RecordFormat.TryParse(seed, out var record, out _));
            Assert.Equal(seed.Length, record.Size);
            WalRecordTarget.Run(seed);
        }
    }
}
