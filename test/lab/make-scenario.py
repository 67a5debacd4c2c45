#!/usr/bin/python3
"""Write an attack-and-benign-traffic pcap from a JSON scenario, print its ground truth.

Usage: make-scenario.py --out FILE.pcap [SPEC.json]   (the spec comes from stdin when no file
or "-" is given). The ground truth goes to stdout as one JSON object; errors go to stderr
with exit status 2.

Ground truth counts what a NetFlow exporter should count: per (destination address, IP
protocol) the packets and the bytes as IP total length, and per destination the UDP packets
by source port. The filler (packets at the end that exist only so that an exporter's losses
at end of file fall on traffic nobody checks) is reported apart, never inside `destinations`.

Speed: scapy builds one template per packet shape; bulk packets are copies of it with
addresses, ports, IP id and checksums patched in place (70k packets in a few seconds).
Output is deterministic for a given spec (the spec's `seed`, default 1).
"""

import argparse
import ipaddress
import json
import random
import struct
import sys

from scapy.layers.dns import DNS, DNSQR, DNSRR
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Raw

PROTO_ICMP = 1
PROTO_TCP = 6
PROTO_UDP = 17

ETH_LEN = 14
# Offsets in an Ethernet + IPv4 (no options) frame.
OFF_IP_ID = ETH_LEN + 4
OFF_IP_CSUM = ETH_LEN + 10
OFF_IP_SRC = ETH_LEN + 12
OFF_IP_DST = ETH_LEN + 16
OFF_L4 = ETH_LEN + 20

CLIENT_MAC = "02:00:00:00:00:01"
ROUTER_MAC = "02:00:00:00:00:02"

DEFAULT_SOURCE_PREFIX = "198.18.0.0/15"  # RFC 2544 benchmarking range: never a real host
DEFAULT_FILLER = {"src": "192.0.2.201", "dst": "192.0.2.202", "packets": 3000, "flows": 300, "pps": 30000}


class SpecError(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# Checksums


def ones_sum(data):
    """Ones' complement sum (not folded, not inverted) of data as big-endian 16-bit words."""
    if len(data) % 2:
        data = bytes(data) + b"\x00"
    return sum(struct.unpack("!%dH" % (len(data) // 2), data))


def fold(total):
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def finish(total):
    return (~fold(total)) & 0xFFFF


class Shape:
    """One packet shape: a scapy-built frame whose variable fields are patched per copy.

    The L4 checksum is recomputed from the precomputed sum of the bytes that never change
    (payload and constant header words) plus the words that were patched, so a copy costs a
    few struct calls whatever its size.
    """

    def __init__(self, frame, l4_csum_offset, variable_l4):
        self.frame = bytes(frame)
        self.proto = self.frame[ETH_LEN + 9]
        self.ip_len = len(self.frame) - ETH_LEN
        self.l4_len = self.ip_len - 20
        self.l4_csum_offset = l4_csum_offset  # offset in the frame, or None for no L4 checksum
        # Byte ranges of the L4 segment (relative to the frame) that copies overwrite.
        self.variable_l4 = variable_l4
        constant = bytearray(self.frame[OFF_L4:])
        for start, end in variable_l4:
            constant[start - OFF_L4 : end - OFF_L4] = b"\x00" * (end - start)
        if l4_csum_offset is not None:
            c = l4_csum_offset - OFF_L4
            constant[c : c + 2] = b"\x00\x00"
        self.constant_l4_sum = ones_sum(constant)
        if self.proto in (PROTO_TCP, PROTO_UDP):
            self.constant_l4_sum += self.proto + self.l4_len  # pseudo-header minus addresses
        header = bytearray(self.frame[ETH_LEN:OFF_L4])
        header[4:6] = b"\x00\x00"  # id
        header[10:20] = b"\x00" * 10  # checksum, src, dst
        self.constant_ip_sum = ones_sum(header)

    def copy(self, src, dst, ip_id, l4_fields):
        """src/dst as 4 bytes; l4_fields: (frame offset, struct format, tuple of values) to pack."""
        buf = bytearray(self.frame)
        buf[OFF_IP_SRC:OFF_IP_DST] = src
        buf[OFF_IP_DST:OFF_L4] = dst
        struct.pack_into("!H", buf, OFF_IP_ID, ip_id)
        addr_sum = ones_sum(src) + ones_sum(dst)
        struct.pack_into("!H", buf, OFF_IP_CSUM, finish(self.constant_ip_sum + ip_id + addr_sum))
        for offset, fmt, values in l4_fields:
            struct.pack_into(fmt, buf, offset, *values)
        if self.l4_csum_offset is not None:
            total = self.constant_l4_sum
            for start, end in self.variable_l4:
                total += ones_sum(buf[start:end])
            if self.proto != PROTO_ICMP:
                total += addr_sum
            csum = finish(total)
            if self.proto == PROTO_UDP and csum == 0:
                csum = 0xFFFF  # 0 means "no checksum" in UDP
            struct.pack_into("!H", buf, self.l4_csum_offset, csum)
        return bytes(buf)


def ether():
    return Ether(src=CLIENT_MAC, dst=ROUTER_MAC)


def payload_for(size, header_len, what):
    pad = size - 20 - header_len
    if pad < 0:
        raise SpecError("%s: size %d is smaller than the IP and %d-byte L4 headers" % (what, size, header_len))
    return pad


def udp_shape(size, what):
    body = b"\x00" * payload_for(size, 8, what)
    frame = bytes(ether() / IP(src="0.0.0.0", dst="0.0.0.0", ttl=57) / UDP(sport=1, dport=1) / Raw(body))
    return Shape(frame, OFF_L4 + 6, [(OFF_L4, OFF_L4 + 4)])


def tcp_syn_shape(size, what):
    pad = payload_for(size, 20, what)
    layers = ether() / IP(src="0.0.0.0", dst="0.0.0.0", ttl=60) / TCP(sport=1, dport=1, flags="S", window=64240)
    if pad:
        layers = layers / Raw(b"\x00" * pad)
    # Ports, sequence number.
    return Shape(bytes(layers), OFF_L4 + 16, [(OFF_L4, OFF_L4 + 8)])


def icmp_shape(size, icmp_type, icmp_code, what):
    pad = payload_for(size, 8, what)
    frame = bytes(
        ether() / IP(src="0.0.0.0", dst="0.0.0.0", ttl=55) / ICMP(type=icmp_type, code=icmp_code, id=1, seq=1)
        / Raw(b"\x00" * pad)
    )
    # ICMP id and sequence vary; the ICMP checksum covers no pseudo-header.
    return Shape(frame, OFF_L4 + 2, [(OFF_L4 + 4, OFF_L4 + 8)])


# ---------------------------------------------------------------------------------------------
# Spec reading


def require(obj, key, kind, what):
    if key not in obj:
        raise SpecError("%s: missing \"%s\"" % (what, key))
    value = obj[key]
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise SpecError("%s: \"%s\" must be an integer, got %r" % (what, key, value))
    if kind is float and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise SpecError("%s: \"%s\" must be a number, got %r" % (what, key, value))
    if kind is str and not isinstance(value, str):
        raise SpecError("%s: \"%s\" must be a string, got %r" % (what, key, value))
    if kind is list and not isinstance(value, list):
        raise SpecError("%s: \"%s\" must be a list, got %r" % (what, key, value))
    return value


def optional(obj, key, kind, default, what):
    return require(obj, key, kind, what) if key in obj else default


def ipv4(text, what):
    try:
        return ipaddress.IPv4Address(text).packed
    except ValueError:
        raise SpecError("%s: %r is not an IPv4 address" % (what, text)) from None


def port(value, what):
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 65535:
        raise SpecError("%s: %r is not a port number" % (what, value))
    return value


def positive(value, key, what):
    if value <= 0:
        raise SpecError("%s: \"%s\" must be positive, got %r" % (what, key, value))
    return value


def pick_sources(rng, prefix_text, count, what):
    try:
        net = ipaddress.IPv4Network(prefix_text)
    except ValueError:
        raise SpecError("%s: %r is not an IPv4 prefix" % (what, prefix_text)) from None
    usable = net.num_addresses - 2 if net.num_addresses > 2 else net.num_addresses
    if count > usable:
        raise SpecError("%s: %d sources do not fit in %s" % (what, count, prefix_text))
    first = int(net.network_address) + (1 if net.num_addresses > 2 else 0)
    return [struct.pack("!I", first + i) for i in rng.sample(range(usable), count)]


class Window:
    """When a stream sends: [offset, offset + duration) inside the scenario."""

    def __init__(self, spec, scenario_duration, what):
        self.offset = optional(spec, "offsetSeconds", float, 0.0, what)
        self.duration = optional(spec, "durationSeconds", float, scenario_duration - self.offset, what)
        if self.offset < 0 or self.duration <= 0 or self.offset + self.duration > scenario_duration + 1e-9:
            raise SpecError(
                "%s: offsetSeconds %r + durationSeconds %r must lie inside the scenario's %r s"
                % (what, self.offset, self.duration, scenario_duration)
            )

    def times(self, count, start_epoch, rng):
        """count evenly spaced send times with a random phase, so streams do not align."""
        if count <= 0:
            return []
        step = self.duration / count
        phase = rng.random() * step
        base = start_epoch + self.offset + phase
        return [base + i * step for i in range(count)]


# ---------------------------------------------------------------------------------------------
# Streams: each returns a list of (time, frame bytes)


def stream_udp_reflection(spec, ctx, what):
    dst = ipv4(require(spec, "dst", str, what), what)
    src_port = port(require(spec, "srcPort", int, what), what)
    n_sources = positive(require(spec, "sources", int, what), "sources", what)
    pps = positive(require(spec, "pps", float, what), "pps", what)
    size = optional(spec, "size", int, 468, what)
    rng = ctx.rng
    sources = pick_sources(rng, optional(spec, "srcPrefix", str, DEFAULT_SOURCE_PREFIX, what), n_sources, what)
    shape = udp_shape(size, what)
    window = Window(spec, ctx.duration, what)
    out = []
    for t in window.times(round(pps * window.duration), ctx.start, rng):
        src = sources[rng.randrange(n_sources)]
        fields = [(OFF_L4, "!HH", (src_port, rng.randint(1024, 65535)))]
        out.append((t, shape.copy(src, dst, rng.getrandbits(16), fields)))
    return out


def stream_udp_flood(spec, ctx, what):
    dst = ipv4(require(spec, "dst", str, what), what)
    dst_ports = [port(p, what) for p in optional(spec, "dstPorts", list, [], what)]
    n_sources = positive(require(spec, "sources", int, what), "sources", what)
    pps = positive(require(spec, "pps", float, what), "pps", what)
    size = optional(spec, "size", int, 512, what)
    rng = ctx.rng
    sources = pick_sources(rng, optional(spec, "srcPrefix", str, DEFAULT_SOURCE_PREFIX, what), n_sources, what)
    shape = udp_shape(size, what)
    window = Window(spec, ctx.duration, what)
    out = []
    for t in window.times(round(pps * window.duration), ctx.start, rng):
        src = sources[rng.randrange(n_sources)]
        dport = dst_ports[rng.randrange(len(dst_ports))] if dst_ports else rng.randint(1, 65535)
        fields = [(OFF_L4, "!HH", (rng.randint(1024, 65535), dport))]
        out.append((t, shape.copy(src, dst, rng.getrandbits(16), fields)))
    return out


def stream_syn_flood(spec, ctx, what):
    dst = ipv4(require(spec, "dst", str, what), what)
    dst_port = port(require(spec, "dstPort", int, what), what)
    n_sources = positive(require(spec, "sources", int, what), "sources", what)
    pps = positive(require(spec, "pps", float, what), "pps", what)
    size = optional(spec, "size", int, 40, what)
    rng = ctx.rng
    sources = pick_sources(rng, optional(spec, "srcPrefix", str, DEFAULT_SOURCE_PREFIX, what), n_sources, what)
    shape = tcp_syn_shape(size, what)
    window = Window(spec, ctx.duration, what)
    out = []
    for t in window.times(round(pps * window.duration), ctx.start, rng):
        src = sources[rng.randrange(n_sources)]
        fields = [(OFF_L4, "!HHI", (rng.randint(1024, 65535), dst_port, rng.getrandbits(32)))]
        out.append((t, shape.copy(src, dst, rng.getrandbits(16), fields)))
    return out


def stream_icmp_flood(spec, ctx, what):
    dst = ipv4(require(spec, "dst", str, what), what)
    n_sources = positive(require(spec, "sources", int, what), "sources", what)
    pps = positive(require(spec, "pps", float, what), "pps", what)
    size = optional(spec, "size", int, 84, what)
    icmp_type = optional(spec, "icmpType", int, 8, what)
    icmp_code = optional(spec, "icmpCode", int, 0, what)
    if not (0 <= icmp_type <= 255 and 0 <= icmp_code <= 255):
        raise SpecError("%s: icmpType and icmpCode must be 0..255" % what)
    rng = ctx.rng
    sources = pick_sources(rng, optional(spec, "srcPrefix", str, DEFAULT_SOURCE_PREFIX, what), n_sources, what)
    shape = icmp_shape(size, icmp_type, icmp_code, what)
    window = Window(spec, ctx.duration, what)
    out = []
    for i, t in enumerate(window.times(round(pps * window.duration), ctx.start, rng)):
        src = sources[rng.randrange(n_sources)]
        fields = [(OFF_L4 + 4, "!HH", (rng.getrandbits(16), i & 0xFFFF))]
        out.append((t, shape.copy(src, dst, rng.getrandbits(16), fields)))
    return out


def stream_udp_stream(spec, ctx, what):
    src = ipv4(require(spec, "src", str, what), what)
    dst = ipv4(require(spec, "dst", str, what), what)
    pps = positive(require(spec, "pps", float, what), "pps", what)
    size = optional(spec, "size", int, 200, what)
    rng = ctx.rng
    sport = port(optional(spec, "srcPort", int, rng.randint(32768, 60999), what), what)
    dport = port(optional(spec, "dstPort", int, 5004, what), what)
    shape = udp_shape(size, what)
    window = Window(spec, ctx.duration, what)
    ip_id = rng.getrandbits(16)
    out = []
    for i, t in enumerate(window.times(round(pps * window.duration), ctx.start, rng)):
        fields = [(OFF_L4, "!HH", (sport, dport))]
        out.append((t, shape.copy(src, dst, (ip_id + i) & 0xFFFF, fields)))
    return out


def stream_dns(spec, ctx, what):
    client = require(spec, "client", str, what)
    resolver = require(spec, "resolver", str, what)
    ipv4(client, what)
    ipv4(resolver, what)
    queries = positive(require(spec, "queries", int, what), "queries", what)
    rng = ctx.rng
    window = Window(spec, ctx.duration, what)
    out = []
    for i, t in enumerate(window.times(queries, ctx.start, rng)):
        name = "host%d.example.com" % i
        txid = rng.getrandbits(16)
        sport = rng.randint(32768, 60999)
        query = ether() / IP(src=client, dst=resolver, id=rng.getrandbits(16)) / UDP(sport=sport, dport=53)
        query = query / DNS(id=txid, rd=1, qd=DNSQR(qname=name))
        answer = DNSRR(rrname=name, type="A", ttl=300, rdata="192.0.2.%d" % (1 + i % 250))
        reply = ether() / IP(src=resolver, dst=client, id=rng.getrandbits(16)) / UDP(sport=53, dport=sport)
        reply = reply / DNS(id=txid, qr=1, rd=1, ra=1, qd=DNSQR(qname=name), an=answer)
        out.append((t, bytes(query)))
        out.append((t + 0.0008, bytes(reply)))  # the resolver answers in under a millisecond
    return out


def stream_tcp_session(spec, ctx, what):
    client = require(spec, "client", str, what)
    server = require(spec, "server", str, what)
    ipv4(client, what)
    ipv4(server, what)
    dport = port(require(spec, "port", int, what), what)
    packets = require(spec, "packets", int, what)
    if packets < 7:
        raise SpecError("%s: a TCP session needs at least 7 packets (handshake, data, FIN), got %d" % (what, packets))
    mss = optional(spec, "serverSegment", int, 1400, what) - 40
    rng = ctx.rng
    sport = rng.randint(32768, 60999)
    window = Window(spec, ctx.duration, what)
    times = window.times(packets, ctx.start, rng)
    c_seq, s_seq = rng.getrandbits(32), rng.getrandbits(32)
    c_id, s_id = rng.getrandbits(16), rng.getrandbits(16)
    out = []

    def send(from_client, flags, data_len):
        nonlocal c_seq, s_seq, c_id, s_id
        if from_client:
            ip = IP(src=client, dst=server, id=c_id)
            tcp = TCP(sport=sport, dport=dport, flags=flags, seq=c_seq, ack=s_seq if "A" in flags else 0)
            c_id = (c_id + 1) & 0xFFFF
        else:
            ip = IP(src=server, dst=client, id=s_id)
            tcp = TCP(sport=dport, dport=sport, flags=flags, seq=s_seq, ack=c_seq)
            s_id = (s_id + 1) & 0xFFFF
        frame = ether() / ip / tcp
        if data_len:
            frame = frame / Raw(b"\x00" * data_len)
        out.append((times[len(out)], bytes(frame)))
        advance = data_len + (1 if ("S" in flags or "F" in flags) else 0)
        if from_client:
            c_seq = (c_seq + advance) & 0xFFFFFFFF
        else:
            s_seq = (s_seq + advance) & 0xFFFFFFFF

    send(True, "S", 0)
    send(False, "SA", 0)
    send(True, "A", 0)
    # Data: a request now and then, the server answering with full segments.
    for i in range(packets - 6):
        if i % 4 == 0:
            send(True, "PA", 120)
        else:
            send(False, "A", mss)
    send(True, "FA", 0)
    send(False, "FA", 0)
    send(True, "A", 0)
    return out


STREAMS = {
    "udp-reflection": stream_udp_reflection,
    "udp-flood": stream_udp_flood,
    "syn-flood": stream_syn_flood,
    "icmp-flood": stream_icmp_flood,
    "udp-stream": stream_udp_stream,
    "dns": stream_dns,
    "tcp-session": stream_tcp_session,
}



# Keys each stream kind accepts besides "kind": a typo in a spec fails loudly instead of
# silently falling back to a default.
WINDOW_KEYS = {"offsetSeconds", "durationSeconds"}
STREAM_KEYS = {
    "udp-reflection": {"dst", "srcPort", "sources", "srcPrefix", "pps", "size"},
    "udp-flood": {"dst", "dstPorts", "sources", "srcPrefix", "pps", "size"},
    "syn-flood": {"dst", "dstPort", "sources", "srcPrefix", "pps", "size"},
    "icmp-flood": {"dst", "sources", "srcPrefix", "pps", "size", "icmpType", "icmpCode"},
    "udp-stream": {"src", "dst", "srcPort", "dstPort", "pps", "size"},
    "dns": {"client", "resolver", "queries"},
    "tcp-session": {"client", "server", "port", "packets", "serverSegment"},
}
SPEC_KEYS = {"seed", "startEpoch", "durationSeconds", "streams", "filler"}
FILLER_KEYS = {"src", "dst", "packets", "flows", "pps", "size"}


def check_keys(obj, allowed, what):
    if not isinstance(obj, dict):
        raise SpecError("%s: must be a JSON object" % what)
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise SpecError("%s: unknown keys %s (allowed: %s)" % (what, ", ".join(unknown), ", ".join(sorted(allowed))))


class Context:
    def __init__(self, start, duration, rng):
        self.start = start
        self.duration = duration
        self.rng = rng


# ---------------------------------------------------------------------------------------------
# Filler, truth, pcap


def filler_packets(spec, after, truth_destinations):
    what = "filler"
    check_keys(spec, FILLER_KEYS, what)
    merged = dict(DEFAULT_FILLER)
    merged.update(spec)
    src_text = require(merged, "src", str, what)
    dst_text = require(merged, "dst", str, what)
    src, dst = ipv4(src_text, what), ipv4(dst_text, what)
    for text in (src_text, dst_text):
        if text in truth_destinations:
            raise SpecError("filler: %s is a destination of the scenario; the filler must stay apart from it" % text)
    count = require(merged, "packets", int, what)
    flows = positive(require(merged, "flows", int, what), "flows", what)
    pps = positive(require(merged, "pps", float, what), "pps", what)
    shape = udp_shape(optional(merged, "size", int, 64, what), what)
    out = []
    for i in range(count):
        # Many small flows, so that whatever an exporter drops or repeats at end of file is filler.
        fields = [(OFF_L4, "!HH", (20000 + i % flows, 9))]
        out.append((after + (i + 1) / pps, shape.copy(src, dst, i & 0xFFFF, fields)))
    info = {"src": src_text, "dst": dst_text, "packets": count, "flows": min(flows, count)}
    info["bytes"] = count * shape.ip_len
    return out, info


def count_truth(packets):
    """Per destination: packets and IP bytes per protocol, UDP packets per source port."""
    destinations = {}
    for _, frame in packets:
        dst = ".".join(str(b) for b in frame[OFF_IP_DST:OFF_L4])
        proto = frame[ETH_LEN + 9]
        ip_len = struct.unpack_from("!H", frame, ETH_LEN + 2)[0]
        entry = destinations.setdefault(dst, {"protocols": {}, "udpSourcePorts": {}})
        counters = entry["protocols"].setdefault(str(proto), {"packets": 0, "bytes": 0})
        counters["packets"] += 1
        counters["bytes"] += ip_len
        if proto == PROTO_UDP:
            sport = str(struct.unpack_from("!H", frame, OFF_L4)[0])
            entry["udpSourcePorts"][sport] = entry["udpSourcePorts"].get(sport, 0) + 1
    return destinations


def flow_keys(packets):
    """Distinct unidirectional 5-tuples (ICMP: type and code in place of ports)."""
    keys = set()
    for _, frame in packets:
        keys.add(frame[ETH_LEN + 9 : ETH_LEN + 10] + frame[OFF_IP_SRC : OFF_L4 + 4])
    return len(keys)


def write_pcap(path, packets):
    with open(path, "wb") as f:
        # Classic pcap, microsecond timestamps, Ethernet link type.
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        record = struct.Struct("<IIII")
        for t, frame in packets:
            sec, usec = divmod(round(t * 1_000_000), 1_000_000)
            f.write(record.pack(sec, usec, len(frame), len(frame)))
            f.write(frame)


def build(spec, out_path):
    check_keys(spec, SPEC_KEYS, "spec")
    start = require(spec, "startEpoch", float, "spec")
    duration = positive(require(spec, "durationSeconds", float, "spec"), "durationSeconds", "spec")
    seed = optional(spec, "seed", int, 1, "spec")
    streams = require(spec, "streams", list, "spec")
    if not streams:
        raise SpecError("spec: \"streams\" is empty")
    rng = random.Random(seed)
    ctx = Context(float(start), float(duration), rng)
    scenario = []
    stream_info = []
    for index, stream in enumerate(streams):
        what = "streams[%d]" % index
        if not isinstance(stream, dict) or "kind" not in stream:
            raise SpecError("%s: must be an object with a \"kind\"" % what)
        kind = stream["kind"]
        if kind not in STREAMS:
            raise SpecError("%s: unknown kind %r (known: %s)" % (what, kind, ", ".join(sorted(STREAMS))))
        what = "%s (%s)" % (what, kind)
        check_keys(stream, STREAM_KEYS[kind] | WINDOW_KEYS | {"kind"}, what)
        packets = STREAMS[kind](stream, ctx, what)
        scenario.extend(packets)
        stream_info.append(
            {
                "kind": kind,
                "target": stream.get("dst", stream.get("server", stream.get("resolver"))),
                "packets": len(packets),
                "bytes": sum(len(frame) - ETH_LEN for _, frame in packets),
            }
        )
    if not scenario:
        raise SpecError("spec: the streams send no packet (pps x duration rounds to 0)")
    scenario.sort(key=lambda p: p[0])  # stable: equal times keep generation order
    # Streams start at a random phase; shift them all so that the first packet is at startEpoch.
    shift = scenario[0][0] - ctx.start
    scenario = [(t - shift, frame) for t, frame in scenario]
    destinations = count_truth(scenario)
    scenario_end = max(scenario[-1][0], ctx.start + ctx.duration)
    filler, filler_info = filler_packets(
        spec["filler"] if "filler" in spec else {}, scenario_end, destinations
    )
    everything = scenario + filler
    write_pcap(out_path, everything)
    return {
        "pcap": out_path,
        "seed": seed,
        "packets": len(everything),
        "flows": flow_keys(everything),
        "firstEpoch": everything[0][0],
        "lastEpoch": everything[-1][0],
        "scenarioEndEpoch": scenario_end,
        "destinations": destinations,
        "streams": stream_info,
        "filler": filler_info,
    }


def main():
    parser = argparse.ArgumentParser(description="Write a scenario pcap and print its ground truth as JSON.")
    parser.add_argument("spec", nargs="?", default="-", help="scenario JSON file, or - for stdin (default)")
    parser.add_argument("--out", required=True, help="pcap file to write")
    args = parser.parse_args()
    try:
        text = sys.stdin.read() if args.spec == "-" else open(args.spec, encoding="utf-8").read()
        try:
            spec = json.loads(text)
        except ValueError as e:
            raise SpecError("scenario is not valid JSON: %s" % e) from None
        truth = build(spec, args.out)
    except (SpecError, OSError) as e:
        print("make-scenario: %s" % e, file=sys.stderr)
        sys.exit(2)
    json.dump(truth, sys.stdout, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
