using Kvorum.Etcd.Errors;
using Kvorum.Raft;
using Kvorum.Server.Mvcc;
using Kvorum.Server.Node;
using Kvorum.Server.Tests.Transport;

namespace Kvorum.Server.Tests.Node;

/// <summary>A member's auto-compaction checks (<see cref="AutoCompactor"/>), on times the test gives.</summary>
public sealed class AutoCompactorTests
{
    private readonly ListLogger _log = new();
    private readonly List<long> _compacted = [];
    private NodeStatus _status = new(2, 1, 10, 10, 10, Revision: 1500, StateRole.Leader, false);
    private EtcdException? _refusal;

    private AutoCompactor Compactor() => new(AutoCompaction.Revisions(1000), () => _status, (revision, _) =>
    {
        if (_refusal is not null)
            throw _refusal;
        _compacted.Add(revision);
        return Task.CompletedTask;
    }, _log);

    [Fact]
    public async Task The_leader_proposes_the_compaction_its_policy_asks_for()
    {
        var compactor = Compactor();
        Assert.Equal(500, await compactor.CheckAsync(TimeSpan.FromMinutes(5), CancellationToken.None));
        Assert.Equal([500L], _compacted);
        Assert.Contains(_log.Lines, l => l.Text == "auto-compaction (revision, keeping 1000 revisions): compacted to revision 500");
    }

    [Fact]
    public async Task A_follower_proposes_nothing_and_the_revision_it_passed_is_not_asked_for_again()
    {
        var compactor = Compactor();
        _status = _status with { Role = StateRole.Follower };
        Assert.Equal(0, await compactor.CheckAsync(TimeSpan.FromMinutes(5), CancellationToken.None));
        _status = _status with { Role = StateRole.Leader };
        Assert.Equal(0, await compactor.CheckAsync(TimeSpan.FromMinutes(10), CancellationToken.None));
        Assert.Empty(_compacted);
    }

    [Fact]
    public async Task A_compaction_refused_is_told_and_a_later_check_tries_a_newer_revision()
    {
        var compactor = Compactor();
        _refusal = new EtcdException(EtcdErrors.Compacted);
        Assert.Equal(0, await compactor.CheckAsync(TimeSpan.FromMinutes(5), CancellationToken.None));
        Assert.Contains(_log.Lines, l => l.Text == $"auto-compaction to revision 500 did not happen: {EtcdErrors.Compacted.Message}");

        _refusal = null;
        _status = _status with { Revision = 1600 };
        Assert.Equal(600, await compactor.CheckAsync(TimeSpan.FromMinutes(10), CancellationToken.None));
    }

    [Fact]
    public void The_options_turn_it_on_only_with_a_retention()
    {
        Assert.Null(AutoCompactor.PolicyOf(new ServerOptions { AutoCompactionMode = AutoCompactionMode.Periodic, AutoCompactionPeriod = TimeSpan.Zero }));
        Assert.Equal("periodic, keeping 01:00:00", AutoCompactor.PolicyOf(new ServerOptions { AutoCompactionPeriod = TimeSpan.FromHours(1) })?.ToString());
        Assert.Equal("revision, keeping 5 revisions", AutoCompactor.PolicyOf(new ServerOptions { AutoCompactionMode = AutoCompactionMode.Revision, AutoCompactionRevisions = 5 })?.ToString());
    }
}
