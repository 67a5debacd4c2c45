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

Families: the attack kinds (udp-reflection, udp-flood, syn-flood, ack-flood, rst-flood,
icmp-flood, gre-flood, fragment-flood, carpet-bomb) take IPv4 or IPv6 destinations, with sources
from a prefix of the same family; the benign kinds are IPv4. An IPv6 fragment carries a
Fragment extension header; the truth counts it under the protocol that header names, like an
IPv4 fragment under its protocol field.
"""

import argparse
import ipaddress
import json
import random
import struct
import sys

from scapy.layers.dns import DNS, DNSQR, DNSRR
from scapy.layers.inet import GRE, ICMP, IP, TCP, UDP
from scapy.layers.inet6 import ICMPv6EchoRequest, IPv6, IPv6ExtHdrFragment
from scapy.layers.l2 import Ether
from scapy.packet import Raw

PROTO_ICMP = 1
PROTO_TCP = 6
PROTO_UDP = 17
PROTO_GRE = 47
PROTO_ICMPV6 = 58

ETH_LEN = 14
# Offsets in an Ethernet + IPv4 (no options) frame.
OFF_IP_ID = ETH_LEN + 4
OFF_IP_CSUM = ETH_LEN + 10
OFF_IP_SRC = ETH_LEN + 12
OFF_IP_DST = ETH_LEN + 16
OFF_L4 = ETH_LEN + 20
# Offsets in an Ethernet + IPv6 (no extension headers) frame.
OFF6_SRC = ETH_LEN + 8
OFF6_DST = ETH_LEN + 24
OFF6_L4 = ETH_LEN + 40
ETHERTYPE_IPV6 = b"\x86\xdd"
IPV6_FRAGMENT_HEADER = 44
# Offset of a non-initial fragment in these floods: 185 eight-byte units, 1480 bytes.
FRAGMENT_OFFSET_UNITS = 185

CLIENT_MAC = "02:00:00:00:00:01"
ROUTER_MAC = "02:00:00:00:00:02"

DEFAULT_SOURCE_PREFIX = "198.18.0.0/15"  # RFC 2544 benchmarking range: never a real host
DEFAULT_SOURCE_PREFIX6 = "2001:2::/48"  # RFC 5180 benchmarking range
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
        self.v6 = self.frame[12:14] == ETHERTYPE_IPV6
        if self.v6:
            self.proto = self.frame[ETH_LEN + 6]
            self.off_src, self.off_dst, self.l4 = OFF6_SRC, OFF6_DST, OFF6_L4
        else:
            self.proto = self.frame[ETH_LEN + 9]
            self.off_src, self.off_dst, self.l4 = OFF_IP_SRC, OFF_IP_DST, OFF_L4
        self.ip_len = len(self.frame) - ETH_LEN
        self.l4_len = len(self.frame) - self.l4
        self.l4_csum_offset = l4_csum_offset  # offset in the frame, or None for no L4 checksum
        # Byte ranges of the L4 segment (relative to the frame) that copies overwrite.
        self.variable_l4 = variable_l4
        constant = bytearray(self.frame[self.l4 :])
        for start, end in variable_l4:
            constant[start - self.l4 : end - self.l4] = b"\x00" * (end - start)
        if l4_csum_offset is not None:
            c = l4_csum_offset - self.l4
            constant[c : c + 2] = b"\x00\x00"
        self.constant_l4_sum = ones_sum(constant)
        if self.proto in (PROTO_TCP, PROTO_UDP, PROTO_ICMPV6):
            self.constant_l4_sum += self.proto + self.l4_len  # pseudo-header minus addresses
        header = bytearray(self.frame[ETH_LEN:OFF_L4])
        header[4:6] = b"\x00\x00"  # id
        header[10:20] = b"\x00" * 10  # checksum, src, dst
        self.constant_ip_sum = ones_sum(header)

    def copy(self, src, dst, ip_id, l4_fields):
        """src/dst as 4 bytes; l4_fields: (frame offset, struct format, tuple of values) to pack."""
        buf = bytearray(self.frame)
        buf[self.off_src : self.off_src + len(src)] = src
        buf[self.off_dst : self.off_dst + len(dst)] = dst
        addr_sum = ones_sum(src) + ones_sum(dst)
        if not self.v6:  # IPv6 has neither an id (outside fragments) nor a header checksum
            struct.pack_into("!H", buf, OFF_IP_ID, ip_id)
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


def ip_layer(version, ttl):
    return IP(src="0.0.0.0", dst="0.0.0.0", ttl=ttl) if version == 4 else IPv6(src="::", dst="::", hlim=ttl)


def l4_of(version):
    return OFF_L4 if version == 4 else OFF6_L4


def payload_for(size, header_len, what, version=4):
    ip_header = 20 if version == 4 else 40
    pad = size - ip_header - header_len
    if pad < 0:
        raise SpecError("%s: size %d is smaller than the IP and %d-byte L4 headers" % (what, size, header_len))
    return pad


def udp_shape(size, what, version=4):
    body = b"\x00" * payload_for(size, 8, what, version)
    frame = bytes(ether() / ip_layer(version, 57) / UDP(sport=1, dport=1) / Raw(body))
    l4 = l4_of(version)
    return Shape(frame, l4 + 6, [(l4, l4 + 4)])


def tcp_shape(size, flags, what, version=4):
    """TCP with the given flags; copies patch ports, sequence and acknowledgement numbers."""
    pad = payload_for(size, 20, what, version)
    layers = ether() / ip_layer(version, 60) / TCP(sport=1, dport=1, flags=flags, window=64240)
    if pad:
        layers = layers / Raw(b"\x00" * pad)
    l4 = l4_of(version)
    return Shape(bytes(layers), l4 + 16, [(l4, l4 + 12)])


def tcp_syn_shape(size, what, version=4):
    pad = payload_for(size, 20, what, version)
    layers = ether() / ip_layer(version, 60) / TCP(sport=1, dport=1, flags="S", window=64240)
    if pad:
        layers = layers / Raw(b"\x00" * pad)
    # Ports, sequence number.
    l4 = l4_of(version)
    return Shape(bytes(layers), l4 + 16, [(l4, l4 + 8)])


def gre_shape(size, what, version=4):
    """GRE (no checksum, no key) carrying an IPv4 payload of zeros."""
    pad = payload_for(size, 4, what, version)
    frame = bytes(ether() / ip_layer(version, 58) / GRE(proto=0x0800) / Raw(b"\x00" * pad))
    return Shape(frame, None, [])


def fragment_shape(size, what, version=4):
    """A non-initial fragment of a UDP datagram: no transport header, offset 1480 bytes. IPv6:
    a Fragment extension header (next header UDP) whose identification copies patch."""
    if version == 6:
        pad = payload_for(size, 8, what, 6)
        fragment = IPv6ExtHdrFragment(nh=PROTO_UDP, offset=FRAGMENT_OFFSET_UNITS, m=0, id=1)
        frame = bytes(ether() / IPv6(src="::", dst="::", hlim=57) / fragment / Raw(b"\x00" * pad))
        return Shape(frame, None, [])
    pad = payload_for(size, 0, what)
    frame = bytes(
        ether()
        / IP(src="0.0.0.0", dst="0.0.0.0", ttl=57, proto=PROTO_UDP, frag=FRAGMENT_OFFSET_UNITS)
        / Raw(b"\x00" * pad)
    )
    return Shape(frame, None, [])


def icmp_shape(size, icmp_type, icmp_code, what, version=4):
    pad = payload_for(size, 8, what, version)
    if version == 6:
        # ICMPv6 echo request (type 128); its checksum covers the pseudo-header.
        frame = bytes(ether() / ip_layer(6, 55) / ICMPv6EchoRequest(id=1, seq=1) / Raw(b"\x00" * pad))
        return Shape(frame, OFF6_L4 + 2, [(OFF6_L4 + 4, OFF6_L4 + 8)])
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


def ip_any(text, what):
    """An IPv4 or IPv6 address: (version, packed bytes)."""
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        raise SpecError("%s: %r is not an IPv4 or IPv6 address" % (what, text)) from None
    return addr.version, addr.packed


def attack_target(spec, what):
    """The "dst" of an attack kind and the default source prefix of its family."""
    version, dst = ip_any(require(spec, "dst", str, what), what)
    return version, dst, DEFAULT_SOURCE_PREFIX if version == 4 else DEFAULT_SOURCE_PREFIX6


def port(value, what):
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 65535:
        raise SpecError("%s: %r is not a port number" % (what, value))
    return value


def positive(value, key, what):
    if value <= 0:
        raise SpecError("%s: \"%s\" must be positive, got %r" % (what, key, value))
    return value


def pick_sources(rng, prefix_text, count, what, version=4):
    if version == 6:
        return pick_sources6(rng, prefix_text, count, what)
    try:
        net = ipaddress.IPv4Network(prefix_text)
    except ValueError:
        raise SpecError("%s: %r is not an IPv4 prefix" % (what, prefix_text)) from None
    usable = net.num_addresses - 2 if net.num_addresses > 2 else net.num_addresses
    if count > usable:
        raise SpecError("%s: %d sources do not fit in %s" % (what, count, prefix_text))
    first = int(net.network_address) + (1 if net.num_addresses > 2 else 0)
    return [struct.pack("!I", first + i) for i in rng.sample(range(usable), count)]


def pick_sources6(rng, prefix_text, count, what):
    try:
        net = ipaddress.IPv6Network(prefix_text)
    except ValueError:
        raise SpecError("%s: %r is not an IPv6 prefix (the destination is IPv6)" % (what, prefix_text)) from None
    usable = net.num_addresses - 1  # never the all-zeros address
    if count > usable:
        raise SpecError("%s: %d sources do not fit in %s" % (what, count, prefix_text))
    first = int(net.network_address) + 1
    if usable <= 1 << 31:
        offsets = rng.sample(range(usable), count)
    else:  # random.sample needs a population that fits a C size: draw and drop repeats
        seen = set()
        offsets = []
        while len(offsets) < count:
            o = rng.randrange(usable)
            if o not in seen:
                seen.add(o)
                offsets.append(o)
    return [ipaddress.IPv6Address(first + i).packed for i in offsets]


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
    version, dst, default_sources = attack_target(spec, what)
    src_port = port(require(spec, "srcPort", int, what), what)
    n_sources = positive(require(spec, "sources", int, what), "sources", what)
    pps = positive(require(spec, "pps", float, what), "pps", what)
    size = optional(spec, "size", int, 468, what)
    rng = ctx.rng
    sources = pick_sources(rng, optional(spec, "srcPrefix", str, default_sources, what), n_sources, what, version)
    shape = udp_shape(size, what, version)
    window = Window(spec, ctx.duration, what)
    out = []
    for t in window.times(round(pps * window.duration), ctx.start, rng):
        src = sources[rng.randrange(n_sources)]
        fields = [(shape.l4, "!HH", (src_port, rng.randint(1024, 65535)))]
        out.append((t, shape.copy(src, dst, rng.getrandbits(16), fields)))
    return out


def stream_udp_flood(spec, ctx, what):
    version, dst, default_sources = attack_target(spec, what)
    dst_ports = [port(p, what) for p in optional(spec, "dstPorts", list, [], what)]
    n_sources = positive(require(spec, "sources", int, what), "sources", what)
    pps = positive(require(spec, "pps", float, what), "pps", what)
    size = optional(spec, "size", int, 512, what)
    rng = ctx.rng
    sources = pick_sources(rng, optional(spec, "srcPrefix", str, default_sources, what), n_sources, what, version)
    shape = udp_shape(size, what, version)
    window = Window(spec, ctx.duration, what)
    out = []
    for t in window.times(round(pps * window.duration), ctx.start, rng):
        src = sources[rng.randrange(n_sources)]
        dport = dst_ports[rng.randrange(len(dst_ports))] if dst_ports else rng.randint(1, 65535)
        fields = [(shape.l4, "!HH", (rng.randint(1024, 65535), dport))]
        out.append((t, shape.copy(src, dst, rng.getrandbits(16), fields)))
    return out


def stream_syn_flood(spec, ctx, what):
    version, dst, default_sources = attack_target(spec, what)
    dst_port = port(require(spec, "dstPort", int, what), what)
    n_sources = positive(require(spec, "sources", int, what), "sources", what)
    pps = positive(require(spec, "pps", float, what), "pps", what)
    size = optional(spec, "size", int, 40 if version == 4 else 60, what)
    rng = ctx.rng
    sources = pick_sources(rng, optional(spec, "srcPrefix", str, default_sources, what), n_sources, what, version)
    shape = tcp_syn_shape(size, what, version)
    window = Window(spec, ctx.duration, what)
    out = []
    for t in window.times(round(pps * window.duration), ctx.start, rng):
        src = sources[rng.randrange(n_sources)]
        fields = [(shape.l4, "!HHI", (rng.randint(1024, 65535), dst_port, rng.getrandbits(32)))]
        out.append((t, shape.copy(src, dst, rng.getrandbits(16), fields)))
    return out


def stream_icmp_flood(spec, ctx, what):
    version, dst, default_sources = attack_target(spec, what)
    n_sources = positive(require(spec, "sources", int, what), "sources", what)
    pps = positive(require(spec, "pps", float, what), "pps", what)
    size = optional(spec, "size", int, 84 if version == 4 else 104, what)
    icmp_type = optional(spec, "icmpType", int, 8, what)
    icmp_code = optional(spec, "icmpCode", int, 0, what)
    if not (0 <= icmp_type <= 255 and 0 <= icmp_code <= 255):
        raise SpecError("%s: icmpType and icmpCode must be 0..255" % what)
    rng = ctx.rng
    sources = pick_sources(rng, optional(spec, "srcPrefix", str, default_sources, what), n_sources, what, version)
    shape = icmp_shape(size, icmp_type, icmp_code, what, version)
    window = Window(spec, ctx.duration, what)
    out = []
    for i, t in enumerate(window.times(round(pps * window.duration), ctx.start, rng)):
        src = sources[rng.randrange(n_sources)]
        fields = [(shape.l4 + 4, "!HH", (rng.getrandbits(16), i & 0xFFFF))]
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


def stream_tcp_flags_flood(spec, ctx, what, flags, default_size):
    """Segments with fixed flags (ACK, RST) from random sources, ports and numbers."""
    version, dst, default_sources = attack_target(spec, what)
    dst_port = port(optional(spec, "dstPort", int, 0, what), what)
    n_sources = positive(require(spec, "sources", int, what), "sources", what)
    pps = positive(require(spec, "pps", float, what), "pps", what)
    size = optional(spec, "size", int, default_size + (0 if version == 4 else 20), what)
    rng = ctx.rng
    sources = pick_sources(rng, optional(spec, "srcPrefix", str, default_sources, what), n_sources, what, version)
    shape = tcp_shape(size, flags, what, version)
    window = Window(spec, ctx.duration, what)
    out = []
    for t in window.times(round(pps * window.duration), ctx.start, rng):
        src = sources[rng.randrange(n_sources)]
        dport = dst_port or rng.randint(1, 65535)
        numbers = (rng.randint(1024, 65535), dport, rng.getrandbits(32), rng.getrandbits(32))
        out.append((t, shape.copy(src, dst, rng.getrandbits(16), [(shape.l4, "!HHII", numbers)])))
    return out


def stream_ack_flood(spec, ctx, what):
    return stream_tcp_flags_flood(spec, ctx, what, "A", 40)


def stream_rst_flood(spec, ctx, what):
    return stream_tcp_flags_flood(spec, ctx, what, "R", 40)


def stream_gre_flood(spec, ctx, what):
    version, dst, default_sources = attack_target(spec, what)
    n_sources = positive(require(spec, "sources", int, what), "sources", what)
    pps = positive(require(spec, "pps", float, what), "pps", what)
    size = optional(spec, "size", int, 576, what)
    rng = ctx.rng
    sources = pick_sources(rng, optional(spec, "srcPrefix", str, default_sources, what), n_sources, what, version)
    shape = gre_shape(size, what, version)
    window = Window(spec, ctx.duration, what)
    out = []
    for t in window.times(round(pps * window.duration), ctx.start, rng):
        src = sources[rng.randrange(n_sources)]
        out.append((t, shape.copy(src, dst, rng.getrandbits(16), [])))
    return out


def stream_fragment_flood(spec, ctx, what):
    """Non-initial fragments of UDP datagrams that never complete (IPv4 or IPv6)."""
    version, dst, default_sources = attack_target(spec, what)
    n_sources = positive(require(spec, "sources", int, what), "sources", what)
    pps = positive(require(spec, "pps", float, what), "pps", what)
    size = optional(spec, "size", int, 1500, what)
    rng = ctx.rng
    sources = pick_sources(rng, optional(spec, "srcPrefix", str, default_sources, what), n_sources, what, version)
    shape = fragment_shape(size, what, version)
    window = Window(spec, ctx.duration, what)
    out = []
    for t in window.times(round(pps * window.duration), ctx.start, rng):
        src = sources[rng.randrange(n_sources)]
        # IPv6 carries the fragment's identification in its Fragment header, IPv4 in the IP id.
        fields = [(shape.l4 + 4, "!I", (rng.getrandbits(32),))] if version == 6 else []
        out.append((t, shape.copy(src, dst, rng.getrandbits(16), fields)))
    return out


def stream_carpet_bomb(spec, ctx, what):
    """Reflected UDP (source port srcPort) spread over every address of a prefix."""
    prefix_text = require(spec, "prefix", str, what)
    try:
        net = ipaddress.ip_network(prefix_text)
    except ValueError:
        raise SpecError("%s: %r is not a prefix" % (what, prefix_text)) from None
    if net.num_addresses < 2 or net.num_addresses > 65536:
        raise SpecError("%s: %s must hold from 2 to 65536 addresses" % (what, prefix_text))
    version = net.version
    first = int(net.network_address) + (1 if version == 4 and net.num_addresses > 2 else 0)
    count = net.num_addresses - (2 if version == 4 and net.num_addresses > 2 else 0)
    targets = [ipaddress.ip_address(first + i).packed for i in range(count)]
    src_port = port(optional(spec, "srcPort", int, 53, what), what)
    n_sources = positive(require(spec, "sources", int, what), "sources", what)
    pps = positive(require(spec, "pps", float, what), "pps", what)
    size = optional(spec, "size", int, 1200, what)
    rng = ctx.rng
    default_sources = DEFAULT_SOURCE_PREFIX if version == 4 else DEFAULT_SOURCE_PREFIX6
    sources = pick_sources(rng, optional(spec, "srcPrefix", str, default_sources, what), n_sources, what, version)
    shape = udp_shape(size, what, version)
    window = Window(spec, ctx.duration, what)
    out = []
    for t in window.times(round(pps * window.duration), ctx.start, rng):
        src = sources[rng.randrange(n_sources)]
        dst = targets[rng.randrange(count)]
        fields = [(shape.l4, "!HH", (src_port, rng.randint(1024, 65535)))]
        out.append((t, shape.copy(src, dst, rng.getrandbits(16), fields)))
    return out


def stream_tcp_bulk(spec, ctx, what):
    """Bulk TCP from server to client (a download, or with several streams a speed test).

    Each stream: handshake, then full data segments at pps / streams (PSH on every 8th, the
    way a sender ends each write), the client acknowledging every second segment, FIN both
    ways. Bulk packets are shape copies; the handful of others come from scapy.
    """
    client = ipv4(require(spec, "client", str, what), what)
    server = ipv4(require(spec, "server", str, what), what)
    server_port = port(require(spec, "port", int, what), what)
    streams = positive(optional(spec, "streams", int, 1, what), "streams", what)
    pps = positive(require(spec, "pps", float, what), "pps", what)
    segment = optional(spec, "serverSegment", int, 1500, what)
    rng = ctx.rng
    window = Window(spec, ctx.duration, what)
    data = tcp_shape(segment, "A", what)
    pushed = tcp_shape(segment, "PA", what)
    ack = tcp_shape(40, "A", what)
    out = []
    for _ in range(streams):
        sport = rng.randint(32768, 60999)
        c_seq, s_seq = rng.getrandbits(32), rng.getrandbits(32)
        times = window.times(round(pps / streams * window.duration), ctx.start, rng)
        if len(times) < 4:
            raise SpecError("%s: pps x duration gives each stream fewer than 4 segments" % what)
        t0, t_end = times[0], times[-1]
        ip_c, ip_s = ipaddress.IPv4Address(client).exploded, ipaddress.IPv4Address(server).exploded
        for dt, (src, dst, sp, dp, flags, seq, ack_no) in enumerate(
            [
                (ip_c, ip_s, sport, server_port, "S", c_seq, 0),
                (ip_s, ip_c, server_port, sport, "SA", s_seq, c_seq + 1),
                (ip_c, ip_s, sport, server_port, "A", c_seq + 1, s_seq + 1),
            ]
        ):
            frame = ether() / IP(src=src, dst=dst, id=rng.getrandbits(16)) / TCP(
                sport=sp, dport=dp, flags=flags, seq=seq & 0xFFFFFFFF, ack=ack_no & 0xFFFFFFFF
            )
            out.append((t0 - 0.003 + dt * 0.001, bytes(frame)))
        s_seq = (s_seq + 1) & 0xFFFFFFFF
        c_seq = (c_seq + 1) & 0xFFFFFFFF
        mss = segment - 40
        for i, t in enumerate(times):
            shape = pushed if i % 8 == 7 else data
            numbers = (server_port, sport, s_seq, c_seq)
            out.append((t, shape.copy(server, client, rng.getrandbits(16), [(OFF_L4, "!HHII", numbers)])))
            s_seq = (s_seq + mss) & 0xFFFFFFFF
            if i % 2 == 1:
                numbers = (sport, server_port, c_seq, s_seq)
                out.append((t + 0.0002, ack.copy(client, server, rng.getrandbits(16), [(OFF_L4, "!HHII", numbers)])))
        for dt, (src, dst, sp, dp, seq, ack_no) in enumerate(
            [
                (ip_s, ip_c, server_port, sport, s_seq, c_seq),
                (ip_c, ip_s, sport, server_port, c_seq, s_seq + 1),
            ]
        ):
            frame = ether() / IP(src=src, dst=dst, id=rng.getrandbits(16)) / TCP(
                sport=sp, dport=dp, flags="FA", seq=seq & 0xFFFFFFFF, ack=ack_no & 0xFFFFFFFF
            )
            out.append((t_end + 0.001 + dt * 0.001, bytes(frame)))
    return out


def stream_game_udp(spec, ctx, what):
    """A game server: each client sends small updates to the server port, the server answers."""
    server = ipv4(require(spec, "server", str, what), what)
    server_port = port(optional(spec, "port", int, 27015, what), what)
    n_clients = positive(require(spec, "clients", int, what), "clients", what)
    pps = positive(require(spec, "pps", float, what), "pps", what)
    size = optional(spec, "size", int, 120, what)
    rng = ctx.rng
    clients = pick_sources(rng, optional(spec, "clientPrefix", str, "100.127.0.0/16", what), n_clients, what)
    client_ports = [rng.randint(1024, 65535) for _ in range(n_clients)]
    shape = udp_shape(size, what)
    window = Window(spec, ctx.duration, what)
    out = []
    for i, t in enumerate(window.times(round(pps * window.duration), ctx.start, rng)):
        c = rng.randrange(n_clients)
        if i % 2 == 0:
            fields = [(OFF_L4, "!HH", (client_ports[c], server_port))]
            out.append((t, shape.copy(clients[c], server, rng.getrandbits(16), fields)))
        else:
            fields = [(OFF_L4, "!HH", (server_port, client_ports[c]))]
            out.append((t, shape.copy(server, clients[c], rng.getrandbits(16), fields)))
    return out


def stream_dns_resolver(spec, ctx, what):
    """A busy recursive resolver: per query, client -> resolver:53, resolver -> authority:53,
    the authority's answer from port 53 to the resolver, the resolver's answer to the client."""
    resolver = ipv4(require(spec, "resolver", str, what), what)
    n_clients = positive(require(spec, "clients", int, what), "clients", what)
    qps = positive(require(spec, "qps", float, what), "qps", what)
    n_auth = positive(optional(spec, "authorities", int, 50, what), "authorities", what)
    rng = ctx.rng
    clients = pick_sources(rng, optional(spec, "clientPrefix", str, "100.126.0.0/16", what), n_clients, what)
    authorities = pick_sources(rng, optional(spec, "authorityPrefix", str, "100.125.0.0/16", what), n_auth, what)
    query = udp_shape(72, what)
    answer = udp_shape(optional(spec, "answerSize", int, 160, what), what)
    window = Window(spec, ctx.duration, what)
    out = []
    for t in window.times(round(qps * window.duration), ctx.start, rng):
        c = clients[rng.randrange(n_clients)]
        a = authorities[rng.randrange(n_auth)]
        c_port, r_port = rng.randint(1024, 65535), rng.randint(1024, 65535)
        out.append((t, query.copy(c, resolver, rng.getrandbits(16), [(OFF_L4, "!HH", (c_port, 53))])))
        out.append((t + 0.0001, query.copy(resolver, a, rng.getrandbits(16), [(OFF_L4, "!HH", (r_port, 53))])))
        out.append((t + 0.0101, answer.copy(a, resolver, rng.getrandbits(16), [(OFF_L4, "!HH", (53, r_port))])))
        out.append((t + 0.0102, answer.copy(resolver, c, rng.getrandbits(16), [(OFF_L4, "!HH", (53, c_port))])))
    return out


STREAMS = {
    "udp-reflection": stream_udp_reflection,
    "udp-flood": stream_udp_flood,
    "syn-flood": stream_syn_flood,
    "icmp-flood": stream_icmp_flood,
    "udp-stream": stream_udp_stream,
    "dns": stream_dns,
    "tcp-session": stream_tcp_session,
    "ack-flood": stream_ack_flood,
    "rst-flood": stream_rst_flood,
    "gre-flood": stream_gre_flood,
    "fragment-flood": stream_fragment_flood,
    "carpet-bomb": stream_carpet_bomb,
    "tcp-bulk": stream_tcp_bulk,
    "game-udp": stream_game_udp,
    "dns-resolver": stream_dns_resolver,
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
    "ack-flood": {"dst", "dstPort", "sources", "srcPrefix", "pps", "size"},
    "rst-flood": {"dst", "dstPort", "sources", "srcPrefix", "pps", "size"},
    "gre-flood": {"dst", "sources", "srcPrefix", "pps", "size"},
    "fragment-flood": {"dst", "sources", "srcPrefix", "pps", "size"},
    "carpet-bomb": {"prefix", "srcPort", "sources", "srcPrefix", "pps", "size"},
    "tcp-bulk": {"client", "server", "port", "streams", "pps", "serverSegment"},
    "game-udp": {"server", "port", "clients", "clientPrefix", "pps", "size"},
    "dns-resolver": {"resolver", "clients", "clientPrefix", "qps", "authorities", "authorityPrefix", "answerSize"},
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


def parse_frame(frame):
    """(destination text, protocol, IP length as NetFlow counts it, L4 offset or None for a
    non-initial fragment, source bytes, destination bytes) of an IPv4 or IPv6 frame."""
    if frame[12:14] == ETHERTYPE_IPV6:
        dst = ipaddress.IPv6Address(frame[OFF6_DST:OFF6_L4]).compressed
        ip_len = 40 + struct.unpack_from("!H", frame, ETH_LEN + 4)[0]
        proto, l4 = frame[ETH_LEN + 6], OFF6_L4
        if proto == IPV6_FRAGMENT_HEADER:
            # The protocol is the one the Fragment header names; a non-initial one has no L4 header.
            proto = frame[OFF6_L4]
            offset = struct.unpack_from("!H", frame, OFF6_L4 + 2)[0] >> 3
            l4 = None if offset else OFF6_L4 + 8
        return dst, proto, ip_len, l4, frame[OFF6_SRC:OFF6_DST], frame[OFF6_DST:OFF6_L4]
    dst = ".".join(str(b) for b in frame[OFF_IP_DST:OFF_L4])
    ip_len = struct.unpack_from("!H", frame, ETH_LEN + 2)[0]
    fragment_offset = struct.unpack_from("!H", frame, ETH_LEN + 6)[0] & 0x1FFF
    l4 = None if fragment_offset else OFF_L4
    return dst, frame[ETH_LEN + 9], ip_len, l4, frame[OFF_IP_SRC:OFF_IP_DST], frame[OFF_IP_DST:OFF_L4]


def count_truth(packets):
    """Per destination: packets and IP bytes per protocol, UDP packets per source port
    (non-initial fragments have no port: they are counted under "fragments" instead)."""
    destinations = {}
    for _, frame in packets:
        dst, proto, ip_len, l4, _, _ = parse_frame(frame)
        entry = destinations.setdefault(dst, {"protocols": {}, "udpSourcePorts": {}})
        counters = entry["protocols"].setdefault(str(proto), {"packets": 0, "bytes": 0})
        counters["packets"] += 1
        counters["bytes"] += ip_len
        if l4 is None:
            entry["fragments"] = entry.get("fragments", 0) + 1
        elif proto == PROTO_UDP:
            sport = str(struct.unpack_from("!H", frame, l4)[0])
            entry["udpSourcePorts"][sport] = entry["udpSourcePorts"].get(sport, 0) + 1
    return destinations


def flow_keys(packets):
    """Distinct unidirectional 5-tuples (ICMP: type and code in place of ports; fragments and
    GRE: addresses and protocol only)."""
    keys = set()
    for _, frame in packets:
        _, proto, _, l4, src, dst = parse_frame(frame)
        ports = frame[l4 : l4 + 4] if l4 is not None and proto in (PROTO_TCP, PROTO_UDP, PROTO_ICMP, PROTO_ICMPV6) else b""
        keys.add(bytes([proto]) + src + dst + ports)
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
                "target": stream.get("dst", stream.get("server", stream.get("resolver", stream.get("prefix")))),
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
