"""paho-mqtt behind the interface of ``mqtt_wire.Client``, for brokers or set-ups the built-in
client does not cover (websockets, proxies, paho's own TLS and auth handling).

    [broker]
    client = "paho"        # default "builtin" (transports/mqtt_wire.py)

It costs what paho costs: ~11 MB more RSS (its imports: ssl, logging, urllib.request, email) and a
properties object per MQTT 5 message; the sidecar behaves the same otherwise (manual, in-order
acknowledgement of the devices' QoS 1 messages once the broker holds the republished copy).
paho is imported here only.
"""

import threading

from .mqtt_wire import read_varint, varint


class PahoSent:
    """A QoS 1 publication until the broker acknowledges it (paho's ``MQTTMessageInfo``)."""

    __slots__ = ("info", "reason")

    def __init__(self, info):
        self.info = info
        self.reason = 0  # paho 2.x does not hand the PUBACK reason code to publishers

    @property
    def done(self):
        return self.info.is_published()


class PahoClient:
    """The subset of ``mqtt_wire.Client`` the sidecar uses, on paho-mqtt (>= 2.0)."""

    def __init__(self, host, port, client_id="", v5=True, keepalive=30, tls=None, username=None, password=None,
                 receive_maximum=65535, max_packet=1 << 20, on_connect=None, on_disconnect=None, on_message=None,
                 on_oversize=None, on_acked=None, log=None, session_expiry=0):
        import paho.mqtt.client as mqtt
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties
        self._mqtt, self._types, self._props = mqtt, PacketTypes, Properties
        self.host, self.port, self.v5, self.keepalive = host, int(port), v5, int(keepalive)
        self.max_packet = int(max_packet)
        self.receive_maximum = max(1, min(65535, int(receive_maximum)))
        self.on_connect, self.on_disconnect, self.on_message = on_connect, on_disconnect, on_message
        self.on_oversize, self.on_acked = on_oversize, on_acked
        self.log = log or (lambda text: None)
        self.epoch = 0
        self.connected = False
        self.acked = threading.Condition()
        self.session_expiry = max(0, int(session_expiry))
        c = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id=client_id or "",
                        protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311, manual_ack=True,
                        clean_session=None if v5 else not self.session_expiry)
        if tls:
            c.tls_set(ca_certs=tls.get("ca"), certfile=tls.get("cert"), keyfile=tls.get("key"))
            if tls.get("insecure"):
                c.tls_insecure_set(True)
        if username is not None:
            c.username_pw_set(username, password)
        c.reconnect_delay_set(min_delay=0.2, max_delay=15)
        c.max_queued_messages_set(0)  # the sidecar's window bounds what is open
        c.on_connect = self._connected
        c.on_disconnect = self._disconnected
        c.on_message = self._message
        c.on_publish = self._published
        c.on_connect_fail = lambda client, userdata: self.log("cannot connect to %s:%d" % (self.host, self.port))
        self.client = c

    # ---- lifecycle ------------------------------------------------------------------------
    def start(self):
        props = None
        if self.v5:
            props = self._props(self._types.CONNECT)
            props.ReceiveMaximum = self.receive_maximum
            props.MaximumPacketSize = self.max_packet
            if self.session_expiry:
                props.SessionExpiryInterval = self.session_expiry
        clean = self._mqtt.MQTT_CLEAN_START_FIRST_ONLY
        if self.v5 and self.session_expiry:
            clean = False
        self.client.connect_async(self.host, self.port, keepalive=self.keepalive, properties=props,
                                  clean_start=clean)
        self.client.loop_start()

    def stop(self, timeout=5.0):
        self.client.disconnect()
        self.client.loop_stop()
        self.connected = False

    # ---- paho callbacks (its network thread) ------------------------------------------------
    def _connected(self, client, userdata, flags, reason_code, properties=None):
        if getattr(reason_code, "is_failure", False):
            self.log("broker refused the connection: %s" % reason_code)
            return
        self.epoch += 1
        self.connected = True
        if self.on_connect is not None:
            self.on_connect(self)

    def _disconnected(self, client, userdata, flags, reason_code, properties=None):
        was, self.connected = self.connected, False
        if was and self.on_disconnect is not None:
            self.on_disconnect(self, str(reason_code))

    def _message(self, client, userdata, msg):
        props = b""
        if self.v5 and msg.properties is not None:
            packed = msg.properties.pack()  # a length, then the property block
            _, i = read_varint(packed, 0)
            props = bytes(packed[i:])
        if len(msg.payload) > self.max_packet and self.on_oversize is not None:
            if msg.qos:
                self.ack(msg.mid, msg.qos)
            self.on_oversize(msg.topic, len(msg.payload), msg.qos)
            return
        if self.on_message is not None:
            self.on_message(msg.topic, msg.payload, msg.qos, msg.retain, msg.mid, props)

    def _published(self, client, userdata, mid, reason_code=None, properties=None):
        with self.acked:
            self.acked.notify_all()
        if self.on_acked is not None:
            self.on_acked()

    # ---- what the sidecar calls ---------------------------------------------------------------
    def subscribe(self, filters, qos=1, retain_as_published=True):
        mqtt = self._mqtt
        for f in filters:
            if self.v5:
                self.client.subscribe(f, options=mqtt.SubscribeOptions(qos=qos, retainAsPublished=retain_as_published))
            else:
                self.client.subscribe(f, qos=qos)
        return True

    def ack(self, mid, qos=1):
        return self.client.ack(mid, qos) == self._mqtt.MQTT_ERR_SUCCESS

    def publish(self, topic, payload, qos=0, retain=False, props=b""):
        properties = None
        if self.v5 and props:
            properties = self._props(self._types.PUBLISH)
            properties.unpack(varint(len(props)) + bytes(props))
        info = self.client.publish(topic, payload, qos=qos, retain=retain, properties=properties)
        mqtt = self._mqtt
        if not qos:
            return info.rc == mqtt.MQTT_ERR_SUCCESS
        if info.rc in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):  # paho keeps QoS 1 across reconnects
            return PahoSent(info)
        return False

    def wait_acked(self, timeout):
        with self.acked:
            self.acked.wait(timeout)

    def cork(self):  # paho writes from its own loop: nothing to batch here
        pass

    def uncork(self):
        pass

    def flush(self):
        pass
