"""Calls a Switchboard server through waha-py's client (WAHA's own typed SDK, generated from
WAHA's OpenAPI document) and validates every answer with the pydantic model WAHA's document
names for that operation's response. Prints one line per call; exits 1 if any answer fails.

    waha_models.py http://127.0.0.1:PORT

The server must have session `default` WORKING on the `local` engine. The script creates,
changes and deletes its own session `wahapy`.
"""
import sys
from typing import Any, Optional

from pydantic import TypeAdapter, ValidationError
from waha import WahaClient
from waha.generated import models as m

failures = 0


def check(name: str, model: Any, call) -> Any:
    """Runs `call`, validates its answer as `model` (None: WAHA's document has no schema, the
    answer only has to be JSON)."""
    global failures
    try:
        answer = call()
        if model is not None:
            TypeAdapter(model).validate_python(answer)
        elif isinstance(answer, str):
            raise ValueError(f"not JSON: {answer[:200]!r}")
        print(f"ok   {name}")
        return answer
    except (ValidationError, Exception) as error:  # an HTTP error is a failure too
        failures += 1
        print(f"FAIL {name}: {error}")
        return None


client = WahaClient(base_url=sys.argv[1])
s, c, cs, lids = client.sessions, client.contacts, client.contacts_session, client.lids

# Server
check("ping", m.PingResponse, lambda: client.ping.ping())
check("server.get", m.WAHAEnvironment, lambda: client.server.get())
check("version.get", m.WAHAEnvironment, lambda: client.version.get())
check("server.status", m.ServerStatusResponse, lambda: client.server.status())
check("server.environment", dict[str, Any], lambda: client.server.environment())
check("server.environment all", dict[str, Any], lambda: client.server.environment(params={"all": "true"}))

# Sessions
check("sessions.create", m.SessionDTO, lambda: s.create({"name": "wahapy", "start": True, "config": {"metadata": {"a": "b"}}}))
check("sessions.list", list[m.SessionInfo], lambda: s.list())
check("sessions.list all expand", list[m.SessionInfo], lambda: s.list(params={"all": "true", "expand": "apps"}))
info = check("sessions.get expand", m.SessionInfo, lambda: s.get("wahapy", params={"expand": "apps"}))
if info is not None and info.get("apps") != []:
    failures += 1
    print("FAIL sessions.get expand: apps missing")
check("sessions.update", m.SessionDTO, lambda: s.update("wahapy", {"config": {"debug": True}}))
check("sessions.get_me", Optional[m.MeInfo], lambda: s.get_me("wahapy"))
check("sessions.capping", m.MessageCappingData, lambda: s.fetch_message_capping("wahapy"))
check("sessions.timelock", m.ReachoutTimelockData, lambda: s.fetch_reachout_timelock("wahapy"))
check("sessions.stop", m.SessionDTO, lambda: s.stop("wahapy"))
check("sessions.start", m.SessionDTO, lambda: s.start("wahapy"))
check("sessions.restart", m.SessionDTO, lambda: s.restart("wahapy"))
check("sessions.logout", m.SessionDTO, lambda: s.logout("wahapy", {}))
check("sessions.deprecated_stop", None, lambda: s.deprecated_stop({"name": "wahapy", "logout": False}))
check("sessions.depracated_start", m.SessionDTO, lambda: s.depracated_start({"name": "wahapy"}))
check("sessions.deprecated_logout", None, lambda: s.deprecated_logout({"name": "wahapy"}))
check("sessions.create again", m.SessionDTO, lambda: s.create({"name": "wahapy"}))
check("sessions.delete", None, lambda: s.delete("wahapy"))

# Contacts and LIDs, on session default
check("contacts.put", m.Result, lambda: cs.put("default", "14155550101@c.us", {"firstName": "Ada", "lastName": "Lovelace"}))
check("contacts.get_all", None, lambda: c.get_all(params={"session": "default", "limit": 10}))
check("contacts.get", None, lambda: c.get(params={"session": "default", "contactId": "14155550101"}))
check("contacts_session.get", None, lambda: cs.get("default", "14155550101@c.us"))
exists = check("contacts.check_exists", m.WANumberExistResult, lambda: c.check_exists(params={"session": "default", "phone": "14155550101"}))
check("contacts.get_about", None, lambda: c.get_about(params={"session": "default", "contactId": "14155550101"}))
check("contacts.get_profile_picture", None, lambda: c.get_profile_picture(params={"session": "default", "contactId": "14155550101"}))
check("contacts.block", None, lambda: c.block({"session": "default", "contactId": "14155550101@c.us"}))
check("contacts.unblock", None, lambda: c.unblock({"session": "default", "contactId": "14155550101@c.us"}))
check("lids.get_all", list[m.LidToPhoneNumber], lambda: lids.get_all("default"))
check("lids.count", m.CountResponse, lambda: lids.get_lids_count("default"))
check("lids.find_pn_by_lid", m.LidToPhoneNumber, lambda: lids.find_pn_by_lid("default", "123123123@lid"))
check("lids.find_lid_by_phone_number", m.LidToPhoneNumber, lambda: lids.find_lid_by_phone_number("default", "14155550101@c.us"))
by_lid = check("lids.find_lid_by_phone_number @lid", m.LidToPhoneNumber, lambda: lids.find_lid_by_phone_number("default", "123123123@lid"))
if by_lid is not None and by_lid != {"lid": "123123123@lid", "pn": None}:
    failures += 1
    print(f"FAIL lids.find_lid_by_phone_number @lid: {by_lid}")

# Pairing: WAHA's answer for a session that waits for no QR scan, as kctl-waha reads it.
import httpx

for method, path, body in (("GET", "/api/default/auth/qr?format=raw", None), ("POST", "/api/default/auth/request-code", {"phoneNumber": "14155550101"})):
    answer = httpx.request(method, sys.argv[1] + path, json=body)
    if answer.status_code != 422 or answer.json().get("expected") != ["SCAN_QR_CODE"]:
        failures += 1
        print(f"FAIL {method} {path}: {answer.status_code} {answer.text[:200]}")
    else:
        print(f"ok   {method} {path}: 422 {answer.json()['error'][:40]}...")

print(f"{failures} failures")
sys.exit(1 if failures else 0)
