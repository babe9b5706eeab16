"""Contract of the Cache port, run against the in-process cache and a real redis-server."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import redis

from shared.adapters.local.memory_cache import InProcessCache
from shared.adapters.redis_cache import RedisCache, connect
from shared.errors import InvalidInputError, TransientError
from shared.ports import Cache

BOARD = "leaderboard:backtest:sharpe:all"
SCORES = {"alpha": 2.5, "bravo": 1.0, "charlie": 3.75, "delta": -0.5, "echo": 1.0}
# Descending by score; ties (bravo, echo) ordered by member, reversed, as ZREVRANGE does.
DESC = [("charlie", 3.75), ("alpha", 2.5), ("echo", 1.0), ("bravo", 1.0), ("delta", -0.5)]


@pytest.fixture(params=["in_process", "redis"])
def cache(request: pytest.FixtureRequest) -> Iterator[Cache]:
    if request.param == "in_process":
        yield InProcessCache()
    else:
        yield RedisCache(request.getfixturevalue("redis_client"))


def test_a_value_reads_back(cache: Cache) -> None:
    cache.set("k", b"\x00value\xff")
    assert cache.get("k") == b"\x00value\xff"


def test_a_missing_key_reads_as_none(cache: Cache) -> None:
    assert cache.get("nope") is None


def test_set_overwrites(cache: Cache) -> None:
    cache.set("k", b"one")
    cache.set("k", b"two")
    assert cache.get("k") == b"two"


def test_a_value_expires_after_its_ttl(cache: Cache) -> None:
    cache.set("short", b"x", ttl_s=0.1)
    cache.set("long", b"y", ttl_s=30)
    assert cache.get("short") == b"x"
    time.sleep(0.2)
    assert cache.get("short") is None
    assert cache.get("long") == b"y"


def test_setting_without_ttl_clears_an_earlier_ttl(cache: Cache) -> None:
    cache.set("k", b"x", ttl_s=0.1)
    cache.set("k", b"y")
    time.sleep(0.2)
    assert cache.get("k") == b"y"


@pytest.mark.parametrize("bad_ttl", [0, -1, float("nan"), float("inf"), "10"])
def test_a_ttl_that_is_not_positive_is_rejected(cache: Cache, bad_ttl: object) -> None:
    with pytest.raises(InvalidInputError):
        cache.set("k", b"x", ttl_s=bad_ttl)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        cache.replace_sorted_set(BOARD, SCORES, ttl_s=bad_ttl)  # type: ignore[arg-type]


def test_values_must_be_bytes(cache: Cache) -> None:
    with pytest.raises(InvalidInputError):
        cache.set("k", "text")  # type: ignore[arg-type]


def test_delete_removes_several_keys_and_ignores_missing_ones(cache: Cache) -> None:
    cache.set("a", b"1")
    cache.set("b", b"2")
    cache.replace_sorted_set(BOARD, SCORES)
    cache.delete("a", "b", BOARD, "never-was")
    cache.delete()
    assert cache.get("a") is None and cache.get("b") is None
    assert cache.sorted_range(BOARD, 0, -1) == []


def test_sorted_range_is_descending_by_default(cache: Cache) -> None:
    cache.replace_sorted_set(BOARD, SCORES)
    assert cache.sorted_range(BOARD, 0, -1) == DESC


def test_sorted_range_ascending_is_the_reverse(cache: Cache) -> None:
    cache.replace_sorted_set(BOARD, SCORES)
    assert cache.sorted_range(BOARD, 0, -1, descending=False) == DESC[::-1]


@pytest.mark.parametrize(
    ("start", "stop"),
    [(0, 0), (0, 2), (1, 3), (-2, -1), (-3, 3), (2, 100), (-100, 1), (3, 1), (5, 10), (-1, -2),
     (0, -6), (-6, -5)],
)
def test_sorted_range_follows_zrange_index_rules(cache: Cache, start: int, stop: int) -> None:
    cache.replace_sorted_set(BOARD, SCORES)
    python_stop = len(DESC) + stop if stop < 0 else stop
    python_start = max(0, len(DESC) + start) if start < 0 else start
    expected = DESC[python_start : python_stop + 1]
    assert cache.sorted_range(BOARD, start, stop) == expected
    assert cache.sorted_range(BOARD, start, stop, descending=False) == DESC[::-1][
        python_start : python_stop + 1
    ]


def test_sorted_rank_counts_from_the_top_by_default(cache: Cache) -> None:
    cache.replace_sorted_set(BOARD, SCORES)
    assert [cache.sorted_rank(BOARD, m) for m, _ in DESC] == [0, 1, 2, 3, 4]
    assert cache.sorted_rank(BOARD, "charlie", descending=False) == 4
    assert cache.sorted_rank(BOARD, "delta", descending=False) == 0


def test_sorted_rank_of_an_unknown_member_or_set_is_none(cache: Cache) -> None:
    cache.replace_sorted_set(BOARD, SCORES)
    assert cache.sorted_rank(BOARD, "zulu") is None
    assert cache.sorted_rank("no-such-board", "alpha") is None
    assert cache.sorted_range("no-such-board", 0, -1) == []


def test_replacing_a_sorted_set_drops_old_members(cache: Cache) -> None:
    cache.replace_sorted_set(BOARD, SCORES)
    cache.replace_sorted_set(BOARD, {"new": 9.0, "alpha": 0.0})
    assert cache.sorted_range(BOARD, 0, -1) == [("new", 9.0), ("alpha", 0.0)]
    assert cache.sorted_rank(BOARD, "charlie") is None


def test_replacing_with_nothing_empties_the_set(cache: Cache) -> None:
    cache.replace_sorted_set(BOARD, SCORES)
    cache.replace_sorted_set(BOARD, {})
    assert cache.sorted_range(BOARD, 0, -1) == []


def test_a_sorted_set_expires_after_its_ttl(cache: Cache) -> None:
    cache.replace_sorted_set(BOARD, SCORES, ttl_s=0.1)
    assert len(cache.sorted_range(BOARD, 0, -1)) == 5
    time.sleep(0.2)
    assert cache.sorted_range(BOARD, 0, -1) == []
    assert cache.sorted_rank(BOARD, "alpha") is None


def test_a_replacement_without_ttl_does_not_inherit_the_old_one(cache: Cache) -> None:
    cache.replace_sorted_set(BOARD, SCORES, ttl_s=0.1)
    cache.replace_sorted_set(BOARD, {"x": 1.0})
    time.sleep(0.2)
    assert cache.sorted_range(BOARD, 0, -1) == [("x", 1.0)]


def test_scores_keep_float_precision_and_infinities(cache: Cache) -> None:
    cache.replace_sorted_set(BOARD, {"a": 0.1 + 0.2, "b": float("inf"), "c": float("-inf")})
    assert cache.sorted_range(BOARD, 0, -1) == [
        ("b", float("inf")), ("a", 0.1 + 0.2), ("c", float("-inf")),
    ]


def test_a_nan_score_is_rejected(cache: Cache) -> None:
    with pytest.raises(InvalidInputError):
        cache.replace_sorted_set(BOARD, {"a": float("nan")})


def test_unicode_members_round_trip(cache: Cache) -> None:
    cache.replace_sorted_set(BOARD, {"agent-é": 1.0, "агент": 2.0})
    assert cache.sorted_range(BOARD, 0, -1) == [("агент", 2.0), ("agent-é", 1.0)]


def test_reading_a_key_as_the_wrong_kind_is_an_error(cache: Cache) -> None:
    cache.set("plain", b"x")
    cache.replace_sorted_set(BOARD, SCORES)
    with pytest.raises(InvalidInputError):
        cache.sorted_range("plain", 0, -1)
    with pytest.raises(InvalidInputError):
        cache.get(BOARD)


def test_readers_never_see_a_half_replaced_sorted_set(cache: Cache) -> None:
    boards = [{f"m{i}": float(i + n) for i in range(200)} for n in range(2)]
    expected = [sorted(((m, s) for m, s in b.items()), key=lambda x: (-x[1], x[0])) for b in boards]
    cache.replace_sorted_set(BOARD, boards[0])
    stop = threading.Event()
    bad: list[object] = []

    def read() -> None:
        while not stop.is_set():
            rows = cache.sorted_range(BOARD, 0, -1)
            if rows != expected[0] and rows != expected[1]:
                bad.append(rows)

    reader = threading.Thread(target=read)
    reader.start()
    for n in range(30):
        cache.replace_sorted_set(BOARD, boards[n % 2])
    stop.set()
    reader.join()
    assert bad == []


def test_a_large_sorted_set_is_replaced_whole(cache: Cache) -> None:
    scores = {f"agent-{i:05d}": float(i) for i in range(25_000)}
    cache.replace_sorted_set(BOARD, scores)
    assert cache.sorted_range(BOARD, 0, 0) == [("agent-24999", 24999.0)]
    assert cache.sorted_rank(BOARD, "agent-00000") == 24_999


def test_replacing_leaves_no_temporary_keys_in_redis(redis_client: redis.Redis) -> None:
    cache = RedisCache(redis_client)
    cache.replace_sorted_set(BOARD, SCORES, ttl_s=30)
    cache.replace_sorted_set(BOARD, {"x": 1.0})
    assert redis_client.keys("*") == [BOARD.encode()]
    assert redis_client.pttl(BOARD) == -1


def test_an_unreachable_redis_is_a_transient_error() -> None:
    from tests.fixtures.common import free_port

    cache = RedisCache(connect(f"redis://127.0.0.1:{free_port()}/0", timeout_s=0.2))
    with pytest.raises(TransientError):
        cache.get("k")


def test_a_bad_redis_url_is_rejected() -> None:
    with pytest.raises(InvalidInputError):
        connect("http://localhost:6379")
