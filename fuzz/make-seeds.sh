#!/usr/bin/env bash
# Regenerates fuzz/seeds/<target>/ from the lab captures (and samples/), one file per PDU.
#
#   fuzz/make-seeds.sh [LAB_DIR]     (default: ../shared/corpus/lab beside the workspace root)
#
# Needs tshark, editcap and python3. Only lab-derived bytes go into the seeds: the captures
# outside corpus/lab are other people's and must not be copied into the repository.
# Seed names are content hashes, so a rerun gives the same files.
set -euo pipefail
cd "$(dirname "$0")"
LAB="${1:-../../shared/corpus/lab}"
[ -d "$LAB" ] || { echo "no lab captures at $LAB" >&2; exit 1; }
command -v tshark >/dev/null || { echo "tshark is needed" >&2; exit 1; }
rm -rf seeds
mkdir -p seeds
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# One line per TCP packet: capture, frame, stream, source address and port, flags, payload.
for f in "$LAB"/*.pcap "$LAB"/*.pcapng ../samples/*.pcap; do
  tshark -r "$f" -Y tcp -T fields -E separator='|' \
    -e frame.number -e tcp.stream -e ip.src -e ipv6.src -e tcp.srcport -e tcp.flags -e tcp.payload \
    2>/dev/null | sed "s|^|$(basename "$f")\||"
done > "$TMP/packets.txt"

# Whole small captures for the pipeline target: the small lab files as they are, and the first
# packets of a few larger ones (pcap and pcapng).
mkdir -p seeds/pipeline
for f in "$LAB"/*.pcap; do
  [ "$(stat -c %s "$f")" -le 12000 ] && cat "$f" > "seeds/pipeline/$(basename "$f")"
done
editcap -r "$LAB/tls-ok.pcapng" seeds/pipeline/tls-ok-head.pcapng 1-14 >/dev/null
# editcap cannot rewrite a file with a Decryption Secrets Block: keep its first blocks as they are.
python3 - "$LAB/tls-ok.dsb.pcapng" seeds/pipeline/tls-ok-dsb-head.pcapng 12 <<'PY'
import struct, sys
data, out, packets, i = open(sys.argv[1], "rb").read(), b"", 0, 0
while i + 12 <= len(data) and packets < int(sys.argv[3]):
    kind, length = struct.unpack("<II", data[i:i + 8])
    out += data[i:i + length]
    packets += kind == 6
    i += length
open(sys.argv[2], "wb").write(out)
PY
editcap -r "$LAB/tls-ok-cooked.pcap" seeds/pipeline/tls-ok-cooked-head.pcap 1-14 >/dev/null
editcap -r "$LAB/ipv6-tls-ok.pcap" seeds/pipeline/ipv6-tls-ok-head.pcap 1-14 >/dev/null
editcap -r "$LAB/rdp-standard-security-fips.pcap" seeds/pipeline/rdp-std-fips-head.pcap 1-24 >/dev/null

python3 - "$TMP/packets.txt" <<'PY'
import hashlib, os, struct, sys
from collections import defaultdict

def save(target, data, limit=None):
    d = os.path.join("seeds", target)
    os.makedirs(d, exist_ok=True)
    if limit is not None and len(os.listdir(d)) >= limit:
        return
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)

# streams[(capture, stream)] = list of (side, flags, payload); side 0 = client (sent the SYN,
# else the first packet's sender).
streams = defaultdict(list)
clients = {}
for line in open(sys.argv[1]):
    cap, frame, stream, ip4, ip6, port, flags, payload = line.rstrip("\n").split("|")
    key = (cap, stream)
    src = (ip4 or ip6, port)
    flags = int(flags, 16)
    if key not in clients:
        clients[key] = src if not (flags & 0x12 == 0x12) else None
    if clients[key] is None:
        clients[key] = ("?", "?")  # first packet was a SYN-ACK: the sender is the server
        side = 1
    else:
        side = 0 if src == clients[key] else 1
    streams[key].append((side, flags, bytes.fromhex(payload)))

def tpkt_frames(data):
    """Complete TPKT frames at the start of a byte stream."""
    out, i = [], 0
    while i + 4 <= len(data) and data[i] == 3 and data[i + 1] == 0:
        n = struct.unpack(">H", data[i + 2:i + 4])[0]
        if n < 4 or i + n > len(data):
            break
        out.append(data[i:i + n])
        i += n
    return out, i

def tls_records(data):
    out, i = [], 0
    while i + 5 <= len(data) and 20 <= data[i] <= 24 and data[i + 1] == 3:
        n = struct.unpack(">H", data[i + 3:i + 5])[0]
        if i + 5 + n > len(data):
            break
        out.append(data[i:i + 5 + n])
        i += 5 + n
    return out

for key, pkts in sorted(streams.items()):
    cap = key[0]
    for side in (0, 1):
        stream = b"".join(p for s, _, p in pkts if s == side)
        frames, used = tpkt_frames(stream)
        for fr in frames:
            save("tpkt_x224", fr, 200)
            # X.224 Data TPDU (LI=2, DT 0xF0): an MCS PDU follows.
            if len(fr) > 7 and fr[5] == 0xF0:
                save("mcs_gcc", fr[7:], 200)
        # Fast-path PDUs follow the TPKT frames on Standard RDP Security connections.
        rest = stream[used:]
        i = 0
        while "standard" in cap or "mac-error" in cap:
            if i + 2 > len(rest) or rest[i] & 3 != 0 or rest[i] == 3:
                break
            n = rest[i + 1]
            if n & 0x80:
                if i + 3 > len(rest):
                    break
                n = ((n & 0x7F) << 8) | rest[i + 2]
            if n < 2 or i + n > len(rest):
                break
            save("fastpath", rest[i:i + n], 60)
            i += n
        records = tls_records(rest)
        for r in records:
            if r[0] in (0x15, 0x16):
                save("tls_records", r, 200)
            elif r[0] in (0x14, 0x17) and len(r) < 600:
                save("tls_records", r, 200)
        # Certificates: handshake messages of type 11 in the server's stream.
        hs = b"".join(r[5:] for r in records if r[0] == 0x16)
        j = 0
        while j + 4 <= len(hs):
            t, n = hs[j], int.from_bytes(hs[j + 1:j + 4], "big")
            body = hs[j + 4:j + 4 + n]
            if len(body) < n:
                break
            save("tls_records", hs[j:j + 4 + n], 200)
            if t == 11 and len(body) > 3:
                k, end = 3, 3 + int.from_bytes(body[0:3], "big")
                while k + 3 <= min(end, len(body)):
                    m = int.from_bytes(body[k:k + 3], "big")
                    save("x509", body[k + 3:k + 3 + m])
                    k += 3 + m
            j += 4 + n

# Structured inputs, encoded as the `arbitrary` crate (1.x) decodes them for
# `Vec<AnalyzerOp>` / `Vec<TlsOp>`: per element a continue byte, a u32 LE variant index scaled by
# multiply-shift, the fields in order; a byte string's length is read from the end of the data.
def variant(index, count):
    return struct.pack("<I", -(-index * 2**32 // count))

def encode(ops):
    """ops: list of (front_header_bytes, payload_or_None, trailing_front_bytes)."""
    front, lens = [], []
    for head, payload, tail in ops:
        front.append(b"\x01" + head)
        if payload is not None:
            lens.append([len(front), payload])
            front.append(payload)
        front.append(tail)
    front.append(b"\x00")
    # Widths of the length fields, from the last one read to the first.
    sizes = [len(b) for b in front]
    back = [None] * len(lens)
    later = 0
    for k in range(len(lens) - 1, -1, -1):
        pos, payload = lens[k]
        ahead = sum(sizes[pos:]) + later  # front bytes from this payload on, later length fields
        for w in (1, 2, 4):
            rem = ahead + w
            if rem <= (256 if w == 1 else 65537 if w == 2 else 2**32 + 3):
                break
        delta = rem - w
        assert len(payload) <= delta
        k_bytes = min(w, max(1, (delta.bit_length() + 7) // 8))
        back[k] = len(payload).to_bytes(k_bytes, "big") + b"\x00" * (w - k_bytes)
        later += w
    return b"".join(front) + b"".join(reversed(back))

SIDE = [variant(0, 2), variant(1, 2)]
def analyzer_op(name, side=None, payload=None):
    idx = ["Syn", "SynAck", "MidStream", "Data", "Gap", "Fin", "Rst", "Verdict", "Facts", "Tls"].index(name)
    head = variant(idx, 10) + (SIDE[side] if side is not None else b"")
    return (head, payload, b"")

for key, pkts in sorted(streams.items()):
    ops, size = [], 0
    for side, flags, payload in pkts:
        if flags & 0x02:
            ops.append(analyzer_op("SynAck" if flags & 0x10 else "Syn"))
        if payload:
            ops.append(analyzer_op("Data", side, payload))
            size += len(payload)
        if flags & 0x01:
            ops.append(analyzer_op("Fin", side))
        if flags & 0x04:
            ops.append(analyzer_op("Rst", side))
        if size > 12000 or len(ops) > 60:
            break
    if any(p for _, _, p in pkts):
        ops.append(analyzer_op("Verdict"))
        save("analyzer", encode(ops), 60)
    # The TLS tracker sees the stream after the X.224 exchange.
    tls_ops, size = [], 0
    for side, flags, payload in pkts:
        if payload and 20 <= payload[0] <= 24 and len(payload) > 1 and payload[1] == 3:
            tls_ops.append((variant(0, 2) + SIDE[side], payload, b""))
            size += len(payload)
        if size > 12000:
            break
    if tls_ops:
        save("tls_tracker", encode(tls_ops), 60)
PY
# The proxy preambles (no lab capture has one): the messages of RFC 1928/1929, SOCKS4/4a and
# HTTP CONNECT, written out.
mkdir -p seeds/tunnel
printf '\x04\x01\x0d\x3d\x0a\x00\x00\x01\x00' > seeds/tunnel/socks4-request
printf '\x04\x01\x0d\x3d\x00\x00\x00\x01u\x00rdp.example\x00' > seeds/tunnel/socks4a-request
printf '\x00\x5a\x00\x00\x00\x00\x00\x00' > seeds/tunnel/socks4-reply
printf '\x05\x02\x00\x02' > seeds/tunnel/socks5-greeting
printf '\x01\x05alice\x06s3cret' > seeds/tunnel/socks5-auth
printf '\x05\x01\x00\x03\x0brdp.example\x0d\x3d' > seeds/tunnel/socks5-request
printf '\x05\x05\x00\x01\x00\x00\x00\x00\x00\x00' > seeds/tunnel/socks5-reply
printf 'CONNECT 10.0.0.1:3389 HTTP/1.1\r\nHost: 10.0.0.1:3389\r\n\r\n' > seeds/tunnel/http-connect
printf 'HTTP/1.1 407 Proxy Authentication Required\r\n\r\n' > seeds/tunnel/http-response
# Key logs: the lab's as OpenSSL wrote them (TLS 1.3 and 1.2), and the forms no lab key log
# has (the two RSA forms, PMS_CLIENT_RANDOM) with a comment, CRLF and bad lines, written out.
mkdir -p seeds/keylog
for f in "$LAB"/tls-ok.keys "$LAB"/tls12-ok.keys "$LAB"/bruteforce.keys; do
  cat "$f" > "seeds/keylog/$(basename "$f" .keys)"
done
python3 - > seeds/keylog/rsa-forms-and-bad-lines <<'PY'
import sys
sys.stdout.write("# comment\r\nRSA 0102030405060708 " + "03" * 48 + "\r\n"
                 + "RSA Session-ID:" + "aa" * 32 + " Master-Key:" + "0c" * 48 + "\n"
                 + "PMS_CLIENT_RANDOM " + "bb" * 32 + " " + "03" * 48 + "\n"
                 + "UNKNOWN x y\nCLIENT_RANDOM 00 11")
PY
# Records protected under the lab's tls-ok client application secret (tls13_open's fixed
# secret): the client's first application record (frame 13), and the server's handshake flight
# (frame 9, under another secret: every protected record fails).
mkdir -p seeds/tls13_open
for n in 9 13; do
  tshark -r "$LAB/tls-ok.pcap" -Y "frame.number==$n" -T fields -e tcp.payload 2>/dev/null \
    | xxd -r -p > "seeds/tls13_open/tls-ok-frame-$n"
done
du -sh seeds; for d in seeds/*; do echo "$d $(ls "$d" | wc -l) files $(du -sk "$d" | cut -f1) KiB"; done
