using Kvorum.Fuzz.Targets;
using Kvorum.Tests.Fuzzing;

namespace Kvorum.Storage.Tests.Fuzz;

/// <summary>Random and damaged snapshot file headers (<see cref="SnapshotHeaderTarget"/>).</summary>
public class SnapshotHeaderFuzzTests
{
    [Fact]
    public void Random_and_damaged_headers_decode_or_are_refused_with_a_format_error()
    {
        FuzzRun.Check(SnapshotHeaderTarget.Seeds(), SnapshotHeaderTarget.Run, GetType());
    }

    [Fact]
    public void Every_valid_header_decodes_and_encodes_back_to_its_bytes()
    {
        foreach (var seed in SnapshotHeaderTarget.Seeds())
        {
            var (snapshot, length) = SnapshotFormat.DecodeHeader(seed);
            Assert.Equal(seed.AsSpan(0, length).ToArray(), SnapshotFormat.EncodeHeader(snapshot));
        }
    }
}
