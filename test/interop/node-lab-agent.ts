/**
 * The traffic agent of the node-firewall lab: a small Python program run inside a namespace
 * (`python3 -u -c AGENT`) that answers JSON lines on stdin. On the receiving side it counts UDP
 * datagrams and accepted TCP connections per port and source; on the sending side it sends UDP
 * bursts (from a chosen source address and port) and opens TCP connections. Python because it is
 * on every test machine and starts in tens of milliseconds; one agent per namespace for the whole
 * file, so no test pays for process start-up.
 *
 * Requests: {"id", "op": "listen", "proto": "udp"|"tcp", "port"}
 *           {"id", "op": "counts", "proto", "port"}            -> {"bySource": {addr: n}}
 *           {"id", "op": "reset"}
 *           {"id", "op": "udp", "dst", "port", "count", "size"?, "src"?, "sport"?, "pps"?} -> {"sent", "seconds"}
 *           {"id", "op": "tcp", "dst", "port", "count", "src"?, "waitMs"?} -> {"connected"}
 *           {"id", "op": "ping", "dst", "src", "waitMs"?} -> {"replied"}  (ICMP echo over a raw
 *           socket: no ping binary needed)
 * Every answer carries the request's id and "ok", or "error" with the Python exception.
 */
export const AGENT_SOURCE = String.raw`
import json, os, select, socket, struct, sys, threading, time

counts = {}
lock = threading.Lock()

def bump(key, addr):
    src = addr[0]
    if src.startswith('::ffff:'):
        src = src[7:]
    with lock:
        per = counts.setdefault(key, {})
        per[src] = per.get(src, 0) + 1

def dual_stack(kind):
    s = socket.socket(socket.AF_INET6, kind)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    return s

def listen(proto, port):
    key = '%s:%d' % (proto, port)
    if proto == 'udp':
        s = dual_stack(socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        s.bind(('::', port))
        def loop():
            while True:
                _, addr = s.recvfrom(65535)
                bump(key, addr)
    else:
        s = dual_stack(socket.SOCK_STREAM)
        s.bind(('::', port))
        s.listen(4096)
        def loop():
            while True:
                conn, addr = s.accept()
                bump(key, addr)
                conn.close()
    threading.Thread(target=loop, daemon=True).start()

def family_of(addr):
    return socket.AF_INET6 if ':' in addr else socket.AF_INET

def send_udp(req):
    dst = req['dst']
    s = socket.socket(family_of(dst), socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if req.get('src') or req.get('sport'):
        s.bind((req.get('src') or '', req.get('sport') or 0))
    payload = b'x' * req.get('size', 64)
    count = req['count']
    pps = req.get('pps')
    start = time.monotonic()
    sent = 0
    for i in range(count):
        try:
            s.sendto(payload, (dst, req['port']))
            sent += 1
        except OSError:
            pass
        if pps and i % 10 == 9:
            ahead = (i + 1) / pps - (time.monotonic() - start)
            if ahead > 0:
                time.sleep(ahead)
    s.close()
    return {'sent': sent, 'seconds': time.monotonic() - start}

def connect_tcp(req):
    dst = req['dst']
    socks = []
    for _ in range(req['count']):
        s = socket.socket(family_of(dst), socket.SOCK_STREAM)
        if req.get('src'):
            s.bind((req['src'], 0))
        s.setblocking(False)
        s.connect_ex((dst, req['port']))
        socks.append(s)
    deadline = time.monotonic() + req.get('waitMs', 500) / 1000.0
    pending = set(socks)
    connected = 0
    while pending and time.monotonic() < deadline:
        _, writable, _ = select.select([], list(pending), [], max(0, deadline - time.monotonic()))
        for s in writable:
            pending.discard(s)
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                connected += 1
    for s in socks:
        s.close()
    return {'connected': connected}

def checksum(data):
    if len(data) % 2:
        data += b'\0'
    total = sum((data[i] << 8) | data[i + 1] for i in range(0, len(data), 2))
    while total >> 16:
        total = (total & 0xffff) + (total >> 16)
    return ~total & 0xffff

ping_seq = [0]

def ping(req):
    dst = req['dst']
    v6 = ':' in dst
    proto = socket.IPPROTO_ICMPV6 if v6 else socket.IPPROTO_ICMP
    s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_RAW, proto)
    s.bind((req['src'], 0))
    ping_seq[0] += 1
    ident = (os.getpid() + ping_seq[0]) & 0xffff
    kind = 128 if v6 else 8
    body = struct.pack('!HH', ident, 1) + b'floodgate-lab'
    header = struct.pack('!BBH', kind, 0, 0)
    # The kernel fills the ICMPv6 checksum (it needs the pseudo-header); ICMPv4's is ours.
    if not v6:
        header = struct.pack('!BBH', kind, 0, checksum(header + body))
    s.sendto(header + body, (dst, 0))
    deadline = time.monotonic() + req.get('waitMs', 1000) / 1000.0
    replied = False
    while not replied and time.monotonic() < deadline:
        ready, _, _ = select.select([s], [], [], max(0, deadline - time.monotonic()))
        if not ready:
            break
        packet, addr = s.recvfrom(2048)
        icmp = packet if v6 else packet[(packet[0] & 0x0f) * 4:]
        reply = 129 if v6 else 0
        if len(icmp) >= 8 and icmp[0] == reply and struct.unpack('!H', icmp[4:6])[0] == ident:
            replied = True
    s.close()
    return {'replied': replied}

for line in sys.stdin:
    req = json.loads(line)
    try:
        op = req['op']
        if op == 'listen':
            listen(req['proto'], req['port'])
            out = {}
        elif op == 'counts':
            with lock:
                out = {'bySource': dict(counts.get('%s:%d' % (req['proto'], req['port']), {}))}
        elif op == 'reset':
            with lock:
                counts.clear()
            out = {}
        elif op == 'udp':
            out = send_udp(req)
        elif op == 'tcp':
            out = connect_tcp(req)
        elif op == 'ping':
            out = ping(req)
        else:
            raise ValueError('unknown op ' + op)
        out['ok'] = True
    except Exception as e:
        out = {'ok': False, 'error': repr(e)}
    out['id'] = req.get('id')
    sys.stdout.write(json.dumps(out) + '\n')
    sys.stdout.flush()
`;
