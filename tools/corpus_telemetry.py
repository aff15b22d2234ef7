"""Benign telemetry and configuration messages for corpus/telemetry/, generated from published formats.

Used by tools/build_corpus.py (not part of the package). Each generator follows one format's
documentation and draws names, readings and options from a seeded ``random.Random``, so the same
seed gives the same messages. A message is ``(format, topic, document, encoding)``; ``document`` is
what goes on the wire once encoded as JSON (or CBOR for ``senml-cbor``).

Formats (the published specification each generator follows):
- ``ha-discovery``: Home Assistant MQTT discovery ``homeassistant/<component>/<node>/<object>/config``
  (full and abbreviated keys, ``~`` topic base, Jinja ``value_template``/``command_template``/
  ``json_attributes_template``, ``availability``, ``device`` and ``origin`` blocks)
- ``ha-state``: the state/attribute/availability messages those entities read
- ``zigbee2mqtt``: device state messages ``zigbee2mqtt/<friendly name>``, ``bridge/info``,
  ``bridge/devices``, ``bridge/event``, ``bridge/log``, ``bridge/request``/``response``
- ``tasmota``: ``tele/<topic>/SENSOR``, ``tele/<topic>/STATE``, ``tele/<topic>/LWT``,
  ``stat/<topic>/RESULT``, ``cmnd/<topic>/Rule1`` (rule text), ``tasmota/discovery/<mac>/config``
- ``senml-json`` and ``senml-cbor``: RFC 8428 packs (base name/time/unit, records with v/vs/vb/vd/s)
- ``sparkplug``: Sparkplug B style NBIRTH/NDATA/DBIRTH/DDATA/NCMD payloads in JSON (metrics with
  name, alias, datatype, value, properties)
- ``lorawan``: network-server uplinks: The Things Stack v3 ``v3/<app>/devices/<dev>/up`` and
  ChirpStack v4 ``application/<id>/device/<eui>/event/up`` with ``decoded_payload``/``object``
- ``aws-iot``: device shadow documents (update, accepted, delta, documents) and jobs
  (``notify-next``, ``get/accepted``, ``update``) including AWS managed job templates' documents
- ``device-config``: configuration pushed to devices: ESPHome-style sensor filters and lambdas,
  Node-RED function nodes, Tasmota ``Backlog`` command lists, schedules (cron expressions)
"""

import base64
import json
import random

ROOMS = ["kitchen", "living room", "bedroom", "garage", "basement", "office", "hallway", "attic", "bathroom",
         "greenhouse", "workshop", "laundry", "porch", "nursery", "server closet", "boiler room", "barn",
         "cold store", "dock 3", "line 2", "hall B", "plant room", "roof", "lobby"]
VENDORS = [("IKEA", ["TRADFRI bulb E27 WS opal 980lm", "E1743", "STARKVIND Air purifier"]),
           ("Aqara", ["WSDCGQ11LM", "MCCGQ11LM", "RTCGQ11LM", "SJCGQ11LM"]),
           ("Philips", ["9290022166", "324131092621", "8718699673147"]),
           ("Sonoff", ["SNZB-02", "SNZB-04", "ZBMINI", "S26R2ZB"]),
           ("Tuya", ["TS0601_thermostat", "TS011F_plug_1", "TS0201"]),
           ("Shelly", ["SHPLG-S", "SHSW-25", "SHHT-1"]),
           ("Espressif", ["ESP32-C3", "ESP8266"]),
           ("Bosch", ["BTH-RA", "BSD-2"]), ("Danfoss", ["014G2461"]), ("Heiman", ["HS1SA", "HS3CG"])]
UNITS = {"temperature": ("°C", "temperature", "mdi:thermometer"), "humidity": ("%", "humidity", "mdi:water-percent"),
         "pressure": ("hPa", "pressure", "mdi:gauge"), "battery": ("%", "battery", "mdi:battery"),
         "illuminance": ("lx", "illuminance", "mdi:brightness-5"), "power": ("W", "power", "mdi:flash"),
         "energy": ("kWh", "energy", "mdi:lightning-bolt"), "voltage": ("V", "voltage", "mdi:sine-wave"),
         "current": ("A", "current", "mdi:current-ac"), "co2": ("ppm", "carbon_dioxide", "mdi:molecule-co2"),
         "pm25": ("µg/m³", "pm25", "mdi:air-filter"), "linkquality": ("lqi", None, "mdi:signal"),
         "soil_moisture": ("%", "moisture", "mdi:water"), "distance": ("cm", "distance", "mdi:ruler")}
NOTES = ["Replaced the battery; next check in 6 months.", "Mounted 1.8 m above the floor, away from the radiator.",
         "Sensor moved to the north wall after the renovation (see ticket #4411).", "Don't pair again: it's bound to the hub.",
         "Calibrated against the reference thermometer: offset -0.4 °C.", "Firmware 2.4.1 fixes the reporting interval bug.",
         "Installer's note: the enclosure's seal was replaced on site.", "Set `reporting_interval` to 300 s per the site's policy.",
         "If the readings drop to 0, power-cycle the gateway (hold the button for 10 s).",
         "Outdoor unit; expect condensation between 5 and 7 a.m.", "Owner: facilities team (ext. 2231). Keys at the front desk.",
         "Battery at 3.1 V when checked; replace below 2.8 V.", "Uses the 'eco' profile from 22:00 to 06:00.",
         "Do not move: wired to relay 2 & relay 3.", "Zone A/B split - see the floor plan (rev. C).",
         "Reports every 60 s, or on a change > 0.5 °C.", "Check the drain pipe's filter monthly; it clogs in autumn."]
SITES = ["plant-3", "depot-north", "farm-7", "hq", "warehouse-2", "lab-1", "store-114", "greenhouse-b"]


def _slug(text):
    return "".join(c if c.isalnum() else "_" for c in text.lower()).strip("_")


def _ieee(rnd):
    return "0x" + "".join(rnd.choice("0123456789abcdef") for _ in range(16))


def _mac(rnd, sep=""):
    return sep.join("%02X" % rnd.randrange(256) for _ in range(6))


def _ts(rnd, base=1732512345):
    return base + rnd.randrange(0, 86400 * 60)


def _iso(rnd, ts=None):
    import datetime
    ts = _ts(rnd) if ts is None else ts
    d = datetime.datetime.fromtimestamp(ts, datetime.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % rnd.randrange(1000)


def _reading(rnd, kind):
    return {"temperature": round(rnd.uniform(-12, 38), 2), "humidity": round(rnd.uniform(18, 96), 1),
            "pressure": round(rnd.uniform(960, 1040), 1), "battery": rnd.randrange(3, 101),
            "illuminance": rnd.randrange(0, 40000), "power": round(rnd.uniform(0, 2300), 1),
            "energy": round(rnd.uniform(0, 9000), 3), "voltage": round(rnd.uniform(3.0, 240), 1),
            "current": round(rnd.uniform(0, 10), 3), "co2": rnd.randrange(380, 2400),
            "pm25": rnd.randrange(0, 180), "linkquality": rnd.randrange(0, 256),
            "soil_moisture": rnd.randrange(0, 101), "distance": rnd.randrange(2, 400)}[kind]


# ---------------------------------------------------------------- Home Assistant

VALUE_TEMPLATES = [
    "{{ value_json.%s }}", "{{ value_json.%s | round(1) }}", "{{ value_json.%s | float(0) | round(2) }}",
    "{{ value_json['%s'] }}", "{{ (value_json.%s | float) * 1.8 + 32 }}", "{{ value_json.%s | int }}",
    "{{ value_json.%s if value_json.%s is defined else this.state }}",
    "{{ value_json.%s | default(0) }}", "{{ (value_json.%s / 1000) | round(3) }}",
    "{% if value_json.%s is defined %}{{ value_json.%s }}{% else %}{{ states('sensor.none') }}{% endif %}",
    "{{ value.split(',')[0] }}", "{{ value | float * 0.1 }}", "{{ value_json.data.%s }}",
    "{{ value_json.%s | is_defined }}", "{{ max(value_json.%s, 0) }}", "{{ value_json.%s | abs }}",
]
BINARY_TEMPLATES = ["{{ 'ON' if value_json.contact == false else 'OFF' }}", "{{ value_json.occupancy }}",
                    "{% if value_json.state == 'open' %}ON{% else %}OFF{% endif %}", "{{ value_json.water_leak }}",
                    "{{ 'ON' if value_json.alarm in ['fire', 'smoke'] else 'OFF' }}"]
COMMAND_TEMPLATES = ['{"state": "{{ value }}"}', '{"brightness": {{ value | int }}}',
                     '{"color_temp": {{ value }}, "transition": 2}', '{{ {"position": value} | tojson }}',
                     '{"system_mode": "{{ value | lower }}"}', '{"current_heating_setpoint": {{ value }}}']


def ha_discovery(rnd, n):
    out = []
    for i in range(n):
        vendor, models = rnd.choice(VENDORS)
        model = rnd.choice(models)
        room = rnd.choice(ROOMS)
        node = "%s_%s" % (_slug(room), rnd.randrange(1, 40))
        kind = rnd.choice(list(UNITS))
        unit, dclass, icon = UNITS[kind]
        component = rnd.choice(["sensor"] * 5 + ["binary_sensor", "switch", "light", "climate", "cover", "number",
                                                 "select", "button"])
        abbreviated = rnd.random() < 0.35
        base = "%s/%s" % (rnd.choice(["zigbee2mqtt", "tasmota", "esphome", "home", "shellies"]), node)
        uid = "%s_%s_%s" % (_ieee(rnd), kind, component)
        cfg = {"name": "%s %s" % (room.title(), kind.replace("_", " ")) if rnd.random() < 0.7 else None,
               "unique_id": uid, "object_id": "%s_%s" % (node, kind)}
        if component == "sensor":
            tpl = rnd.choice(VALUE_TEMPLATES)
            cfg["value_template"] = tpl.replace("%s", kind)
            cfg["unit_of_measurement"] = unit
            if dclass:
                cfg["device_class"] = dclass
            cfg["state_class"] = rnd.choice(["measurement", "total_increasing", "measurement"])
            cfg["suggested_display_precision"] = rnd.randrange(0, 3)
        elif component == "binary_sensor":
            cfg["value_template"] = rnd.choice(BINARY_TEMPLATES)
            cfg["payload_on"] = rnd.choice(["ON", True, "true", "1"])
            cfg["payload_off"] = rnd.choice(["OFF", False, "false", "0"])
            cfg["device_class"] = rnd.choice(["door", "window", "motion", "moisture", "smoke", "occupancy"])
        elif component in ("switch", "light", "number", "select", "cover", "climate"):
            cfg["command_topic"] = base + "/set"
            cfg["command_template"] = rnd.choice(COMMAND_TEMPLATES)
            cfg["value_template"] = rnd.choice(["{{ value_json.state }}", "{{ value_json.brightness }}",
                                                "{{ value_json.position }}", "{{ value_json.system_mode }}"])
            if component == "select":
                cfg["options"] = rnd.sample(["auto", "manual", "eco", "comfort", "boost", "off", "schedule"], 4)
            if component == "number":
                cfg.update(min=rnd.choice([0, 5, 10]), max=rnd.choice([30, 100, 255]), step=rnd.choice([0.5, 1]),
                           mode=rnd.choice(["box", "slider", "auto"]))
            if component == "climate":
                cfg.update(modes=["off", "heat", "auto"], temperature_command_topic=base + "/set/current_heating_setpoint",
                           temperature_state_template="{{ value_json.current_heating_setpoint }}",
                           current_temperature_template="{{ value_json.local_temperature }}",
                           min_temp="5", max_temp="35", temp_step=0.5)
            if component == "light":
                cfg.update(schema="json", brightness=True, supported_color_modes=["color_temp", "xy"],
                           effect_list=["blink", "breathe", "okay", "channel_change", "finish_effect", "stop_effect"])
            if component == "cover":
                cfg.update(position_template="{{ value_json.position }}", set_position_topic=base + "/set",
                           set_position_template='{ "position": {{ position }} }')
        else:
            cfg["command_topic"] = base + "/set"
            cfg["payload_press"] = rnd.choice(["PRESS", '{"identify": ""}', "restart"])
        cfg["state_topic"] = base
        if rnd.random() < 0.5:
            cfg["json_attributes_topic"] = base
            cfg["json_attributes_template"] = rnd.choice(["{{ value_json | tojson }}",
                                                          "{{ {'last_seen': value_json.last_seen} | tojson }}",
                                                          "{{ value_json.attributes | tojson }}"])
        if rnd.random() < 0.6:
            cfg["availability"] = [{"topic": "%s/bridge/state" % base.split("/")[0],
                                    "value_template": "{{ value_json.state }}"}]
            cfg["availability_mode"] = rnd.choice(["all", "any", "latest"])
        else:
            cfg["availability_topic"] = base + "/availability"
        if rnd.random() < 0.4:
            cfg["icon"] = icon
        if rnd.random() < 0.3:
            cfg["entity_category"] = rnd.choice(["diagnostic", "config"])
            cfg["enabled_by_default"] = rnd.random() < 0.5
        dev = {"identifiers": ["zigbee2mqtt_" + _ieee(rnd)], "name": "%s %s" % (room.title(), model),
               "manufacturer": vendor, "model": model,
               "sw_version": "%d.%d.%d" % (rnd.randrange(1, 4), rnd.randrange(0, 20), rnd.randrange(0, 30)),
               "via_device": "zigbee2mqtt_bridge_" + _ieee(rnd)}
        if rnd.random() < 0.4:
            dev["suggested_area"] = room.title()
        if rnd.random() < 0.3:
            dev["configuration_url"] = rnd.choice(
                ["http://192.168.%d.%d/" % (rnd.randrange(0, 3), rnd.randrange(2, 250)),
                 "http://homeassistant.local:8080/#/device/" + _ieee(rnd),
                 "https://www.zigbee2mqtt.io/devices/%s.html" % model])
        if rnd.random() < 0.4:
            dev["connections"] = [["mac", _mac(rnd, ":").lower()]]
        cfg["device"] = dev
        if rnd.random() < 0.5:
            cfg["origin"] = {"name": rnd.choice(["Zigbee2MQTT", "Tasmota", "ESPHome", "Shelly"]),
                             "sw": "1.%d.%d" % (rnd.randrange(30, 42), rnd.randrange(0, 5)),
                             "url": rnd.choice(["https://www.zigbee2mqtt.io", "https://tasmota.github.io/docs/",
                                                "https://esphome.io"])}
        cfg = {k: v for k, v in cfg.items() if v is not None}
        if abbreviated:
            cfg = _abbreviate(cfg, base)
        topic = "homeassistant/%s/%s/%s/config" % (component, node, kind)
        out.append(("ha-discovery", topic, cfg, "json"))
    return out


_ABBR = {"availability_topic": "avty_t", "command_topic": "cmd_t", "command_template": "cmd_tpl",
         "device_class": "dev_cla", "json_attributes_topic": "json_attr_t", "json_attributes_template": "json_attr_tpl",
         "state_topic": "stat_t", "unique_id": "uniq_id", "unit_of_measurement": "unit_of_meas",
         "value_template": "val_tpl", "device": "dev", "origin": "o", "state_class": "stat_cla", "object_id": "obj_id",
         "payload_on": "pl_on", "payload_off": "pl_off", "entity_category": "ent_cat"}
_DEV_ABBR = {"identifiers": "ids", "manufacturer": "mf", "model": "mdl", "sw_version": "sw", "connections": "cns",
             "suggested_area": "sa", "configuration_url": "cu", "via_device": "via_device", "name": "name"}


def _abbreviate(cfg, base):
    out = {"~": base}
    for k, v in cfg.items():
        if isinstance(v, str) and v.startswith(base):
            v = "~" + v[len(base):]
        if k == "device":
            v = {_DEV_ABBR.get(dk, dk): dv for dk, dv in v.items()}
        out[_ABBR.get(k, k)] = v
    return out


def ha_state(rnd, n):
    out = []
    for _ in range(n):
        room = _slug(rnd.choice(ROOMS))
        node = "%s_%d" % (room, rnd.randrange(1, 40))
        r = rnd.random()
        if r < 0.5:
            kinds = rnd.sample(list(UNITS), rnd.randrange(1, 5))
            doc = {k: _reading(rnd, k) for k in kinds}
            if rnd.random() < 0.4:
                doc["last_seen"] = _iso(rnd)
            if rnd.random() < 0.2:
                doc["notes"] = rnd.choice(NOTES)
            out.append(("ha-state", "home/%s/state" % node, doc, "json"))
        elif r < 0.7:
            out.append(("ha-state", "home/%s/availability" % node, rnd.choice(["online", "offline"]), "json"))
        elif r < 0.85:
            doc = {"state": rnd.choice(["ON", "OFF"]), "brightness": rnd.randrange(0, 255),
                   "color_mode": rnd.choice(["color_temp", "xy", "hs"]), "color_temp": rnd.randrange(153, 500),
                   "color": {"x": round(rnd.random(), 4), "y": round(rnd.random(), 4)}}
            out.append(("ha-state", "home/%s/light/state" % node, doc, "json"))
        else:
            doc = {"event_type": rnd.choice(["press", "double_press", "long_press", "hold"]),
                   "button": rnd.choice(["left", "right", "up", "down", "1", "2"]),
                   "attributes": {"friendly_name": "%s remote" % room.replace("_", " ").title(),
                                  "action_duration": round(rnd.uniform(0, 3), 2)}}
            out.append(("ha-state", "home/%s/event" % node, doc, "json"))
    return out


# ---------------------------------------------------------------- zigbee2mqtt

def zigbee2mqtt(rnd, n):
    out = []
    for _ in range(n):
        room = rnd.choice(ROOMS)
        friendly = "%s/%s" % (room.replace(" ", "_"), rnd.choice(["sensor", "plug", "bulb", "remote", "trv", "door"])) \
            if rnd.random() < 0.5 else "0x%s" % "".join(rnd.choice("0123456789abcdef") for _ in range(16))
        r = rnd.random()
        if r < 0.45:
            kinds = rnd.sample(["temperature", "humidity", "pressure", "battery", "linkquality", "illuminance",
                                "power", "voltage", "energy", "current"], rnd.randrange(2, 6))
            doc = {k: _reading(rnd, k) for k in kinds}
            if rnd.random() < 0.5:
                doc.update(contact=rnd.random() < 0.5, tamper=False, battery_low=rnd.random() < 0.1)
            if rnd.random() < 0.3:
                doc["update"] = {"state": rnd.choice(["idle", "available", "updating"]), "installed_version": rnd.randrange(16777216),
                                 "latest_version": rnd.randrange(16777216)}
            if rnd.random() < 0.3:
                doc["last_seen"] = _iso(rnd)
            if rnd.random() < 0.2:
                doc["action"] = rnd.choice(["single", "double", "hold", "release", "brightness_move_up", ""])
            out.append(("zigbee2mqtt", "zigbee2mqtt/" + friendly, doc, "json"))
        elif r < 0.55:
            doc = {"version": "1.%d.%d" % (rnd.randrange(30, 42), rnd.randrange(0, 4)), "commit": "%07x" % rnd.randrange(16 ** 7),
                   "coordinator": {"ieee_address": _ieee(rnd), "type": rnd.choice(["zStack3x0", "EmberZNet", "deCONZ"]),
                                   "meta": {"revision": rnd.randrange(20200000, 20240000), "transportrev": 2}},
                   "network": {"channel": rnd.choice([11, 15, 20, 25]), "pan_id": rnd.randrange(65535),
                               "extended_pan_id": [rnd.randrange(256) for _ in range(8)]},
                   "log_level": rnd.choice(["info", "warning", "debug"]), "permit_join": rnd.random() < 0.2,
                   "config": {"homeassistant": {"enabled": True, "discovery_topic": "homeassistant"},
                              "mqtt": {"base_topic": "zigbee2mqtt", "server": "mqtt://localhost:1883",
                                       "include_device_information": False},
                              "serial": {"port": rnd.choice(["/dev/ttyUSB0", "/dev/ttyACM0",
                                                             "/dev/serial/by-id/usb-ITead_Sonoff_Zigbee_3.0_USB_Dongle_Plus-if00-port0"]),
                                         "adapter": rnd.choice(["zstack", "ember", "deconz"])},
                              "frontend": {"enabled": True, "port": 8080},
                              "advanced": {"log_output": ["console", "file"], "log_directory": "data/log/%TIMESTAMP%",
                                           "last_seen": "ISO_8601", "homeassistant_legacy_entity_attributes": False}}}
            out.append(("zigbee2mqtt", "zigbee2mqtt/bridge/info", doc, "json"))
        elif r < 0.65:
            devs = []
            for _ in range(rnd.randrange(1, 3)):
                vendor, models = rnd.choice(VENDORS)
                model = rnd.choice(models)
                devs.append({"ieee_address": _ieee(rnd), "friendly_name": rnd.choice(ROOMS).replace(" ", "_") + "/" + model,
                             "type": rnd.choice(["Router", "EndDevice"]), "network_address": rnd.randrange(65535),
                             "supported": True, "interview_completed": True, "manufacturer": vendor,
                             "model_id": model, "power_source": rnd.choice(["Battery", "Mains (single phase)"]),
                             "definition": {"model": model, "vendor": vendor,
                                            "description": rnd.choice(["Temperature and humidity sensor",
                                                                       "Door & window contact sensor",
                                                                       "Smart plug (with power monitoring)",
                                                                       "Thermostatic radiator valve",
                                                                       "Wireless remote switch (double rocker)"]),
                                            "exposes": [{"type": "numeric", "name": "battery", "property": "battery",
                                                         "access": 1, "unit": "%", "value_min": 0, "value_max": 100,
                                                         "description": "Remaining battery in %, can take up to 24 hours before reported."},
                                                        {"type": "enum", "name": "power_on_behavior",
                                                         "property": "power_on_behavior", "access": 7,
                                                         "values": ["off", "on", "toggle", "previous"],
                                                         "description": "Controls the behavior when the device is powered on after power loss"}],
                                            "options": [{"name": "temperature_calibration", "type": "numeric",
                                                         "description": "Calibrates the temperature value (absolute offset), takes into effect on next report of device."}]}})
            out.append(("zigbee2mqtt", "zigbee2mqtt/bridge/devices", devs, "json"))
        elif r < 0.8:
            kind = rnd.choice(["device_joined", "device_interview", "device_announce", "device_leave"])
            data = {"friendly_name": friendly, "ieee_address": _ieee(rnd)}
            if kind == "device_interview":
                data["status"] = rnd.choice(["started", "successful", "failed"])
            out.append(("zigbee2mqtt", "zigbee2mqtt/bridge/event", {"type": kind, "data": data}, "json"))
        elif r < 0.9:
            msg = rnd.choice(["MQTT publish: topic 'zigbee2mqtt/%s', payload '{\"battery\":%d,\"linkquality\":%d}'"
                              % (friendly, rnd.randrange(100), rnd.randrange(255)),
                              "Successfully interviewed '%s', device has successfully been paired" % friendly,
                              "Device '%s' announced itself" % friendly,
                              "Publish 'set' 'state' to '%s' failed: 'Error: ZCL command %s/1 genOnOff.on({}, {\"timeout\":10000,\"disableResponse\":false}) failed (Delivery failed for '12345')'" % (friendly, _ieee(rnd)),
                              "Zigbee: allowing new devices to join.", "Starting Zigbee2MQTT version 1.40.1 (commit #a7d5d5b)",
                              "Configuring '%s' (attempt 1 of 3)" % friendly])
            out.append(("zigbee2mqtt", "zigbee2mqtt/bridge/logging",
                        {"level": rnd.choice(["info", "warning", "error"]), "message": msg}, "json"))
        else:
            req = rnd.choice([("device/rename", {"from": friendly, "to": rnd.choice(ROOMS).replace(" ", "_") + "/sensor"}),
                              ("permit_join", {"value": True, "time": 254}),
                              ("device/options", {"id": friendly, "options": {"temperature_precision": 1,
                                                                              "humidity_calibration": -2.5}}),
                              ("device/ota_update/check", {"id": friendly}),
                              ("device/configure_reporting", {"id": friendly, "cluster": "msTemperatureMeasurement",
                                                              "attribute": "measuredValue", "minimum_report_interval": 5,
                                                              "maximum_report_interval": 3600, "reportable_change": 10})])
            doc = dict(req[1], transaction=_slug(str(rnd.random()))[:8])
            if rnd.random() < 0.5:
                out.append(("zigbee2mqtt", "zigbee2mqtt/bridge/request/" + req[0], doc, "json"))
            else:
                out.append(("zigbee2mqtt", "zigbee2mqtt/bridge/response/" + req[0],
                            {"data": req[1], "status": rnd.choice(["ok", "error"]),
                             "transaction": doc["transaction"]}, "json"))
    return out


# ---------------------------------------------------------------- Tasmota

TASMOTA_RULES = [
    "ON Switch1#State=1 DO Power1 TOGGLE ENDON",
    "ON Tele-SI7021#Temperature>%d DO Power1 ON ENDON ON Tele-SI7021#Temperature<%d DO Power1 OFF ENDON",
    "ON System#Boot DO Backlog Power1 OFF; Delay 50; Power1 ON ENDON",
    "ON Power1#State DO Publish stat/%%topic%%/relay1 %%value%% ENDON",
    "ON Time#Minute=%d DO Power2 OFF ENDON",
    "ON Analog#A0>%d DO Backlog Var1 %%value%%; Publish cmnd/pump/POWER ON ENDON",
    "ON Button1#State=3 DO Restart 1 ENDON",
    "ON Energy#Power>%d DO Backlog Power1 OFF; Publish tele/%%topic%%/ALERT {\"overload\":%%value%%} ENDON",
    "ON mqtt#connected DO Subscribe BkLight, stat/other_device/POWER ENDON",
    "ON Clock#Timer=1 DO Backlog Mem1 %%timestamp%%; RuleTimer1 600 ENDON ON Rules#Timer=1 DO Power1 OFF ENDON",
    "ON event#setvar1 DO Var1 %%value%% ENDON ON Var1#State>%d DO Power1 ON ENDON",
    "ON DS18B20#Temperature DO Dimmer {\"value\": %%value%%} ENDON",
]
BACKLOGS = ["Backlog Power1 ON; Delay 20; Power1 OFF", "Backlog SetOption19 1; SetOption30 1; Restart 1",
            "Backlog Timezone 99; TimeDST 0,0,3,1,2,120; TimeSTD 0,0,10,1,3,60", "Backlog MqttHost 192.168.1.10; MqttPort 1883; Restart 1",
            "Backlog Latitude 52.37; Longitude 4.89; Sunrise 0", "Backlog TelePeriod 60; SaveData 1",
            "Backlog Module 0; Template {\"NAME\":\"Sonoff T1 3CH\",\"GPIO\":[17,255,255,255,23,22,18,19,21,56,0,0,0],\"FLAG\":0,\"BASE\":30}",
            "Backlog PowerOnState 3; LedState 8; ButtonTopic 0", "Backlog Rule1 1; Rule1 5"]


def tasmota(rnd, n):
    out = []
    for _ in range(n):
        dev = "tasmota_%s" % _mac(rnd)[-6:]
        r = rnd.random()
        if r < 0.3:
            sensor = rnd.choice(["AM2301", "SI7021", "BME280", "DS18B20", "ENERGY", "ANALOG", "SHT3X", "BH1750"])
            if sensor == "ENERGY":
                body = {"TotalStartTime": _iso(rnd)[:19], "Total": round(rnd.uniform(0, 900), 3),
                        "Yesterday": round(rnd.uniform(0, 9), 3), "Today": round(rnd.uniform(0, 9), 3),
                        "Period": rnd.randrange(0, 50), "Power": rnd.randrange(0, 2300), "ApparentPower": rnd.randrange(0, 2400),
                        "ReactivePower": rnd.randrange(0, 300), "Factor": round(rnd.random(), 2),
                        "Voltage": rnd.randrange(220, 245), "Current": round(rnd.uniform(0, 10), 3)}
            elif sensor == "ANALOG":
                body = {"A0": rnd.randrange(1024)}
            else:
                body = {"Temperature": round(rnd.uniform(-10, 40), 1)}
                if sensor != "DS18B20":
                    body["Humidity"] = round(rnd.uniform(20, 95), 1)
                    body["DewPoint"] = round(rnd.uniform(-5, 20), 1)
                else:
                    body["Id"] = "%012X" % rnd.randrange(16 ** 12)
                if sensor == "BME280":
                    body["Pressure"] = round(rnd.uniform(960, 1040), 1)
            doc = {"Time": _iso(rnd)[:19], sensor: body}
            if sensor not in ("ENERGY", "ANALOG"):
                doc["TempUnit"] = "C"
            out.append(("tasmota", "tele/%s/SENSOR" % dev, doc, "json"))
        elif r < 0.5:
            doc = {"Time": _iso(rnd)[:19], "Uptime": "%dT%02d:%02d:%02d" % (rnd.randrange(60), rnd.randrange(24), rnd.randrange(60), rnd.randrange(60)),
                   "UptimeSec": rnd.randrange(10 ** 7), "Heap": rnd.randrange(18, 30), "SleepMode": "Dynamic",
                   "Sleep": 50, "LoadAvg": rnd.randrange(15, 99), "MqttCount": rnd.randrange(1, 20),
                   "POWER": rnd.choice(["ON", "OFF"]),
                   "Wifi": {"AP": 1, "SSId": rnd.choice(["IoT-2G", "plant3-ot", "HomeNet", "Guest's WiFi"]),
                            "BSSId": _mac(rnd, ":"), "Channel": rnd.randrange(1, 14), "Mode": "11n",
                            "RSSI": rnd.randrange(20, 100), "Signal": -rnd.randrange(30, 90), "LinkCount": rnd.randrange(1, 9),
                            "Downtime": "0T00:00:%02d" % rnd.randrange(60)}}
            out.append(("tasmota", "tele/%s/STATE" % dev, doc, "json"))
        elif r < 0.58:
            out.append(("tasmota", "tele/%s/LWT" % dev, rnd.choice(["Online", "Offline"]), "json"))
        elif r < 0.72:
            doc = rnd.choice([{"POWER": rnd.choice(["ON", "OFF"])}, {"Dimmer": rnd.randrange(101)},
                              {"Rule1": {"State": "ON", "Once": "OFF", "StopOnError": "OFF", "Length": rnd.randrange(20, 200),
                                         "Free": rnd.randrange(300, 500), "Rules": _rule(rnd)}},
                              {"Timer1": {"Enable": 1, "Mode": 0, "Time": "%02d:%02d" % (rnd.randrange(24), rnd.randrange(60)),
                                          "Window": 0, "Days": "1111100", "Repeat": 1, "Output": 1, "Action": 1}},
                              {"Command": "Unknown"}, {"Backlog": "Done"},
                              {"Var1": str(rnd.randrange(100))}, {"TelePeriod": 300}])
            out.append(("tasmota", "stat/%s/RESULT" % dev, doc, "json"))
        elif r < 0.86:
            cmd = rnd.choice(["Rule1", "Rule2", "Rule3", "Backlog"])
            text = _rule(rnd) if cmd.startswith("Rule") else rnd.choice(BACKLOGS)
            out.append(("tasmota", "cmnd/%s/%s" % (dev, cmd), text, "text"))
        else:
            mac = _mac(rnd)
            doc = {"ip": "192.168.%d.%d" % (rnd.randrange(0, 3), rnd.randrange(2, 250)), "dn": "%s %s" % (rnd.choice(ROOMS).title(), "Plug"),
                   "fn": ["%s Plug" % rnd.choice(ROOMS).title(), None, None, None], "hn": "%s-%s" % (dev, mac[-4:]),
                   "mac": mac, "md": rnd.choice(["Sonoff Basic", "Gosund SP111", "Shelly 1"]), "ty": 0, "if": 0,
                   "ofln": "Offline", "onln": "Online", "state": ["OFF", "ON", "TOGGLE", "HOLD"],
                   "sw": "13.%d.0" % rnd.randrange(0, 5), "t": dev, "ft": "%prefix%/%topic%/",
                   "tp": ["cmnd", "stat", "tele"], "rl": [1, 0, 0, 0, 0, 0, 0, 0], "swc": [-1] * 8, "swn": [None] * 8,
                   "btn": [0, 0, 0, 0, 0, 0, 0, 0], "so": {"4": 0, "11": 0, "13": 0, "17": 0, "20": 0, "30": 0,
                                                          "68": 0, "73": 0, "82": 0, "114": 0, "117": 0},
                   "lk": 0, "lt_st": 0, "sho": [0, 0, 0, 0], "sht": [[0, 0, 0]] * 4, "ver": 1}
            out.append(("tasmota", "tasmota/discovery/%s/config" % mac, doc, "json"))
    return out


def _rule(rnd):
    rule = rnd.choice(TASMOTA_RULES)
    count = rule.count("%d")
    return rule % tuple(rnd.randrange(10, 3000) for _ in range(count)) if count else rule.replace("%%", "%")


# ---------------------------------------------------------------- SenML (RFC 8428)

SENML_NAMES = [("temperature", "Cel"), ("humidity", "%RH"), ("pressure", "Pa"), ("voltage", "V"), ("current", "A"),
               ("power", "W"), ("energy", "J"), ("illuminance", "lx"), ("co2", "ppm"), ("distance", "m"),
               ("speed", "m/s"), ("flow", "l/s"), ("battery", "%EL"), ("rssi", "dBW"), ("frequency", "Hz")]
SENML_CBOR_LABELS = {"bn": -2, "bt": -3, "bu": -4, "bv": -5, "bver": -1, "n": 0, "u": 1, "v": 2, "vs": 3, "vb": 4,
                     "s": 5, "t": 6, "ut": 7, "vd": 8}


def senml(rnd, n, cbor):
    out = []
    for _ in range(n):
        urn = rnd.choice(["urn:dev:ow:10e2073a0108006:", "urn:dev:mac:%s:" % _mac(rnd).lower(),
                          "urn:dev:imei:35%013d:" % rnd.randrange(10 ** 13), "%s/%s/" % (rnd.choice(SITES), _slug(rnd.choice(ROOMS))),
                          "urn:uuid:%08x-%04x-4%03x-a%03x-%012x:" % (rnd.randrange(16 ** 8), rnd.randrange(16 ** 4),
                                                                    rnd.randrange(16 ** 3), rnd.randrange(16 ** 3),
                                                                    rnd.randrange(16 ** 12))])
        pack = [{"bn": urn, "bt": float(_ts(rnd)) + rnd.randrange(1000) / 1000.0}]
        if rnd.random() < 0.3:
            pack[0]["bu"] = "Cel"
        if rnd.random() < 0.2:
            pack[0]["bver"] = 10
        for _ in range(rnd.randrange(1, 7)):
            name, unit = rnd.choice(SENML_NAMES)
            rec = {"n": name, "u": unit}
            kind = rnd.random()
            if kind < 0.75:
                rec["v"] = round(rnd.uniform(-20, 1500), 3)
            elif kind < 0.85:
                rec["vs"] = rnd.choice(["ok", "door-open", "calibrating", "low battery; replace soon", "fw 2.4.1",
                                        "heater's relay stuck at 'on'"])
                rec.pop("u")
            elif kind < 0.92:
                rec["vb"] = rnd.random() < 0.5
                rec.pop("u")
            else:
                rec["s"] = round(rnd.uniform(0, 100), 2)
            if rnd.random() < 0.4:
                rec["t"] = -rnd.randrange(1, 600)
            pack.append(rec)
        if rnd.random() < 0.1:
            pack.append({"n": "firmware", "vd": base64.urlsafe_b64encode(bytes(rnd.randrange(256) for _ in range(12))).decode().rstrip("=")})
        if cbor:
            pack = [{SENML_CBOR_LABELS[k]: v for k, v in rec.items()} for rec in pack]
            out.append(("senml-cbor", "senml/%s" % rnd.choice(SITES), pack, "cbor"))
        else:
            out.append(("senml-json", "senml/%s" % rnd.choice(SITES), pack, "json"))
    return out


# ---------------------------------------------------------------- Sparkplug B (JSON form)

SPARKPLUG_METRICS = [("Node Control/Rebirth", "Boolean", False), ("Node Control/Reboot", "Boolean", False),
                     ("Node Control/Next Server", "Boolean", False), ("Properties/Hardware Make", "String", "Raspberry Pi"),
                     ("Properties/OS", "String", "Debian GNU/Linux 12 (bookworm)"), ("bdSeq", "Int64", 0),
                     ("Properties/Firmware", "String", "v3.2.1-rc1"), ("Inputs/Flow Rate", "Float", 0.0),
                     ("Inputs/Tank Level", "Double", 0.0), ("Outputs/Pump", "Boolean", False),
                     ("Outputs/Valve 2 Position", "Int32", 0), ("Status/Alarm Text", "String", ""),
                     ("Device Control/Scan Rate", "Int32", 1000), ("Inputs/Motor Temp (°C)", "Float", 0.0)]


def sparkplug(rnd, n):
    out = []
    for _ in range(n):
        group = rnd.choice(["Plant3", "Sparkplug Devices", "Line-2", "Pumps"])
        node = rnd.choice(["edge-node-%02d" % rnd.randrange(1, 30), "PLC_%d" % rnd.randrange(1, 9), "gw-rpi4-0017"])
        kind = rnd.choice(["NBIRTH", "NDATA", "DBIRTH", "DDATA", "DDATA", "NDATA", "NCMD", "DCMD", "NDEATH"])
        device = rnd.choice(["Tank-%d" % rnd.randrange(1, 9), "Motor_%d" % rnd.randrange(1, 20), "Scale"])
        metrics = []
        for name, dtype, default in rnd.sample(SPARKPLUG_METRICS, rnd.randrange(1, 6)):
            if dtype in ("Float", "Double"):
                value = round(rnd.uniform(0, 500), 3)
            elif dtype.startswith("Int"):
                value = rnd.randrange(0, 5000)
            elif dtype == "Boolean":
                value = rnd.random() < 0.3
            else:
                value = default or rnd.choice(["High level in tank 2", "Motor overload - check the breaker", "OK"])
            m = {"name": name, "timestamp": _ts(rnd) * 1000, "dataType": dtype, "value": value}
            if kind.endswith("BIRTH"):
                m["alias"] = rnd.randrange(1, 200)
                if rnd.random() < 0.4:
                    m["properties"] = {"engUnit": {"type": "String", "value": rnd.choice(["l/min", "°C", "%", "rpm"])},
                                       "engLow": {"type": "Double", "value": 0.0},
                                       "engHigh": {"type": "Double", "value": 1000.0}}
            metrics.append(m)
        doc = {"timestamp": _ts(rnd) * 1000, "metrics": metrics, "seq": rnd.randrange(256)}
        topic = "spBv1.0/%s/%s/%s" % (group, kind, node) + ("/" + device if kind[0] == "D" else "")
        out.append(("sparkplug", topic, doc, "json"))
    return out


# ---------------------------------------------------------------- LoRaWAN network servers

def _lora_decoded(rnd):
    return rnd.choice([
        {"temperature": round(rnd.uniform(-20, 40), 2), "humidity": round(rnd.uniform(10, 99), 1), "battery": round(rnd.uniform(2.8, 3.6), 2)},
        {"latitude": round(rnd.uniform(40, 60), 6), "longitude": round(rnd.uniform(-5, 25), 6), "altitude": rnd.randrange(0, 900), "hdop": round(rnd.uniform(0.5, 3), 1)},
        {"water_level_cm": rnd.randrange(0, 400), "status": rnd.choice(["ok", "sensor error", "low battery"])},
        {"counter": rnd.randrange(10 ** 6), "door": rnd.choice(["open", "closed"]), "alarm": False},
        {"soil_moisture": rnd.randrange(101), "soil_temp": round(rnd.uniform(0, 30), 1), "ec_us_cm": rnd.randrange(2000)},
        {"bytes": [rnd.randrange(256) for _ in range(rnd.randrange(2, 9))], "warnings": ["payload shorter than expected"]},
    ])


def lorawan(rnd, n):
    out = []
    for _ in range(n):
        dev_eui = "".join(rnd.choice("0123456789ABCDEF") for _ in range(16))
        app = rnd.choice(["soil-sensors", "water-levels", "cattle-trackers", "smart-parking", "cold-chain"])
        dev_id = "eui-%s" % dev_eui.lower() if rnd.random() < 0.5 else "%s-%03d" % (app.split("-")[0], rnd.randrange(1, 400))
        payload = bytes(rnd.randrange(256) for _ in range(rnd.randrange(2, 24)))
        frm = base64.b64encode(payload).decode()
        decoded = _lora_decoded(rnd)
        gateways = [{"gateway_ids": {"gateway_id": "gw-%s" % rnd.choice(SITES), "eui": "".join(rnd.choice("0123456789ABCDEF") for _ in range(16))},
                     "time": _iso(rnd), "timestamp": rnd.randrange(2 ** 32), "rssi": -rnd.randrange(40, 125),
                     "channel_rssi": -rnd.randrange(40, 125), "snr": round(rnd.uniform(-15, 12), 1),
                     "location": {"latitude": round(rnd.uniform(40, 60), 6), "longitude": round(rnd.uniform(-5, 25), 6),
                                  "altitude": rnd.randrange(0, 300), "source": "SOURCE_REGISTRY"},
                     "uplink_token": base64.b64encode(bytes(rnd.randrange(256) for _ in range(30))).decode(),
                     "received_at": _iso(rnd)} for _ in range(rnd.randrange(1, 3))]
        if rnd.random() < 0.55:
            doc = {"end_device_ids": {"device_id": dev_id, "application_ids": {"application_id": app},
                                      "dev_eui": dev_eui, "join_eui": "0000000000000000",
                                      "dev_addr": "%08X" % rnd.randrange(2 ** 32)},
                   "correlation_ids": ["gs:uplink:01H%s" % "".join(rnd.choice("0123456789ABCDEFGHJKMNPQRSTVWXYZ") for _ in range(23))],
                   "received_at": _iso(rnd),
                   "uplink_message": {"session_key_id": base64.b64encode(bytes(rnd.randrange(256) for _ in range(16))).decode(),
                                      "f_port": rnd.randrange(1, 224), "f_cnt": rnd.randrange(65536), "frm_payload": frm,
                                      "decoded_payload": decoded, "rx_metadata": gateways,
                                      "settings": {"data_rate": {"lora": {"bandwidth": 125000, "spreading_factor": rnd.randrange(7, 13),
                                                                          "coding_rate": "4/5"}},
                                                   "frequency": str(rnd.choice([868100000, 868300000, 868500000, 867100000]))},
                                      "received_at": _iso(rnd), "consumed_airtime": "%.6fs" % rnd.uniform(0.04, 1.5),
                                      "network_ids": {"net_id": "000013", "ns_id": "EC656E0000000181", "tenant_id": "ttn",
                                                      "cluster_id": "eu1", "cluster_address": "eu1.cloud.thethings.network"}}}
            if rnd.random() < 0.3:
                doc["uplink_message"]["version_ids"] = {"brand_id": rnd.choice(["dragino", "milesight-iot", "elsys"]),
                                                         "model_id": rnd.choice(["lht65", "em300-th", "ers"]),
                                                         "hardware_version": "1.0", "firmware_version": "1.8",
                                                         "band_id": "EU_863_870"}
            out.append(("lorawan", "v3/%s@ttn/devices/%s/up" % (app, dev_id), doc, "json"))
        else:
            doc = {"deduplicationId": "%08x-%04x-4%03x-8%03x-%012x" % (rnd.randrange(16 ** 8), rnd.randrange(16 ** 4), rnd.randrange(16 ** 3),
                                                                      rnd.randrange(16 ** 3), rnd.randrange(16 ** 12)),
                   "time": _iso(rnd),
                   "deviceInfo": {"tenantId": "52f14cd4-c6f1-4fbd-8f87-4025e1d49242", "tenantName": "ChirpStack",
                                  "applicationId": "17c82e96-be03-4f38-aef3-f83d48582d97", "applicationName": app,
                                  "deviceProfileId": "14855bf7-d10d-4aee-b618-ebfcb64dc7ad",
                                  "deviceProfileName": rnd.choice(["LHT65 (Class A, OTAA)", "Elsys ERS", "Milesight EM300-TH"]),
                                  "deviceName": dev_id, "devEui": dev_eui.lower(),
                                  "tags": {"site": rnd.choice(SITES), "floor": str(rnd.randrange(0, 6))}},
                   "devAddr": "%08x" % rnd.randrange(2 ** 32), "adr": True, "dr": rnd.randrange(0, 6), "fCnt": rnd.randrange(65536),
                   "fPort": rnd.randrange(1, 224), "confirmed": rnd.random() < 0.2, "data": frm, "object": decoded,
                   "rxInfo": [{"gatewayId": "".join(rnd.choice("0123456789abcdef") for _ in range(16)),
                               "uplinkId": rnd.randrange(2 ** 16), "rssi": -rnd.randrange(40, 125),
                               "snr": round(rnd.uniform(-15, 12), 1), "channel": rnd.randrange(8), "context": "EFwMtA==",
                               "metadata": {"region_common_name": "EU868", "region_config_id": "eu868"}}],
                   "txInfo": {"frequency": rnd.choice([868100000, 868300000, 868500000]),
                              "modulation": {"lora": {"bandwidth": 125000, "spreadingFactor": rnd.randrange(7, 13),
                                                      "codeRate": "CR_4_5"}}}}
            out.append(("lorawan", "application/%s/device/%s/event/up" % (doc["deviceInfo"]["applicationId"], dev_eui.lower()),
                        doc, "json"))
    return out


# ---------------------------------------------------------------- AWS IoT shadows and jobs

JOB_DOCS = [
    {"operation": "firmware-update", "version": "2.4.1",
     "files": [{"fileName": "fw-2.4.1.bin", "fileVersion": "1", "fileLocation": {"s3Location": {"bucket": "acme-firmware", "key": "esp32/fw-2.4.1.bin"}},
                "codeSigning": {"awsKmsKeyArn": "arn:aws:kms:eu-west-1:123456789012:key/7d2e0a8b-6c1c-4b0e-9a77-0f6b1c2d3e4f"}}],
     "url": "${aws:iot:s3-presigned-url:https://s3.amazonaws.com/acme-firmware/esp32/fw-2.4.1.bin}"},
    {"version": "1.0", "steps": [{"action": {"name": "Restart-Application", "type": "runHandler",
                                             "input": {"handler": "restart-services.sh", "args": ["nginx", "mosquitto"], "path": "default"},
                                             "runAsUser": "root"}}]},
    {"version": "1.0", "steps": [{"action": {"name": "Download-File", "type": "runHandler",
                                             "input": {"handler": "download-file.sh", "args": ["${aws:iot:parameter:downloadUrl}", "/tmp/config.json"],
                                                       "path": "default"}, "runAsUser": "${aws:iot:parameter:runAsUser}"}}]},
    {"version": "1.0", "steps": [{"action": {"name": "Install-Application", "type": "runHandler",
                                             "input": {"handler": "install-packages.sh", "args": ["libmosquitto1", "python3-paho-mqtt"],
                                                       "path": "default"}, "runAsUser": "root"}}],
     "finalStep": {"action": {"name": "Reboot", "type": "runHandler", "input": {"handler": "reboot.sh", "path": "default"}}}},
    {"operation": "rotate-certificate", "certificateArn": "arn:aws:iot:eu-west-1:123456789012:cert/3f4e5d6c7b8a",
     "notes": "Rotate before the current certificate's expiry on 2025-03-01."},
    {"operation": "reboot", "delaySeconds": 30, "reason": "Kernel update applied; the device's watchdog stays on."},
    {"operation": "set-config", "config": {"telemetryIntervalSec": 60, "logLevel": "info", "ntpServer": "pool.ntp.org",
                                           "endpoint": "a1b2c3d4e5f6g7-ats.iot.eu-west-1.amazonaws.com"}},
]


def aws_iot(rnd, n):
    out = []
    for _ in range(n):
        thing = rnd.choice(["gw-rpi4-%04d", "sensor-%04d", "pump-ctrl-%04d", "truck-%04d"]) % rnd.randrange(10000)
        r = rnd.random()
        reported = {"temperature": round(rnd.uniform(-10, 40), 1), "fan": rnd.choice(["auto", "on", "off"]),
                    "fw": "2.%d.%d" % (rnd.randrange(5), rnd.randrange(9)), "connected": True}
        if rnd.random() < 0.3:
            reported["location"] = {"lat": round(rnd.uniform(40, 60), 5), "lon": round(rnd.uniform(-5, 25), 5)}
        if rnd.random() < 0.2:
            reported["note"] = rnd.choice(NOTES)
        desired = {"fan": rnd.choice(["auto", "on", "off"]), "setpoint": rnd.choice([18, 19.5, 21, 22.5]),
                   "reportIntervalSec": rnd.choice([30, 60, 300])}
        ts = _ts(rnd)
        if r < 0.2:
            doc = {"state": {"reported": reported}, "clientToken": "%08x" % rnd.randrange(16 ** 8)}
            out.append(("aws-iot", "$aws/things/%s/shadow/update" % thing, doc, "json"))
        elif r < 0.35:
            doc = {"state": {"desired": desired, "reported": reported},
                   "metadata": {"desired": {k: {"timestamp": ts} for k in desired},
                                "reported": {k: {"timestamp": ts} for k in reported}},
                   "version": rnd.randrange(1, 5000), "timestamp": ts}
            out.append(("aws-iot", "$aws/things/%s/shadow/update/accepted" % thing, doc, "json"))
        elif r < 0.45:
            doc = {"version": rnd.randrange(1, 5000), "timestamp": ts, "state": {"fan": desired["fan"]},
                   "metadata": {"fan": {"timestamp": ts}}}
            out.append(("aws-iot", "$aws/things/%s/shadow/name/config/update/delta" % thing, doc, "json"))
        elif r < 0.55:
            doc = {"previous": {"state": {"desired": desired, "reported": reported}, "metadata": {}, "version": 10},
                   "current": {"state": {"desired": desired, "reported": dict(reported, fan=desired["fan"])},
                               "metadata": {}, "version": 11}, "timestamp": ts}
            out.append(("aws-iot", "$aws/things/%s/shadow/update/documents" % thing, doc, "json"))
        elif r < 0.6:
            doc = {"code": rnd.choice([400, 404, 409]), "message": rnd.choice(["Version conflict", "No shadow exists with name: 'config'",
                                                                               "Missing required node: state"]),
                   "timestamp": ts, "clientToken": "%08x" % rnd.randrange(16 ** 8)}
            out.append(("aws-iot", "$aws/things/%s/shadow/update/rejected" % thing, doc, "json"))
        elif r < 0.85:
            job = {"jobId": "%s-%d" % (rnd.choice(["fw-rollout", "restart", "cert-rotation", "config-push"]), rnd.randrange(1000)),
                   "status": "QUEUED", "queuedAt": ts, "lastUpdatedAt": ts, "versionNumber": 1, "executionNumber": 1,
                   "jobDocument": rnd.choice(JOB_DOCS)}
            out.append(("aws-iot", "$aws/things/%s/jobs/notify-next" % thing, {"timestamp": ts, "execution": job}, "json"))
        else:
            doc = {"status": rnd.choice(["IN_PROGRESS", "SUCCEEDED", "FAILED"]),
                   "statusDetails": {"progress": "%d%%" % rnd.randrange(101), "step": rnd.choice(["download", "verify", "install"]),
                                     "detail": rnd.choice(["Downloaded 512 KiB of 1.4 MiB", "Signature OK (ECDSA P-256)",
                                                           "Installer exited with code 0", "Can't reach the bucket; retrying in 30 s"])},
                   "expectedVersion": rnd.randrange(1, 9), "clientToken": "%08x" % rnd.randrange(16 ** 8)}
            out.append(("aws-iot", "$aws/things/%s/jobs/%s/update" % (thing, "fw-rollout-%d" % rnd.randrange(100)), doc, "json"))
    return out


# ---------------------------------------------------------------- device configuration with scripts

ESPHOME_LAMBDAS = ["return id(temp_sensor).state * 1.8 + 32;", "return x * 0.1;",
                   "if (x > 100) return {}; return x;", "return (x - 32.0) * 5.0 / 9.0;",
                   "return max(0.0f, min(100.0f, (x - 1.1) / (2.8 - 1.1) * 100.0f));",
                   "id(relay).turn_on(); delay(500); id(relay).turn_off();",
                   "return id(water_level).state < 10 ? \"low\" : \"ok\";",
                   "ESP_LOGD(\"main\", \"Value of my sensor: %f\", id(my_sensor).state);",
                   "return round(x * 10) / 10;"]
NODE_RED_FUNCS = ["msg.payload = msg.payload.temperature * 1.8 + 32;\nreturn msg;",
                  "if (msg.payload.battery < 20) {\n    node.warn('battery low: ' + msg.payload.battery);\n}\nreturn msg;",
                  "const avg = context.get('avg') || 0;\ncontext.set('avg', avg * 0.9 + msg.payload * 0.1);\nmsg.payload = Math.round(avg * 10) / 10;\nreturn msg;",
                  "msg.topic = `sensors/${msg.payload.room}/temp`;\nreturn msg;",
                  "return [msg.payload > 30 ? msg : null, msg.payload <= 30 ? msg : null];"]
CRONS = ["0 */5 * * *", "30 6 * * 1-5", "0 0 1 * *", "*/15 * * * *", "0 22 * * 0,6", "@reboot"]


def device_config(rnd, n):
    out = []
    for _ in range(n):
        dev = "%s-%04d" % (rnd.choice(["gw", "node", "pump", "esp"]), rnd.randrange(10000))
        r = rnd.random()
        if r < 0.35:
            doc = {"sensor": [{"platform": rnd.choice(["dht", "adc", "template", "bme280_i2c"]), "name": "%s %s" % (rnd.choice(ROOMS).title(), rnd.choice(["Temperature", "Moisture", "Level"])),
                               "update_interval": rnd.choice(["30s", "60s", "5min"]),
                               "filters": rnd.sample([{"offset": -0.4}, {"multiply": 1.8}, {"sliding_window_moving_average": {"window_size": 15, "send_every": 15}},
                                                      {"lambda": rnd.choice(ESPHOME_LAMBDAS)}, {"clamp": {"min_value": 0, "max_value": 100}},
                                                      {"throttle": "60s"}, {"delta": 0.5}], 2)}],
                   "on_boot": {"priority": -100, "then": [{"lambda": rnd.choice(ESPHOME_LAMBDAS)}]} if rnd.random() < 0.3 else None}
            doc = {k: v for k, v in doc.items() if v is not None}
            out.append(("device-config", "config/%s/esphome" % dev, doc, "json"))
        elif r < 0.55:
            doc = {"id": "%08x.%06x" % (rnd.randrange(16 ** 8), rnd.randrange(16 ** 6)), "type": "function",
                   "name": rnd.choice(["to Fahrenheit", "battery check", "smooth", "route by room", "split"]),
                   "func": rnd.choice(NODE_RED_FUNCS), "outputs": rnd.randrange(1, 3), "timeout": 0, "noerr": 0,
                   "initialize": "", "finalize": "", "libs": [], "x": rnd.randrange(100, 900), "y": rnd.randrange(40, 600),
                   "wires": [["%08x.%06x" % (rnd.randrange(16 ** 8), rnd.randrange(16 ** 6))]]}
            out.append(("device-config", "config/%s/node-red/flow" % dev, doc, "json"))
        elif r < 0.75:
            doc = {"schedule": [{"cron": rnd.choice(CRONS), "action": rnd.choice(["report", "calibrate", "purge", "reboot"]),
                                 "comment": rnd.choice(NOTES)} for _ in range(rnd.randrange(1, 4))],
                   "timezone": rnd.choice(["Europe/Berlin", "America/New_York", "UTC", "Asia/Tokyo"])}
            out.append(("device-config", "config/%s/schedule" % dev, doc, "json"))
        else:
            doc = {"commands": rnd.sample(BACKLOGS, 2), "rules": [_rule(rnd) for _ in range(rnd.randrange(1, 3))],
                   "description": rnd.choice(NOTES),
                   "thresholds": {"temp_high": rnd.randrange(25, 40), "temp_low": rnd.randrange(0, 10),
                                  "expression": rnd.choice(["temp > 30 && hum < 40", "level <= 10 || pump == 'off'",
                                                            "(power / voltage) > 9.5", "avg(temp, 5m) >= 28",
                                                            "battery < 20 and not charging"])}}
            out.append(("device-config", "config/%s/tasmota" % dev, doc, "json"))
    return out


GENERATORS = [("ha-discovery", ha_discovery, 440), ("ha-state", ha_state, 220), ("zigbee2mqtt", zigbee2mqtt, 300),
              ("tasmota", tasmota, 300), ("senml-json", lambda r, n: senml(r, n, False), 160),
              ("senml-cbor", lambda r, n: senml(r, n, True), 160), ("sparkplug", sparkplug, 180),
              ("lorawan", lorawan, 180), ("aws-iot", aws_iot, 260), ("device-config", device_config, 200)]


def messages(seed=15):
    """Every generated message as ``(format, topic, document, encoding)``, in a fixed order."""
    out = []
    for name, gen, count in GENERATORS:
        rnd = random.Random("%s:%s" % (seed, name))
        out.extend(gen(rnd, count))
    return out


def encode(document, encoding):
    """The wire bytes of a message: compact JSON (UTF-8), CBOR, or the text itself."""
    if encoding == "cbor":
        import cbor2
        return cbor2.dumps(document)
    if encoding == "text":
        return document.encode("utf-8")
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
