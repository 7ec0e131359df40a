"""Benchmark of the routing engine: one match pass, from a contact's arrival to the offer taken.

    .venv/bin/python bench/routing.py [--redis-url redis://127.0.0.1:6379/13] [--decisions 2000]

Uses its own Redis DB index (13 by default) and flushes only that one. For each size it fills
Redis with the peers (available, on shift, one experience) and the waiting contacts (other
experiences nobody free shares, so they stay waiting and the pass must look past them), then
times `arrive` (one EVALSHA: store the contact, run the pass, take the offer). Between timed
arrivals the peer accepts and completes (untimed), so the sizes stay put. A PING round trip,
measured in the same run, is the floor.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from redis import Redis

from bench.machine import cpu_model, percentile
from warmline.domain.matching import VOICE, ContactView, LineRules, Presence
from warmline.routing.engine import PeerProfile, RoutingEngine
from warmline.runtime import make_redis

SIZES = ((10, 10), (1_000, 1_000), (10_000, 5_000))
WAITING_EXPERIENCES = [f"exp{n}" for n in range(8)]


def measure_ping(redis: Redis, rounds: int) -> list[float]:
    out = []
    for _ in range(rounds):
        t = time.perf_counter()
        redis.ping()
        out.append(time.perf_counter() - t)
    return out


def fill(engine: RoutingEngine, peers: int, waiting: int) -> float:
    now = time.time()
    engine.sync_line(LineRules(1, wrap_up_seconds=0), now)
    for peer_id in range(1, peers + 1):
        engine.sync_peer(PeerProfile(peer_id, frozenset({1}), frozenset({"matched"}),
                                     frozenset({"en"}), frozenset({VOICE}), 0), now)
    engine.set_on_shift(1, range(1, peers + 1), now)
    for peer_id in range(1, peers + 1):
        engine.set_presence(peer_id, Presence.AVAILABLE, now)
    for n in range(waiting):
        engine.arrive(ContactView(f"w{n}", 1, VOICE,
                                  WAITING_EXPERIENCES[n % len(WAITING_EXPERIENCES)], "en",
                                  n % 3, now, False), now)
    return now


def run_size(redis: Redis, peers: int, waiting: int, decisions: int) -> list[float]:
    redis.flushdb()
    engine = RoutingEngine(redis)
    engine.mark_state_built("bench")  # nothing to rebuild: the benchmark builds its own state
    fill(engine, peers, waiting)
    latencies: list[float] = []
    warm_up = 200  # script load and connection set-up are not a pass's cost
    for n in range(decisions + warm_up):
        now = time.time()
        contact = ContactView(f"b{n}", 1, VOICE, "matched", "en", 0, now)
        t = time.perf_counter()
        arrival = engine.arrive(contact, now)
        if n >= warm_up:
            latencies.append(time.perf_counter() - t)
        [offer] = arrival.offers
        engine.accept(offer.offer_id, now)
        engine.complete(offer.contact_id, now)
    assert len(engine.waiting_contact_ids()) == waiting
    return latencies


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--decisions", type=int, default=2000)
    args = parser.parse_args(argv)
    redis = make_redis(args.redis_url, socket_timeout=30.0)  # the app's factory: Sentinel URLs too
    info = redis.info("server")
    print(f"machine: {os.cpu_count()} cores, {cpu_model()}, Python {platform.python_version()}, "
          f"Redis {info['redis_version']} ({args.redis_url})")
    ping_before = measure_ping(redis, 2000)
    rows = []
    for peers, waiting in SIZES:
        rows.append((peers, waiting, run_size(redis, peers, waiting, args.decisions)))
    ping = ping_before + measure_ping(redis, 2000)
    redis.flushdb()
    ping50, ping99 = percentile(ping, 0.5), percentile(ping, 0.99)
    print(f"PING round trip: p50 {ping50 * 1e3:.3f} ms, p99 {ping99 * 1e3:.3f} ms "
          f"({len(ping)} pings)")
    print()
    header = (f"{'peers':>7} {'waiting':>8} {'decisions/s':>12} {'p50 ms':>8} {'p99 ms':>8} "
              f"{'p50/PING':>9} {'p99/PING p99':>13} {'cost vs 10':>11}")
    print(header)
    print("-" * len(header))
    base = statistics.mean(rows[0][2])
    for peers, waiting, lat in rows:
        mean = statistics.mean(lat)
        p50, p99 = percentile(lat, 0.5), percentile(lat, 0.99)
        print(f"{peers:>7} {waiting:>8} {1 / mean:>12.0f} {p50 * 1e3:>8.3f} {p99 * 1e3:>8.3f} "
              f"{p50 / ping50:>9.2f} {p99 / ping99:>13.2f} {mean / base:>10.2f}x")
    print()
    print("decisions/s: one client, back to back (1 / mean latency of arrive = store + pass + "
          "offer); cost vs 10: mean time per decision relative to (10 peers, 10 waiting).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
