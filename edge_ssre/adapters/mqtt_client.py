"""A paho-mqtt client that reads its socket in chunks (for subscribers that receive a lot).

paho reads every incoming packet with several ``recv`` calls: one for the command byte, one per
byte of the remaining length, one for the rest. For a stream of small telemetry messages that is
four or five system calls per message, each releasing and re-taking the GIL. ``BufferedSocket``
reads up to ``CHUNK`` bytes at once and serves paho's small reads from memory; its ``pending()``
tells paho's loop that buffered bytes are waiting (paho asks every socket that has ``pending``, as
it does for TLS), so it does not sleep in ``select`` while whole packets sit in the buffer, and
``loop_read`` goes on through buffered packets instead of one ``select`` per message.

Only paho's connection factory (``Client._create_socket``, paho >= 2.0) and ``loop_read`` are
overridden. Websocket
transports and paho versions without that factory keep paho's own socket.
"""

CHUNK = 65536
READ_BATCH = 64  # packets handled from the buffer per pass of paho's loop


class BufferedSocket:
    """Forwards everything to the socket it wraps, except ``recv`` (buffered) and ``pending``."""

    __slots__ = ("_sock", "_buf", "_pos")

    def __init__(self, sock):
        self._sock = sock
        self._buf = b""
        self._pos = 0

    def recv(self, n):
        buf, pos = self._buf, self._pos
        have = len(buf) - pos
        if have <= 0:
            data = self._sock.recv(n if n > CHUNK else CHUNK)  # BlockingIOError/SSL errors go to paho
            if len(data) <= n:
                return data
            self._buf, self._pos = data, n
            return data[:n]
        if n >= have:
            self._buf, self._pos = b"", 0
            return buf[pos:] if pos else buf
        self._pos = pos + n
        return buf[pos:pos + n]

    def buffered(self):
        """Bytes read from the socket and not yet handed to paho."""
        return len(self._buf) - self._pos

    def pending(self):
        inner = getattr(self._sock, "pending", None)
        return len(self._buf) - self._pos + (inner() if inner is not None else 0)

    def __getattr__(self, name):
        return getattr(self._sock, name)


_client_class = None


def client_class():
    """paho's ``Client`` with buffered reads (made on first use: paho is imported lazily)."""
    global _client_class
    if _client_class is None:
        import paho.mqtt.client as mqtt

        class BufferedClient(mqtt.Client):
            def _create_socket(self):
                sock = super()._create_socket()
                if getattr(self, "_transport", "tcp") == "websockets":
                    return sock
                return BufferedSocket(sock)

            def loop_read(self, max_packets=1):
                # paho handles one incoming packet per pass of its loop when it has nothing of its
                # own in flight (a subscriber): go on while whole packets wait in the buffer, up to
                # READ_BATCH, instead of a select() per message
                rc = super().loop_read(max_packets)
                sock = self.socket()
                n = 1
                while rc == 0 and n < READ_BATCH and isinstance(sock, BufferedSocket) and sock.buffered():
                    rc = super().loop_read(max_packets)
                    n += 1
                return rc

        _client_class = BufferedClient if hasattr(mqtt.Client, "_create_socket") else mqtt.Client
    return _client_class


# paho's tables, and the two PUBLISH properties that belong to the connection a message came in on
# (a topic alias, the subscription's identifier): they must not travel with a republished copy
_INTERNAL = frozenset(("packetType", "types", "names", "properties", "TopicAlias", "SubscriptionIdentifier"))
_slim_class = None


def compact_properties(props):
    """A copy of paho ``Properties`` that holds only its set values (less the connection's own),
    or None when none is set.

    paho builds its name and type tables anew in every ``Properties`` (about 5.8 KB each, one per
    MQTT 5 message received); a queue of a thousand messages would hold 6 MB of tables. The copy
    shares one set of tables (paho only reads them) and packs to the same bytes."""
    global _slim_class
    if props is None:
        return None
    values = [(k, v) for k, v in vars(props).items() if k not in _INTERNAL]
    if not values:
        return None
    if _slim_class is None:
        from paho.mqtt.properties import Properties

        class SlimProperties(Properties):
            _tables = {}

            def __init__(self, packet_type):  # noqa: super().__init__ would build the tables again
                tables = SlimProperties._tables.get(packet_type)
                if tables is None:
                    full = Properties(packet_type)
                    tables = SlimProperties._tables[packet_type] = (full.types, full.names, full.properties)
                object.__setattr__(self, "packetType", packet_type)
                object.__setattr__(self, "types", tables[0])
                object.__setattr__(self, "names", tables[1])
                object.__setattr__(self, "properties", tables[2])

        _slim_class = SlimProperties
    slim = _slim_class(props.packetType)
    for k, v in values:
        object.__setattr__(slim, k, v)
    return slim
