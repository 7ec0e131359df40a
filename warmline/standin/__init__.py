"""A local Twilio stand-in: the phone network on this machine, for tests, demos and simulations.

In Python::

    from warmline.standin import Standin
    with Standin(speed=10) as standin:           # serves REST + control API on a free port
        line = standin.add_number("+15550001000", voice_url=app + "/twilio/voice",
                                  sms_url=app + "/twilio/sms")
        peer = standin.peer_phone("+15550002000")          # rings until answered
        call = standin.caller("+15550003000").dial("+15550001000", patience=120)
        call.wait_until_heard("Press 1"); call.press("1")
        standin.client()   # twilio-python Client pointed at standin.url

The phone page at ``/`` shows three phones (the caller, the peer, and a third brought in) with
what each hears; it is a client of the control API below.

As a process: ``python -m warmline.standin --port 5077 --number +15550001000
--public-url http://127.0.0.1:5000`` (``python -m warmline standin`` once wired); point the app's
``TWILIO_API_URL`` at it. Options: --host, --port, --account-sid, --auth-token, --speed,
--calls-per-second, --number (repeatable), --public-url.

Twilio REST (HTTP Basic with the account SID and token), under ``/2010-04-01/Accounts/{Sid}/``:
``Calls.json`` (POST create, GET list), ``Calls/{Sid}.json`` (GET, POST Url/Twiml/Status, DELETE),
``Messages.json`` (POST, GET), ``Messages/{Sid}.json`` (GET, POST Body="" redacts, DELETE),
``IncomingPhoneNumbers.json`` (GET, POST) and ``IncomingPhoneNumbers/{Sid}.json`` (GET, POST,
DELETE).

Control API (JSON, unauthenticated: bind it to localhost), under ``/_standin/``:

- ``GET /`` summary: numbers, phones, live calls, counters (``schema_failures``...).
- ``POST /numbers`` {phone_number, voice_url, sms_url, voice_fallback_url, sms_fallback_url,
  status_callback}: provision a line's number.
- ``POST /phones`` {number, mode, answer_after, press, press_on_gather, press_delay,
  hang_up_after, busy_when_on_call, receives_texts}: a simulated phone; ``mode`` is answer,
  manual, decline, busy, no_answer, voicemail or fail. ``GET /phones/{number}``.
- ``POST /phones/{number}/dial`` {to, patience} -> the call; ``POST /phones/{number}/texts``
  {to, body} -> the message.
- ``GET /calls/{sid}``: the call with its transcript (what the person heard), who it is
  bridged with and, apart, whom it hears and who hears it (``hears``, ``heard_by``), and in a
  conference whether it is on hold, muted, or coaching someone (their number).
  ``POST /calls/{sid}/press`` {digits}, ``/say`` {text}, ``/answer``,
  ``/decline``, ``/hangup``.
- ``GET /events?since=N&kind=K&call_sid=S``: the record (webhooks with their answers and ms,
  rings, answers, bridges, what was heard, texts, schema failures...).

Times in the stand-in are Twilio seconds divided by ``speed``; every ``timeout`` argument of a
Python wait helper is in wall seconds.
"""

from warmline.standin.config import CallbackOrder, CallbackPolicy, RestFault, StandinConfig
from warmline.standin.people import Behaviour, Phone, PhoneCall
from warmline.standin.record import Event, Record
from warmline.standin.server import Standin
from warmline.standin.signing import sign

__all__ = ["Behaviour", "CallbackOrder", "CallbackPolicy", "Event", "Phone", "PhoneCall",
           "Record", "RestFault", "Standin", "StandinConfig", "sign"]
