using Kvorum.Etcd.Api;
using Kvorum.Etcd.Errors;
using Kvorum.Server.Mvcc;
using static Kvorum.Server.Tests.Mvcc.StoreOps;
using Result = Kvorum.Etcd.Api.Compare.Types.CompareResult;
using SortOrder = Kvorum.Etcd.Api.RangeRequest.Types.SortOrder;
using SortTarget = Kvorum.Etcd.Api.RangeRequest.Types.SortTarget;
using Target = Kvorum.Etcd.Api.Compare.Types.CompareTarget;

namespace Kvorum.Server.Tests.Mvcc;

/// <summary>
/// Random puts, deletes, txns, compactions, snapshots and historical reads, checked step by step
/// against <see cref="ReferenceModel"/>.
/// </summary>
public class RandomizedModelTests
{
    private static readonly string[] KeySpace = ["a", "b", "c", "d", "e", "f", "g", "p/1", "p/2", "p/3", "q"];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Store_matches_the_reference_model(int seed)
    {
        var run = new ModelRun(seed);
        for (var step = 0; step < 2500; step++)
            run.Step();
    }

    private sealed class ModelRun(int seed)
    {
        private readonly Random _random = new(seed);
        private readonly ReferenceModel _model = new();
        private MvccStore _store = new();

        public void Step()
        {
            var dice = _random.Next(100);
            if (dice < 35)
                Put();
            else if (dice < 45)
                Delete();
            else if (dice < 62)
                Transaction();
            else if (dice < 92)
                Read();
            else if (dice < 96)
                Compact();
            else
                SnapshotRoundTrip();

            Assert.Equal(_model.Revision, _store.Revision);
            Assert.Equal(StoreSizeTests.Recount(_store), _store.SizeBytes);
        }

        private string AnyKey() => KeySpace[_random.Next(KeySpace.Length)];

        private void Put()
        {
            var key = AnyKey();
            var value = $"v{_random.Next(1000)}";
            long lease = _random.Next(3);
            _model.Current.TryGetValue(key, out var previous);

            var response = _store.Put(key, value, lease, prevKv: true);

            _model.Commit([(key, value, lease)]);
            Assert.Equal(_model.Revision, response.Header.Revision);
            AssertSame(previous is null ? null : (key, previous), response.PrevKv);
        }

        private void Delete()
        {
            (var key, var end) = AnyRange();
            string[] doomed = [.. ReferenceModel.InRange(_model.Current, key, end).Select(pair => pair.Key)];

            var response = _store.Delete(key, end, prevKv: true);

            _model.Commit([.. doomed.Select(k => (k, (string?)null, 0L))]);
            Assert.Equal(doomed.Length, response.Deleted);
            Assert.Equal(doomed, response.PrevKvs.Select(kv => S(kv.Key)));
            Assert.Equal(_model.Revision, response.Header.Revision);
        }

        private void Transaction()
        {
            var compareKey = AnyKey();
            var compare = AnyCompare(compareKey);
            var expected = Holds(compare, compareKey);
            string[] distinct = [.. KeySpace.OrderBy(_ => _random.Next()).Take(3)];
            string putKey = distinct[0], deleteKey = distinct[1], failKey = distinct[2];

            var response = _store.Txn(new TxnRequest
            {
                Compare = { compare },
                Success = { PutOp(putKey, "then"), DeleteOp(deleteKey), RangeOp("\0", "\0") },
                Failure = { PutOp(failKey, "else"), RangeOp(compareKey) },
            });

            Assert.Equal(expected, response.Succeeded);
            if (expected)
            {
                var changes = new List<(string, string?, long)> { (putKey, "then", 0) };
                if (_model.Current.ContainsKey(deleteKey))
                    changes.Add((deleteKey, null, 0));
                _model.Commit(changes);
                // The range inside the txn sees the txn's own writes.
                AssertRange(response.Responses[2].ResponseRange, [.. _model.Current], count: _model.Current.Count);
            }
            else
            {
                _model.Commit([(failKey, "else", 0)]);
                var read = response.Responses[1].ResponseRange;
                Assert.Equal(_model.Revision, read.Header.Revision);
                // The range runs after the put, so it would see the branch's write if it read failKey.
                var now = _model.Current.GetValueOrDefault(compareKey);
                AssertSame(now is null ? null : (compareKey, now), read.Kvs.SingleOrDefault());
            }
            Assert.Equal(_model.Revision, response.Header.Revision);
        }

        private Compare AnyCompare(string key)
        {
            _model.Current.TryGetValue(key, out var current);
            var result = (Result)_random.Next(4);
            var compare = new Compare { Key = B(key), Result = result };
            switch (_random.Next(4))
            {
                case 0:
                    compare.Target = Target.Version;
                    compare.Version = (current?.Version ?? 0) + _random.Next(-1, 2);
                    break;
                case 1:
                    compare.Target = Target.Create;
                    compare.CreateRevision = (current?.Create ?? 0) + _random.Next(-1, 2);
                    break;
                case 2:
                    compare.Target = Target.Mod;
                    compare.ModRevision = (current?.Mod ?? 0) + _random.Next(-1, 2);
                    break;
                default:
                    compare.Target = Target.Value;
                    compare.Value = B(_random.Next(2) == 0 && current is not null ? current.Value : $"v{_random.Next(1000)}");
                    break;
            }
            return compare;
        }

        private bool Holds(Compare compare, string key)
        {
            if (!_model.Current.TryGetValue(key, out var kv))
            {
                if (compare.Target == Target.Value)
                    return false;
                kv = new ModelKv("", 0, 0, 0, 0);
            }
            var order = compare.Target switch
            {
                Target.Version => kv.Version.CompareTo(compare.Version),
                Target.Create => kv.Create.CompareTo(compare.CreateRevision),
                Target.Mod => kv.Mod.CompareTo(compare.ModRevision),
                _ => string.CompareOrdinal(kv.Value, compare.Value.ToStringUtf8()),
            };
            return compare.Result switch
            {
                Result.Equal => order == 0,
                Result.NotEqual => order != 0,
                Result.Greater => order > 0,
                _ => order < 0,
            };
        }

        private void Read()
        {
            (var key, var end) = AnyRange();
            long revision = _random.Next(4) == 0 ? 0 : _random.Next(0, (int)_model.Revision + 2);
            var request = new RangeRequest
            {
                Key = B(key),
                RangeEnd = B(end),
                Revision = revision,
                Limit = _random.Next(4) == 0 ? _random.Next(1, 4) : 0,
                CountOnly = _random.Next(10) == 0,
                KeysOnly = _random.Next(10) == 0,
            };
            switch (_random.Next(5))
            {
                case 1: request.SortTarget = SortTarget.Key; request.SortOrder = SortOrder.Descend; break;
                case 2: request.SortTarget = SortTarget.Mod; request.SortOrder = SortOrder.Ascend; break;
                case 3: request.SortTarget = SortTarget.Version; request.SortOrder = SortOrder.Descend; break;
                case 4: request.SortTarget = SortTarget.Create; break;
                default: break;
            }

            var effective = revision <= 0 ? _model.Revision : revision;
            if (revision > _model.Revision)
            {
                Assert.Equal(EtcdErrors.FutureRevision, Assert.Throws<EtcdException>(() => _store.Range(request)).Error);
                return;
            }
            if (effective < _model.CompactRevision)
            {
                Assert.Equal(EtcdErrors.Compacted, Assert.Throws<EtcdException>(() => _store.Range(request)).Error);
                return;
            }

            var response = _store.Range(request);

            KeyValuePair<string, ModelKv>[] all = [.. ReferenceModel.InRange(_model.At(effective), key, end)];
            // etcd's rule: without a sort order, only the first limit + 1 keys (in key order) are sorted and cut.
            var candidates = request.SortOrder == SortOrder.None && request.Limit > 0
                ? [.. all.Take((int)request.Limit + 1)]
                : all;
            var sorted = request.SortTarget switch
            {
                SortTarget.Key when request.SortOrder == SortOrder.Descend => candidates.Reverse(),
                SortTarget.Mod => candidates.OrderBy(p => p.Value.Mod),
                SortTarget.Version => candidates.OrderByDescending(p => p.Value.Version),
                SortTarget.Create => candidates.OrderBy(p => p.Value.Create),
                _ => candidates,
            };
            KeyValuePair<string, ModelKv>[] expected = request.CountOnly ? [] : [.. sorted];
            var more = false;
            if (request.Limit > 0 && expected.Length > request.Limit)
            {
                expected = expected[..(int)request.Limit];
                more = true;
            }
            Assert.Equal(_model.Revision, response.Header.Revision);
            Assert.Equal(more, response.More);
            AssertRange(response, expected, all.Length, request.KeysOnly);
        }

        private void Compact()
        {
            if (_model.Revision <= _model.CompactRevision)
                return;
            var from = Math.Max(_model.CompactRevision + 1, 1);
            var revision = _random.NextInt64(from, _model.Revision + 1);

            _store.Compact(new CompactionRequest { Revision = revision });
            _model.CompactRevision = revision;

            Assert.Equal(revision, _store.CompactRevision);
            Assert.Throws<EtcdException>(() => _store.Compact(new CompactionRequest { Revision = revision }));
        }

        private void SnapshotRoundTrip()
        {
            var snapshot = _store.ToSnapshot();
            var restored = new MvccStore();
            restored.RestoreSnapshot(snapshot);
            Assert.Equal(snapshot, restored.ToSnapshot());
            _store = restored;
        }

        private (string Key, string End) AnyRange()
        {
            var key = AnyKey();
            return _random.Next(4) switch
            {
                0 => (key, ""),
                1 => (key, "\0"),
                2 => ("p/", "p0"),
                _ => (key, AnyKey()),
            };
        }

        private static void AssertRange(RangeResponse response, KeyValuePair<string, ModelKv>[] expected, long count, bool keysOnly = false)
        {
            Assert.Equal(count, response.Count);
            Assert.Equal(expected.Select(p => p.Key), response.Kvs.Select(kv => S(kv.Key)));
            for (var i = 0; i < expected.Length; i++)
                AssertSame((expected[i].Key, expected[i].Value), response.Kvs[i], keysOnly);
        }

        private static void AssertSame((string Key, ModelKv Kv)? expected, KeyValue? actual, bool keysOnly = false)
        {
            if (expected is null)
            {
                Assert.Null(actual);
                return;
            }
            Assert.NotNull(actual);
            (var key, var kv) = expected.Value;
            Assert.Equal(
                (key, keysOnly ? "" : kv.Value, kv.Create, kv.Mod, kv.Version, kv.Lease),
                (S(actual.Key), S(actual.Value), actual.CreateRevision, actual.ModRevision, actual.Version, actual.Lease));
        }
    }
}
