"""A small WebSocket client (RFC 6455) with only the Python standard library,
for tests/integration/test_api_ws.sh: opening handshake with the
Sec-WebSocket-Accept check (section 4.2.2), masked client frames of any
opcode, size and fragmentation (section 5), and a frame reader that keeps
control frames visible (pings, pongs, close with its code)."""
import base64
import hashlib
import json
import os
import socket
import struct
import time

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 section 1.3

OP_CONT, OP_TEXT, OP_BIN, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10


class HandshakeRefused(Exception):
    def __init__(self, status, headers, body):
        super().__init__(f"HTTP {status}: {body[:200]!r}")
        self.status, self.headers, self.body = status, headers, body


class Closed(Exception):
    """The server closed: code (None if no close frame) and reason."""

    def __init__(self, code, reason):
        super().__init__(f"closed {code} {reason!r}")
        self.code, self.reason = code, reason


class WS:
    def __init__(self, host, port, path="/api/v1/stream", headers=None, rcvbuf=None, timeout=10):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.settimeout(timeout)
        s.connect((host, port))
        self.sock = s
        self.buf = b""
        self.pings = 0
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            f"GET {path} HTTP/1.1",
            f"Host: {host}:{port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
        ]
        for k, v in (headers or {}).items():
            lines.append(f"{k}: {v}")
        s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        while b"\r\n\r\n" not in self.buf:
            d = s.recv(4096)
            if not d:
                raise HandshakeRefused(0, {}, self.buf)
            self.buf += d
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        status_line, *hl = head.decode("latin-1").split("\r\n")
        status = int(status_line.split()[1])
        hdrs = {}
        for line in hl:
            k, _, v = line.partition(":")
            hdrs[k.strip().lower()] = v.strip()
        if status != 101:
            n = int(hdrs.get("content-length", "0"))
            while len(self.buf) < n:
                d = s.recv(4096)
                if not d:
                    break
                self.buf += d
            raise HandshakeRefused(status, hdrs, self.buf)
        want = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
        if hdrs.get("sec-websocket-accept") != want:
            raise AssertionError(f"bad Sec-WebSocket-Accept {hdrs.get('sec-websocket-accept')!r}")

    # ---- sending (client frames are always masked, section 5.3) ----
    def frame(self, opcode, payload=b"", fin=True):
        if isinstance(payload, str):
            payload = payload.encode()
        n = len(payload)
        b0 = (0x80 if fin else 0) | opcode
        if n < 126:
            hdr = struct.pack("!BB", b0, 0x80 | n)
        elif n < 65536:
            hdr = struct.pack("!BBH", b0, 0x80 | 126, n)
        else:
            hdr = struct.pack("!BBQ", b0, 0x80 | 127, n)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload)) if n < 1 << 16 else _xor(payload, mask)
        self.sock.sendall(hdr + mask + masked)

    def send_json(self, obj):
        self.frame(OP_TEXT, json.dumps(obj))

    # ---- receiving ----
    def _need(self, n):
        while len(self.buf) < n:
            d = self.sock.recv(65536)
            if not d:
                raise Closed(None, "connection closed without a close frame")
            self.buf += d

    def recv_frame(self):
        """(opcode, fin, payload) of the next frame, control frames included."""
        self._need(2)
        b0, b1 = self.buf[0], self.buf[1]
        if b1 & 0x80:
            raise AssertionError("server frames must not be masked (RFC 6455 section 5.1)")
        n, off = b1 & 0x7F, 2
        if n == 126:
            self._need(4)
            n, off = struct.unpack("!H", self.buf[2:4])[0], 4
        elif n == 127:
            self._need(10)
            n, off = struct.unpack("!Q", self.buf[2:10])[0], 10
        self._need(off + n)
        payload = self.buf[off : off + n]
        self.buf = self.buf[off + n :]
        return b0 & 0x0F, bool(b0 & 0x80), payload

    def recv(self, answer_pings=True, deadline=None):
        """The next text message as JSON; answers pings (counting them);
        raises Closed on a close frame, TimeoutError at deadline (time.time())."""
        while True:
            if deadline is not None:
                left = deadline - time.time()
                if left <= 0:
                    raise TimeoutError("deadline passed")
                self.sock.settimeout(left)
            op, fin, p = self.recv_frame()
            if op == OP_PING:
                self.pings += 1
                if answer_pings:
                    self.frame(OP_PONG, p)
                continue
            if op == OP_PONG:
                continue
            if op == OP_CLOSE:
                code = struct.unpack("!H", p[:2])[0] if len(p) >= 2 else None
                raise Closed(code, p[2:].decode("utf-8", "replace"))
            if op != OP_TEXT or not fin:
                raise AssertionError(f"unexpected frame opcode {op} fin {fin}")
            return json.loads(p.decode("utf-8"))

    def recv_type(self, t, deadline_s=10):
        """Skips messages until one of type t (metrics ticks, hello ...)."""
        end = time.time() + deadline_s
        while True:
            try:
                m = self.recv(deadline=end)
            except TimeoutError:
                raise TimeoutError(f"no {t!r} message within {deadline_s} s") from None
            if m.get("type") == t:
                return m

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def _xor(payload, mask):
    m = (mask * (len(payload) // 4 + 1))[: len(payload)]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(m, "big")).to_bytes(len(payload), "big")
