"""Postbridge's own checks and request shaping for schemathesis (loaded with SCHEMATHESIS_HOOKS).

The run's facts come from the JSON file named by ABUSE_STATE (written by abuse.py): tokens,
the seeded ids of two users, and the secrets that must never appear in an answer. ABUSE_PHASE
says how requests are shaped:

- anonymous: each request carries no token, a token with a wrong signature, an `alg: none`
  token, an expired one or garbage, at random;
- foreign:   Alice's token, and every `{id}` in a path is one of Bob's ids of that kind;
- own:       Alice's token, and an `{id}` is sometimes one of her own (so real rows are hit
             with hostile bodies), otherwise whatever schemathesis generated.
"""

import json
import os
import random

import schemathesis

STATE = json.load(open(os.environ["ABUSE_STATE"], encoding="utf-8"))
PHASE = os.environ.get("ABUSE_PHASE", "own")

# Every kind of id a path can name, by the collection its path starts with.
KINDS = {"/v1/accounts": "accounts", "/v1/posts": "posts", "/v1/drafts": "drafts", "/v1/media": "media"}


def _kind(path):
    for prefix, kind in KINDS.items():
        if path.startswith(prefix + "/"):
            return kind
    return None


@schemathesis.hook
def map_headers(context, headers):
    headers = dict(headers or {})
    for name in list(headers):
        if name.lower() == "authorization":
            del headers[name]
    if PHASE == "anonymous":
        choice = random.choice(STATE["bad_tokens"] + [None])
        if choice is not None:
            headers["Authorization"] = f"Bearer {choice}"
    else:
        headers["Authorization"] = f"Bearer {STATE['tokens']['alice']}"
    return headers


@schemathesis.hook
def map_path_parameters(context, path_parameters):
    if not path_parameters or "id" not in path_parameters or context.operation is None:
        return path_parameters
    kind = _kind(context.operation.path)
    if kind is None:
        return path_parameters
    if PHASE == "foreign":
        path_parameters["id"] = random.choice(STATE["ids"]["bob"][kind])
    elif PHASE == "own" and random.random() < 0.5:
        path_parameters["id"] = random.choice(STATE["ids"]["alice"][kind])
    return path_parameters


# What the issue's list asks for on top of schemathesis' own generation: NUL and lone-surrogate
# strings, odd Unicode, oversized strings, dates outside any range, absurd limits.
HOSTILE_STRINGS = [
    "a\u0000b",
    "\ud800",
    "\udfff tail",
    "\u202eevil\u202c",
    "\ufeff",
    "x" * 70_000,
    "-100000-01-01T00:00:00Z",
    "+275760-09-13T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "0000-00-00T00:00:00Z",
    "../../etc/passwd",
    "' OR 1=1 --",
    "%00",
]
HOSTILE_QUERY = {
    "from": ["-100000-01-01T00:00:00Z", "9999-12-31T00:00:00Z", "1000-01-01T00:00:00Z"],
    "to": ["+100000-01-01T00:00:00Z", "0001-01-01T00:00:00Z"],
    "limit": [-1, 0, 101, 2**31, 2**63, "1e9", "NaN"],
    "cursor": ["\u0000", "x" * 5000, "!!!!", "eyJ0IjoiYSJ9"],
}


def _poison(value, depth=0):
    """Replaces one string somewhere in `value` by a hostile one."""
    if isinstance(value, str) or value is None:
        return random.choice(HOSTILE_STRINGS)
    if isinstance(value, dict) and value and depth < 4:
        key = random.choice(list(value))
        value[key] = _poison(value[key], depth + 1)
    elif isinstance(value, list) and value and depth < 4:
        i = random.randrange(len(value))
        value[i] = _poison(value[i], depth + 1)
    return value


@schemathesis.hook
def map_body(context, body):
    if PHASE == "own" and random.random() < 0.5:
        return _poison(body)
    return body


@schemathesis.hook
def map_query(context, query):
    if PHASE == "own" and random.random() < 0.5:
        query = dict(query or {})
        name = random.choice(list(HOSTILE_QUERY))
        query[name] = random.choice(HOSTILE_QUERY[name])
    return query


def _header_text(response):
    return "\n".join(f"{k}: {v}" for k, values in response.headers.items() for v in values)


@schemathesis.check
def postbridge_error_shape(ctx, response, case):
    """Every 4xx/5xx is `{"error": {"code": str, "message": str}}` (HEAD answers have no body)."""
    if response.status_code < 400 or case.method.upper() == "HEAD":
        return None
    try:
        body = json.loads(response.content)
    except ValueError as err:
        raise AssertionError(f"{response.status_code} without a JSON body: {response.content[:200]!r}") from err
    error = body.get("error") if isinstance(body, dict) else None
    if not (isinstance(error, dict) and isinstance(error.get("code"), str) and isinstance(error.get("message"), str)):
        raise AssertionError(f"{response.status_code} not in the error shape: {body!r:.300}")
    return None


@schemathesis.check
def postbridge_never_5xx(ctx, response, case):
    """No request, however hostile, is our fault."""
    if response.status_code >= 500:
        raise AssertionError(f"{response.status_code}: {response.content[:300]!r}")
    return None


@schemathesis.check
def postbridge_no_secret_in_answer(ctx, response, case):
    """No platform token (platform-sim's prefixes), key or secret in any header or body."""
    text = _header_text(response) + "\n" + response.content.decode("utf-8", "replace")
    for secret in STATE["secrets"]:
        if secret and secret in text:
            raise AssertionError(f"a secret ({secret[:6]}…) appears in the answer")
    return None


@schemathesis.check
def postbridge_refused(ctx, response, case):
    """In the anonymous and foreign phases nothing may succeed on the API."""
    if PHASE not in ("anonymous", "foreign"):
        return None
    path = case.operation.path
    if path == "/openapi.json":
        return None
    if path == "/v1/oauth/{platform}/callback" and case.method.upper() == "GET":
        # A redirect to the frontend with `error=` (no state of these users is live), or a 4xx
        # for input refused before it (a NUL character in the query).
        if 400 <= response.status_code < 500:
            return None
        if response.status_code != 302:
            raise AssertionError(f"callback answered {response.status_code}")
        location = response.headers.get("location", [""])[0]
        if "ticket=" in location:
            raise AssertionError(f"a forged callback was accepted: {location}")
        return None
    if not 400 <= response.status_code < 500:
        raise AssertionError(f"{PHASE}: {case.method} {path} answered {response.status_code}, not a refusal")
    sent_token = any(k.lower() == "authorization" for k in response.request.headers)
    if PHASE == "foreign" and response.status_code == 401 and not sent_token:
        return None  # schemathesis' coverage phase also tries each route without its token
    # 403: a media content URL without a valid signature is refused before any lookup.
    if PHASE == "foreign" and response.status_code not in (400, 403, 404, 405, 413, 415, 422):
        raise AssertionError(f"another user's id answered {response.status_code}")
    return None


@schemathesis.check
def postbridge_trace(ctx, response, case):
    """With ABUSE_TRACE=<file>: every request and its status, to find what changed a row."""
    if os.environ.get("ABUSE_TRACE"):
        with open(os.environ["ABUSE_TRACE"], "a", encoding="utf-8") as f:
            req = response.request
            f.write(f"{PHASE} {req.method} {req.url} {req.body!r:.300} -> {response.status_code}\n")
    return None
