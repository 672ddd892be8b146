"""Smoke test for requests: pickle and copy a Session, a PreparedRequest and a Response.

requests' own pickling tests need a live HTTP server; this needs none. The objects are
built by hand (a Response is filled in as the adapter does), round-tripped through
pickle and copy.deepcopy, and their state compared. Prints one line per check; exit 1 on
the first difference.
"""

import copy
import pickle

import requests
from requests.structures import CaseInsensitiveDict


def check(label, actual, expected):
    status = "ok" if actual == expected else "FAILED"
    print(f"{label}: {status}")
    if actual != expected:
        raise SystemExit(f"{label}: {actual!r} != {expected!r}")


session = requests.Session()
session.headers["X-Test"] = "1"
session.cookies.set("token", "abc", domain="example.org", path="/")
session.auth = ("user", "secret")
for clone in (pickle.loads(pickle.dumps(session)), copy.deepcopy(session)):
    check("session headers", clone.headers["X-Test"], "1")
    check("session cookies", clone.cookies.get("token", domain="example.org"), "abc")
    check("session auth", clone.auth, ("user", "secret"))
    clone.cookies.set("other", "x")  # the jar's lock must work after unpickling
    check("session cookie set", clone.cookies.get("other"), "x")
    clone.close()

prepared = session.prepare_request(requests.Request("POST", "http://example.org/a?b=1", data={"k": "v"}))
for clone in (pickle.loads(pickle.dumps(prepared)), copy.deepcopy(prepared), prepared.copy()):
    check("prepared url", clone.url, "http://example.org/a?b=1")
    check("prepared body", clone.body, "k=v")
    check("prepared cookie header", clone.headers.get("Cookie"), "token=abc")

response = requests.Response()
response.status_code = 200
response._content = b'{"answer": 42}'
response.headers = CaseInsensitiveDict({"Content-Type": "application/json"})
response.url = "http://example.org/a"
response.encoding = "utf-8"
response.request = prepared
response.cookies.set("session", "s1")
for clone in (pickle.loads(pickle.dumps(response)), copy.deepcopy(response)):
    check("response json", clone.json(), {"answer": 42})
    check("response cookies", clone.cookies.get("session"), "s1")
    check("response request url", clone.request.url, "http://example.org/a?b=1")
session.close()
print("requests pickle smoke: all ok")
