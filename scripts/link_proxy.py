#!/usr/bin/env python3
"""A TCP proxy on 127.0.0.1 that makes a local server look like one at the end of a long link.

Used by `scripts/bench --upload --long-link` between the clients and moto, so that both clients (ours and
`aws s3 cp`) cross the same emulated link. It models one full-duplex link, not one per connection:

- bandwidth: each direction has one transmitter shared by every connection (one link's cap, not a cap per
  connection). A connection puts one chunk (at most --chunk-kib) on the transmitter at a time and reads its next
  chunk only once that one has left, so active connections take turns chunk by chunk, as fair queueing would;
- latency: a chunk arrives at the other side half the round trip after its last byte left; a new connection
  waits one round trip (the TCP handshake) before its first byte leaves;
- window (optional, --window-kib): a connection has at most that many bytes sent and not yet acknowledged, an
  acknowledgement coming back half a round trip after the chunk was delivered to the receiving socket. This is a
  TCP window over the emulated round trip (at most window / RTT per connection); 0 leaves it out, so a connection
  is limited only by the link's cap (a 64 MiB bound on its bytes in flight only keeps the proxy's memory bounded
  when a receiver is slow).

Not modelled: slow start, loss, reordering. The kernel's own TCP between the client and the proxy runs on
loopback, so its congestion control sees no latency.

Prints `listening on 127.0.0.1:<port>` on stdout once ready; runs until SIGTERM or SIGINT. `--trace FILE` writes
one line per chunk put on the link (time it left, connection number, direction, bytes), to see where a client leaves
the link idle. Only the Python standard library is used.
"""

import argparse
import asyncio
import collections
import signal
import sys


class Transmitter:
    """One direction of the link: serialises chunks of every connection at `rate` bytes per second."""

    def __init__(self, rate):
        self.rate = rate
        self.next_free = 0.0

    async def send(self, n):
        """Waits until `n` bytes have left (queued after what is already on the link); returns that time."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        start = max(now, self.next_free)
        end = start + n / self.rate
        self.next_free = end
        await asyncio.sleep(end - now)
        return end


class Pipe:
    """One direction of one connection: read from `reader`, cross the link, write to `writer`."""

    def __init__(self, reader, writer, link, args, name=""):
        self.reader, self.writer, self.link, self.name = reader, writer, link, name
        self.trace = args.trace_file
        self.delay = args.rtt_ms / 2000.0
        self.chunk = args.chunk_kib << 10
        self.window = (args.window_kib << 10) or (64 << 20)
        self.unacked = 0
        self.acked = asyncio.Event()
        self.queue = collections.deque()
        self.queued = asyncio.Event()

    async def run(self, started):
        loop = asyncio.get_running_loop()
        deliver = asyncio.ensure_future(self.deliver())
        try:
            # The handshake: nothing leaves before one round trip after the connection was accepted.
            await asyncio.sleep(max(0.0, started + 2 * self.delay - loop.time()))
            while True:
                want = self.chunk
                while self.unacked >= self.window:
                    self.acked.clear()
                    await self.acked.wait()
                want = min(want, self.window - self.unacked)
                data = await self.reader.read(want)
                if not data:
                    break
                self.unacked += len(data)
                left = await self.link.send(len(data))
                if self.trace:
                    self.trace.write(f"{left:.4f} {self.name} {len(data)}\n")
                self.queue.append((left + self.delay, data))
                self.queued.set()
        finally:
            self.queue.append((None, None))
            self.queued.set()
            await deliver

    async def deliver(self):
        loop = asyncio.get_running_loop()
        while True:
            while not self.queue:
                self.queued.clear()
                await self.queued.wait()
            at, data = self.queue.popleft()
            if data is None:
                try:
                    if self.writer.can_write_eof():
                        self.writer.write_eof()
                except OSError:
                    pass
                return
            wait = at - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                self.writer.write(data)
                await self.writer.drain()
            except OSError:
                # The receiving side went away: drop the rest (the other direction sees its own error or EOF).
                self.queue.clear()
                return
            loop.call_later(self.delay, self.ack, len(data))

    def ack(self, n):
        self.unacked -= n
        self.acked.set()


async def handle(client_reader, client_writer, args, up, down):
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        server_reader, server_writer = await asyncio.open_connection(args.target_host, args.target_port)
    except OSError:
        client_writer.close()
        return
    args.connections += 1
    name = args.connections
    tasks = [asyncio.ensure_future(Pipe(client_reader, server_writer, up, args, f"{name} up").run(started)),
             asyncio.ensure_future(Pipe(server_reader, client_writer, down, args, f"{name} down").run(started))]
    try:
        await asyncio.gather(*tasks)
    except (OSError, asyncio.IncompleteReadError):
        pass
    finally:
        for t in tasks:
            t.cancel()
        for w in (server_writer, client_writer):
            try:
                w.close()
            except OSError:
                pass


async def main(args):
    rate = args.mbit * 1e6 / 8
    up, down = Transmitter(rate), Transmitter(rate)
    server = await asyncio.start_server(lambda r, w: handle(r, w, args, up, down), "127.0.0.1", args.port)
    port = server.sockets[0].getsockname()[1]
    print(f"listening on 127.0.0.1:{port}", flush=True)
    stop = asyncio.Event()
    for s in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(s, stop.set)
    async with server:
        await stop.wait()


def parse():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--target", required=True, help="host:port of the server behind the link (127.0.0.1 only)")
    p.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")
    p.add_argument("--rtt-ms", type=float, default=100.0, help="round-trip time the link adds")
    p.add_argument("--mbit", type=float, default=200.0, help="the link's cap per direction, Mbit/s")
    p.add_argument("--window-kib", type=int, default=0, help="TCP window per connection (0: none)")
    p.add_argument("--chunk-kib", type=int, default=64, help="largest chunk put on the link at once")
    p.add_argument("--trace", help="write `<time> <connection> <up|down> <bytes>` per chunk sent to this file")
    args = p.parse_args()
    args.connections = 0
    args.trace_file = open(args.trace, "w", buffering=1 << 16) if args.trace else None
    host, _, port = args.target.rpartition(":")
    if host not in ("127.0.0.1", "localhost"):
        p.error("the target must be on 127.0.0.1")
    args.target_host, args.target_port = "127.0.0.1", int(port)
    return args


if __name__ == "__main__":
    try:
        asyncio.run(main(parse()))
    except KeyboardInterrupt:
        sys.exit(0)
