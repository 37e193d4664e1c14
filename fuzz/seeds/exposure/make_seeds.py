#!/usr/bin/env python3
"""Makes the seeds of fuzz_exposure: pcap files (Ethernet, IPv4, TCP with a
handshake, in-order segments, FINs) that carry the streams of our own TLS and
SSH parser seeds (fuzz/seeds/tls, fuzz/seeds/ssh), plus one cut short.
Run from the repository root: python3 fuzz/seeds/exposure/make_seeds.py"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))


def tls_chunks(b):  # fuzz_tls: 0xff then [ctrl][len16][bytes], else [dir][bytes]
    if b[:1] != b"\xff":
        return [(b[0] & 1, b[1:])]  # [direction][bytes]
    out, i = [], 1
    while i + 3 <= len(b):
        d, n = b[i] & 1, b[i + 1] << 8 | b[i + 2]
        out.append((d, b[i + 3:i + 3 + n]))
        i += 3 + n
    return out


def ssh_chunks(b):  # fuzz_ssh: [dir | len << 1][bytes]
    out, i = [], 0
    while i < len(b):
        d, n = b[i] & 1, b[i] >> 1
        out.append((d, b[i + 1:i + 1 + n]))
        i += 1 + n
    return out


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def packet(src, dst, sport, dport, seq, ack, flags, payload):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 1, 0, 64, 6, 0, bytes(src), bytes(dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    eth = b"\x02\0\0\0\0\2" + b"\x02\0\0\0\0\1" + b"\x08\x00"
    return eth + ip + tcp


def pcap(chunks, sport=40000, dport=8443):
    c, s = [10, 0, 0, 1], [10, 0, 0, 2]
    seq = [1000, 5000]
    pk = [packet(c, s, sport, dport, seq[0] - 1, 0, 0x02, b""),
          packet(s, c, dport, sport, seq[1] - 1, seq[0], 0x12, b"")]
    for d, data in chunks:
        for k in range(0, len(data), 1400):
            part = data[k:k + 1400]
            a, b = (c, s) if d == 0 else (s, c)
            sp, dp = (sport, dport) if d == 0 else (dport, sport)
            pk.append(packet(a, b, sp, dp, seq[d], seq[1 - d], 0x18, part))
            seq[d] += len(part)
    pk.append(packet(c, s, sport, dport, seq[0], seq[1], 0x11, b""))
    pk.append(packet(s, c, dport, sport, seq[1], seq[0] + 1, 0x11, b""))
    out = struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)
    for i, p in enumerate(pk):
        out += struct.pack("<IIII", 1700000000, i * 1000, len(p), len(p)) + p
    return out


def main():
    seeds = {}
    tls = lambda n: tls_chunks(open(os.path.join(ROOT, "fuzz/seeds/tls", n), "rb").read())
    seeds["tls_flow_hrr"] = pcap(tls("ok_flow_hrr"))
    seeds["tls_13"] = pcap(tls("ok_ch13") + tls("ok_sh13"))
    seeds["tls_12_ecdhe"] = pcap(tls("ok_ch13") + tls("ok_tls12_ecdhe"))
    seeds["tls_12_dhe"] = pcap(tls("ok_ch13") + tls("ok_tls12_dhe"))
    for name in ("mlkem", "prebanner_ignore", "ssh1"):
        b = open(os.path.join(ROOT, "fuzz/seeds/ssh", name), "rb").read()
        seeds["ssh_" + name] = pcap(ssh_chunks(b), dport=2222)
    seeds["cut_ssh_mlkem"] = seeds["ssh_mlkem"][:len(seeds["ssh_mlkem"]) * 2 // 3]
    for k, v in seeds.items():
        open(os.path.join(HERE, k), "wb").write(v)
        print(k, len(v))


if __name__ == "__main__":
    main()
