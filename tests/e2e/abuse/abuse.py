#!/usr/bin/env python3
"""The abuse suite's driver: starts platform-sim and the gateway on a database of their own,
seeds two users through the real API (the OAuth connect flow included), then runs schemathesis
against the served /openapi.json in phases and checks what schemathesis cannot see.

Phases (see hooks.py for how requests are shaped):
  anonymous  no or forged tokens on every route        → refused, database unchanged
  foreign    Alice's token with Bob's ids in the paths   → 404, database unchanged
  negative   Alice's token, schema-violating requests    → 4xx, database unchanged
             (all routes but POST /v1/connections/{platform}, whose empty body is valid)
  own        Alice's token, valid and hostile requests   → never 5xx (rows may change)
Every phase: never a 5xx, every error in the error shape, no secret in any header or body.
Budget: ABUSE_EXAMPLES (default 20) examples per operation and phase.
"""

import base64
import hashlib
import hmac
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from datetime import datetime, timedelta, timezone

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
HERE = os.path.dirname(os.path.abspath(__file__))
ADMIN_URL = os.environ.get(
    "POSTBRIDGE_TEST_DATABASE_URL", "postgres://postbridge:postbridge@127.0.0.1:55432/postbridge"
)
AMQP_URL = os.environ.get("POSTBRIDGE_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:55672/%2f")
DEV_SECRET = "postbridge-development-secret-change-me"
ISSUER = "postbridge-dev"
FRONTEND = "http://localhost:3000"
EXAMPLES = int(os.environ.get("ABUSE_EXAMPLES", "20"))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))


def log(msg):
    print(f"[abuse] {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(claims, secret=DEV_SECRET, alg="HS256"):
    header = b64url(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    payload = b64url(json.dumps(claims).encode())
    if alg == "none":
        return f"{header}.{payload}."
    sig = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64url(sig)}"


def token_for(user, **extra):
    now = int(time.time())
    claims = {"sub": user, "iss": ISSUER, "iat": now, "exp": now + 3600}
    claims.update(extra)
    return jwt(claims)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def call(method, url, token=None, body=None, content_type="application/json", raw=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(url, data=data, method=method)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if data is not None:
        request.add_header("Content-Type", content_type)
    try:
        with OPENER.open(request, timeout=30) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as err:
        return err.code, {k.lower(): v for k, v in err.headers.items()}, err.read()


def psql(url, sql):
    return subprocess.run(
        ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", url, "-c", sql],
        check=True, capture_output=True, text=True,
    ).stdout


def snapshot(url):
    """Row count and a digest of every table's rows (the outbox by id only: its relay marks
    rows sent on its own schedule)."""
    tables = psql(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1").split()
    out = {}
    for table in tables:
        if table.startswith("__diesel"):
            continue
        column = "t.id::text" if table == "outbox" else "t::text"
        out[table] = psql(
            url, f"SELECT count(*) || ':' || md5(coalesce(string_agg({column}, '|' ORDER BY {column}), '')) FROM \"{table}\" t"
        ).strip()
    return out


def png(width=4, height=3):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + b"\x80\x80\x80\xff" * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def multipart(file_bytes, alt_text):
    boundary = "abuse-boundary-7c1f"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n'
        "Content-Type: image/png\r\n\r\n".encode() + file_bytes + b"\r\n",
        f'--{boundary}\r\nContent-Disposition: form-data; name="alt_text"\r\n\r\n{alt_text}\r\n'.encode(),
        f"--{boundary}--\r\n".encode(),
    ]
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def wait_http(url, within=60):
    deadline = time.time() + within
    while time.time() < deadline:
        try:
            status, _, _ = call("GET", url)
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {within} s")


def connect_sandbox(gateway, user):
    token = token_for(user)
    status, _, body = call("POST", f"{gateway}/v1/connections/sandbox", token, {"redirect_to": FRONTEND})
    assert status == 200, (status, body)
    authorize = json.loads(body)["authorize_url"]
    status, headers, _ = call("GET", f"{authorize}&login_hint={user}")
    assert status == 302, status
    status, headers, _ = call("GET", headers["location"])
    assert status == 302, status
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(headers["location"]).query))
    status, _, body = call("POST", f"{gateway}/v1/connections/complete", token, {"ticket": query["ticket"]})
    assert status == 200, (status, body)
    return json.loads(body)["accounts"][0]["id"]


def seed(gateway, user):
    token = token_for(user)
    account = connect_sandbox(gateway, user)
    status, _, body = call("POST", f"{gateway}/v1/drafts", token, {"text": f"{user}'s draft", "account_ids": [account]})
    assert status == 201, (status, body)
    draft = json.loads(body)["id"]
    later = (datetime.now(timezone.utc) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    status, _, body = call(
        "POST", f"{gateway}/v1/posts", token, {"text": f"{user}'s post", "account_ids": [account], "scheduled_at": later}
    )
    assert status == 201, (status, body)
    post = json.loads(body)["id"]
    raw, content_type = multipart(png(), f"{user}'s picture")
    status, _, body = call("POST", f"{gateway}/v1/media", token, raw=raw, content_type=content_type)
    assert status == 201, (status, body)
    media = json.loads(body)["id"]
    return {"accounts": [account], "drafts": [draft], "posts": [post], "media": [media]}


# schemathesis' own "no 5xx" plus ours (hooks.py); --checks names every check that runs.
CHECKS = [
    "not_a_server_error",
    "postbridge_error_shape",
    "postbridge_never_5xx",
    "postbridge_no_secret_in_answer",
    "postbridge_refused",
    "postbridge_trace",
]


def schemathesis(phase, gateway, state_file, report_dir, extra, config=None):
    env = dict(os.environ, ABUSE_STATE=state_file, ABUSE_PHASE=phase, SCHEMATHESIS_HOOKS="hooks",
               PYTHONPATH=HERE + os.pathsep + os.environ.get("PYTHONPATH", ""))
    st = os.path.join(os.path.dirname(sys.executable), "st")
    cmd = [
        st, *(["--config-file", config] if config else []), "run", f"{gateway}/openapi.json",
        "--url", gateway,
        "--checks", ",".join(CHECKS),
        "--max-examples", str(EXAMPLES),
        "--phases", "examples,coverage,fuzzing",
        "--suppress-health-check", "all",
        "--request-timeout", "30",
        "--seed", os.environ.get("ABUSE_SEED", "16"),
        "--report", "junit", "--report-dir", report_dir,
        "--no-color",
    ] + extra
    if phase != "anonymous":
        # Every phase and every generated case as Alice (hooks only reach the fuzzing phase).
        with open(state_file, encoding="utf-8") as f:
            cmd += ["-H", f"Authorization: Bearer {json.load(f)['tokens']['alice']}"]
    log(f"phase {phase}: {' '.join(c if not c.startswith('Authorization') else 'Authorization: Bearer <alice>' for c in cmd[2:])}")
    started = time.time()
    # Run in .data/abuse: schemathesis and hypothesis keep their caches in the working directory.
    result = subprocess.run(cmd, env=env, cwd=report_dir, capture_output=True, text=True)
    took = time.time() - started
    out = result.stdout + result.stderr
    with open(os.path.join(report_dir, f"{phase}.log"), "w", encoding="utf-8") as f:
        f.write(out)
    summary = [line for line in out.splitlines() if "passed" in line or "failed" in line or "API Operations" in line]
    log(f"phase {phase}: exit {result.returncode} in {took:.0f} s; {' | '.join(s.strip() for s in summary[-3:])}")
    if result.returncode != 0:
        print(out[-12000:], file=sys.stderr)
    return result.returncode == 0


def main():
    tag = f"{os.getpid()}_{int(time.time())}"
    db_name = f"postbridge_abuse_{tag}"
    base = ADMIN_URL.rsplit("/", 1)[0]
    db_url = f"{base}/{db_name}"
    report_dir = os.path.join(ROOT, ".data", "abuse")
    os.makedirs(report_dir, exist_ok=True)
    media_dir = tempfile.mkdtemp(prefix="abuse-media-")
    sim_port, gw_port = free_port(), free_port()
    sim, gateway_url = f"http://127.0.0.1:{sim_port}", f"http://127.0.0.1:{gw_port}"
    psql(ADMIN_URL, f"CREATE DATABASE {db_name}")
    env = dict(os.environ)
    env.update({
        "POSTBRIDGE_ENV": "development",
        "POSTBRIDGE_CONFIG_DIR": os.path.join(ROOT, "config"),
        "RUST_LOG": "warn",
        "POSTBRIDGE__DATABASE__URL": db_url,
        "POSTBRIDGE__AMQP__URL": AMQP_URL,
        "POSTBRIDGE__EVENTS__EXCHANGE": f"abuse-{tag}.events",
        "POSTBRIDGE__EVENTS__DEAD_LETTER_EXCHANGE": f"abuse-{tag}.dlx",
        "POSTBRIDGE__EVENTS__QUEUE_PREFIX": f"abuse-{tag}.",
        "POSTBRIDGE__PLATFORM_SIM__LISTEN": f"127.0.0.1:{sim_port}",
        "POSTBRIDGE__AUTH_GATEWAY__LISTEN": f"127.0.0.1:{gw_port}",
        "POSTBRIDGE__AUTH_GATEWAY__OPS_LISTEN": "127.0.0.1:0",
        "POSTBRIDGE__AUTH_GATEWAY__PUBLIC_URL": gateway_url,
        "POSTBRIDGE__AUTH_GATEWAY__CONNECTION_STARTS_PER_MINUTE": "0",
        "POSTBRIDGE__PLATFORMS__SANDBOX__AUTHORIZE_URL": f"{sim}/oauth/authorize",
        "POSTBRIDGE__PLATFORMS__SANDBOX__TOKEN_URL": f"{sim}/oauth/token",
        "POSTBRIDGE__PLATFORMS__SANDBOX__REVOKE_URL": f"{sim}/oauth/revoke",
        "POSTBRIDGE__PLATFORMS__SANDBOX__API_BASE": sim,
        "POSTBRIDGE__PLATFORMS__SANDBOX__UPLOAD_BASE": sim,
        "POSTBRIDGE__MEDIA__ROOT_DIR": media_dir,
        "POSTBRIDGE__MEDIA__PUBLIC_BASE_URL": gateway_url,
    })
    logs = open(os.path.join(report_dir, "services.log"), "w", encoding="utf-8")
    procs = []
    ok = True
    try:
        for name in ("platform-sim", "auth-gateway"):
            procs.append(subprocess.Popen([os.path.join(TARGET, "debug", name)], cwd=ROOT, env=env,
                                          stdout=logs, stderr=subprocess.STDOUT))
        wait_http(f"{sim}/healthz")
        wait_http(f"{gateway_url}/healthz")
        log(f"gateway on {gateway_url}, platform-sim on {sim}, database {db_name}")

        ids = {user: seed(gateway_url, user) for user in ("alice", "bob")}
        now = int(time.time())
        state = {
            "tokens": {"alice": token_for("alice"), "bob": token_for("bob")},
            "ids": ids,
            "bad_tokens": [
                jwt({"sub": "alice", "iss": ISSUER, "exp": now + 600}, secret="not-the-secret"),
                jwt({"sub": "alice", "iss": ISSUER, "exp": now + 600}, alg="none"),
                token_for("alice", exp=now - 3600, iat=now - 7200),
                token_for("alice", nbf=now + 3600),
                jwt({"sub": "alice", "exp": now + 600}),
                "not.a.jwt",
                "",
            ],
            "secrets": ["simat_", "simrt_", DEV_SECRET, "postbridge-local-secret"]
            + os.environ.get("ABUSE_PLANTED_SECRET", "").split(),
        }
        state_file = os.path.join(report_dir, "state.json")
        with open(state_file, "w", encoding="utf-8") as f:
            json.dump(state, f)

        # The outbox relay marks seeded events sent on its own; give it a moment first.
        time.sleep(1.0)
        before = snapshot(db_url)
        for phase, extra in (
            ("anonymous", []),
            ("foreign", ["--include-path-regex", r"\{id\}"]),
            # Starting an OAuth connection takes an empty body, so "negative" cases of it that
            # drop the body are valid starts (a row in oauth_states): the anonymous and own
            # phases cover that route.
            # Without the examples phase and with negative.toml: see that file.
            ("negative", ["--mode", "negative", "--exclude-path-regex", r"^/v1/connections/\{platform\}$",
                          "--phases", "coverage,fuzzing"]),
        ):
            config = os.path.join(HERE, "negative.toml") if phase == "negative" else None
            ok &= schemathesis(phase, gateway_url, state_file, report_dir, extra, config)
            after = snapshot(db_url)
            changed = {t: (before.get(t), after.get(t)) for t in after if before.get(t) != after.get(t)}
            if changed:
                ok = False
                log(f"phase {phase}: the database changed although every request had to be refused: {changed}")
            else:
                log(f"phase {phase}: database unchanged ({len(after)} tables)")
        ok &= schemathesis("own", gateway_url, state_file, report_dir, ["--mode", "positive"])
        for proc in procs:
            if proc.poll() is not None:
                ok = False
                log(f"{proc.args[0]} exited during the run ({proc.returncode})")
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        logs.close()
        shutil.rmtree(media_dir, ignore_errors=True)
        subprocess.run(["psql", "-X", "-q", ADMIN_URL, "-c", f"DROP DATABASE IF EXISTS {db_name} WITH (FORCE)"],
                       capture_output=True)
    # Tokens must not reach the gateway's own logs either.
    with open(os.path.join(report_dir, "services.log"), encoding="utf-8", errors="replace") as f:
        service_log = f.read()
    for prefix in ("simat_", "simrt_"):
        if prefix in service_log:
            ok = False
            log(f"a platform token ({prefix}…) reached the services' logs")
    log("PASSED" if ok else f"FAILED (reports and logs in {report_dir})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
