"use client";
/**
 * Accounts: connect buttons for every configured platform (Bluesky and Mastodon with their
 * forms), the connected accounts with avatar, counts, health and status, and reconnect,
 * sync, pause/resume and disconnect. A paused account keeps its tokens fresh and accepts posts;
 * its due posts wait (shown as scheduled) until it is resumed. The OAuth round trip comes back here with `?platform=…&ticket=…`,
 * which is completed with the signed-in user's token.
 */
import { useEffect, useRef, useState, type FormEvent } from "react";
import {
  connect,
  finishConnection,
  readConnectionReturn,
  setPaused,
  unwrap,
  type Account,
  type Platform,
  type PlatformInfo,
} from "@postbridge/client";

import { useSession } from "./session";
import { describe, useLoad } from "@/lib/hooks";

export default function AccountsPage() {
  const { client } = useSession();
  const [notice, setNotice] = useState<string | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const platforms = useLoad(
    client ? async () => unwrap(await client.GET("/v1/platforms")).items : null,
    [client],
  );
  const accounts = useLoad(
    client ? async () => unwrap(await client.GET("/v1/accounts", { params: { query: { limit: 100 } } })).items : null,
    [client],
  );
  const completing = useRef(false);

  // Back from the platform: complete the ticket once, then clean the URL.
  useEffect(() => {
    if (!client || completing.current) return;
    const href = window.location.href;
    if (!readConnectionReturn(href)) return;
    completing.current = true;
    window.history.replaceState(null, "", "/");
    finishConnection(client, href)
      .then((done) => {
        if (done) setNotice(`Connected ${done.accounts.map((a) => a.display_name ?? a.handle ?? a.platform_account_id).join(", ")} on ${done.platform}.`);
        void accounts.reload();
      })
      .catch((err) => setFailure(describe(err)));
  }, [client, accounts]);

  if (!client) return null;
  const byPlatform = new Map((platforms.data ?? []).map((p) => [p.platform, p]));

  async function start(platform: Platform, body = {}) {
    setFailure(null);
    try {
      const account = await connect(client!, platform, body);
      setNotice(`Connected ${account.display_name ?? account.handle ?? account.platform_account_id} on ${platform}.`);
      await accounts.reload();
    } catch (err) {
      setFailure(describe(err));
    }
  }

  async function act(account: Account, what: "sync" | "refresh" | "disconnect") {
    setFailure(null);
    try {
      const params = { params: { path: { id: account.id } } };
      if (what === "disconnect") unwrap(await client!.DELETE("/v1/accounts/{id}", params));
      if (what === "sync") unwrap(await client!.POST("/v1/accounts/{id}/sync", params));
      if (what === "refresh") unwrap(await client!.POST("/v1/accounts/{id}/refresh", params));
      setNotice(`${what === "disconnect" ? "Disconnecting" : what === "sync" ? "Syncing" : "Refreshing"} ${account.display_name ?? account.platform_account_id}.`);
      await accounts.reload();
    } catch (err) {
      setFailure(describe(err));
    }
  }

  async function pauseOrResume(account: Account) {
    setFailure(null);
    try {
      const now = await setPaused(client!, account.id, !account.paused);
      setNotice(`${now.paused ? "Paused" : "Resumed"} ${now.display_name ?? now.platform_account_id}${now.paused ? ": its posts wait until you resume it" : ""}.`);
      await accounts.reload();
    } catch (err) {
      setFailure(describe(err));
    }
  }

  function reconnect(account: Account) {
    const info = byPlatform.get(account.platform);
    if (info?.auth_kind === "app_password") {
      setNotice("Enter a new app password in the Bluesky form below to reconnect.");
      return;
    }
    const instance = info?.auth_kind === "oauth2_per_instance" && account.profile_url ? new URL(account.profile_url).host : undefined;
    void start(account.platform, instance ? { instance } : {});
  }

  const visible = (accounts.data ?? []).filter((a) => a.status !== "disconnected");
  return (
    <div className="stack">
      {notice && <p className="notice" data-testid="notice">{notice}</p>}
      {(failure || platforms.error || accounts.error) && <p className="error" data-testid="error">{failure ?? platforms.error ?? accounts.error}</p>}
      <section className="card">
        <h2>Connect</h2>
        <div className="row wrap">
          {(platforms.data ?? [])
            .filter((p) => p.configured && p.auth_kind === "oauth2")
            .map((p) => (
              <button key={p.platform} onClick={() => void start(p.platform)} data-testid={`connect-${p.platform}`}>
                Connect {label(p.platform)}
              </button>
            ))}
        </div>
        <div className="row wrap forms">
          {byPlatform.get("bluesky")?.configured !== false && <BlueskyForm onConnect={(body) => start("bluesky", body)} />}
          {byPlatform.get("mastodon")?.configured && <MastodonForm onConnect={(body) => start("mastodon", body)} />}
        </div>
        <NotConfigured platforms={platforms.data ?? []} />
      </section>
      <section>
        <h2>Connected accounts</h2>
        {visible.length === 0 && <p className="muted">No accounts yet.</p>}
        <div className="grid" data-testid="accounts">
          {visible.map((a) => (
            <article key={a.id} className="card account" data-testid="account" data-platform={a.platform} data-status={a.status} data-paused={a.paused ? "true" : "false"}>
              <div className="row">
                {a.avatar_url ? <img className="avatar" src={a.avatar_url} alt="" data-testid="avatar" /> : <div className="avatar placeholder" />}
                <div>
                  <b>{a.display_name ?? a.platform_account_id}</b>
                  <div className="muted">{a.handle ? `@${a.handle}` : ""} · {label(a.platform)}</div>
                </div>
                <span className="spacer" />
                {a.paused && (
                  <span className="badge paused" data-testid="paused-badge" title={a.paused_at ? `since ${new Date(a.paused_at).toLocaleString()}` : undefined}>paused</span>
                )}
                {a.source === "env" && <span className="badge" title="configured by the deployment: read-only">env</span>}
                <span className={`badge ${a.status}`} data-testid="account-status">{a.status}</span>
              </div>
              <dl className="counts">
                <div><dt>followers</dt><dd>{a.followers_count ?? "–"}</dd></div>
                <div><dt>following</dt><dd>{a.following_count ?? "–"}</dd></div>
                <div><dt>posts</dt><dd>{a.posts_count ?? "–"}</dd></div>
                <div><dt>health</dt><dd><meter min={0} max={100} value={a.health_score} /> {a.health_score}</dd></div>
              </dl>
              {a.last_error && <p className="error small">{a.last_error}</p>}
              <div className="row wrap">
                {a.profile_url && <a href={a.profile_url} target="_blank" rel="noreferrer">profile</a>}
                <span className="spacer" />
                {a.source !== "env" && <button className="secondary" onClick={() => void act(a, "sync")}>Sync</button>}
                {a.status !== "disconnecting" && (
                  <button className="secondary" onClick={() => void pauseOrResume(a)} data-testid={a.paused ? "resume" : "pause"}>
                    {a.paused ? "Resume" : "Pause"}
                  </button>
                )}
                {(a.status === "needs_reauth" || a.status === "expiring") && <button onClick={() => reconnect(a)}>Reconnect</button>}
                {a.status !== "disconnecting" && a.source !== "env" && (
                  <button className="danger" onClick={() => void act(a, "disconnect")} data-testid="disconnect">Disconnect</button>
                )}
              </div>
            </article>
          ))}
        </div>
      </section>
    </div>
  );
}

function label(platform: string): string {
  const names: Record<string, string> = { x: "X", linkedin: "LinkedIn", youtube: "YouTube", tiktok: "TikTok" };
  return names[platform] ?? platform.charAt(0).toUpperCase() + platform.slice(1);
}

function NotConfigured({ platforms }: { platforms: PlatformInfo[] }) {
  const off = platforms.filter((p) => !p.configured).map((p) => label(p.platform));
  if (off.length === 0) return null;
  return <p className="muted small">Not configured on this deployment: {off.join(", ")}.</p>;
}

function BlueskyForm({ onConnect }: { onConnect: (body: { identifier: string; app_password: string; service?: string }) => Promise<void> }) {
  const [identifier, setIdentifier] = useState("");
  const [password, setPassword] = useState("");
  const [service, setService] = useState("");
  async function submit(event: FormEvent) {
    event.preventDefault();
    await onConnect({ identifier, app_password: password, ...(service ? { service } : {}) });
    setPassword("");
  }
  return (
    <form className="subcard" onSubmit={submit}>
      <h3>Bluesky</h3>
      <input placeholder="handle or email" value={identifier} onChange={(e) => setIdentifier(e.target.value)} required />
      <input placeholder="app password (Settings → App passwords)" type="password" value={password} onChange={(e) => setPassword(e.target.value)} required />
      <input placeholder="PDS (default https://bsky.social)" value={service} onChange={(e) => setService(e.target.value)} />
      <button type="submit">Connect Bluesky</button>
    </form>
  );
}

function MastodonForm({ onConnect }: { onConnect: (body: { instance: string }) => Promise<void> }) {
  const [instance, setInstance] = useState("mastodon.social");
  return (
    <form className="subcard" onSubmit={(e) => { e.preventDefault(); void onConnect({ instance }); }}>
      <h3>Mastodon</h3>
      <input placeholder="instance, e.g. mastodon.social" value={instance} onChange={(e) => setInstance(e.target.value)} required />
      <button type="submit">Connect Mastodon</button>
    </form>
  );
}
