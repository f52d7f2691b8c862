"use client";
/**
 * Posts: the list (newest first, filterable by status) and a week view of what is scheduled.
 * Each post shows its targets with status, platform link and, opened, the attempt log;
 * cancel, reschedule and retry act on it. The page refreshes every 2 s while anything is
 * still on its way.
 */
import { useEffect, useState } from "react";
import { unwrap, type Post, type PostStatus } from "@postbridge/client";

import { useSession } from "../session";
import { describe, useLoad } from "@/lib/hooks";

const STATUSES: PostStatus[] = ["scheduled", "publishing", "published", "partially_failed", "failed", "canceled"];

export default function PostsPage() {
  const { client } = useSession();
  const [status, setStatus] = useState<PostStatus | "">("");
  const [view, setView] = useState<"list" | "week">("list");
  const posts = useLoad(
    client
      ? async () => unwrap(await client.GET("/v1/posts", { params: { query: { limit: 100, ...(status ? { status } : {}) } } })).items
      : null,
    [client, status],
  );
  const pending = (posts.data ?? []).some((p) => p.status === "scheduled" || p.status === "publishing");
  useEffect(() => {
    if (!pending) return;
    const timer = setInterval(() => void posts.reload(), 2000);
    return () => clearInterval(timer);
  }, [pending, posts]);

  if (!client) return null;
  return (
    <div className="stack">
      <div className="row wrap">
        <h2>Posts</h2>
        <span className="spacer" />
        <select value={status} onChange={(e) => setStatus(e.target.value as PostStatus | "")}>
          <option value="">every status</option>
          {STATUSES.map((s) => <option key={s} value={s}>{s}</option>)}
        </select>
        <button className={view === "list" ? "" : "secondary"} onClick={() => setView("list")}>List</button>
        <button className={view === "week" ? "" : "secondary"} onClick={() => setView("week")} data-testid="week-view">Week</button>
      </div>
      {posts.error && <p className="error">{posts.error}</p>}
      {view === "week" ? (
        <Week posts={posts.data ?? []} />
      ) : (
        <div className="stack" data-testid="posts">
          {(posts.data ?? []).length === 0 && <p className="muted">No posts yet.</p>}
          {(posts.data ?? []).map((p) => <PostCard key={p.id} post={p} onChange={() => void posts.reload()} />)}
        </div>
      )}
    </div>
  );
}

function when(post: Post): Date {
  return new Date(post.scheduled_at ?? post.created_at);
}

function Week({ posts }: { posts: Post[] }) {
  const [offset, setOffset] = useState(0);
  const start = new Date();
  start.setHours(0, 0, 0, 0);
  start.setDate(start.getDate() - ((start.getDay() + 6) % 7) + offset * 7);
  const days = Array.from({ length: 7 }, (_, i) => {
    const d = new Date(start);
    d.setDate(start.getDate() + i);
    return d;
  });
  return (
    <div className="stack">
      <div className="row">
        <button className="secondary" onClick={() => setOffset(offset - 1)}>← previous week</button>
        <b>Week of {start.toLocaleDateString()}</b>
        <button className="secondary" onClick={() => setOffset(offset + 1)}>next week →</button>
      </div>
      <div className="week">
        {days.map((d) => {
          const todays = posts
            .filter((p) => when(p).toDateString() === d.toDateString())
            .sort((a, b) => when(a).getTime() - when(b).getTime());
          return (
            <div key={d.toISOString()} className="day">
              <div className="day-head">{d.toLocaleDateString(undefined, { weekday: "short", day: "numeric", month: "short" })}</div>
              {todays.map((p) => (
                <div key={p.id} className={`slot ${p.status}`} title={p.text}>
                  <span>{when(p).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}</span> {p.text.slice(0, 40) || "(media)"}
                  <div className="small">{p.targets.map((t) => t.platform).join(", ")} · {p.status}</div>
                </div>
              ))}
            </div>
          );
        })}
      </div>
    </div>
  );
}

function PostCard({ post, onChange }: { post: Post; onChange: () => void }) {
  const { client } = useSession();
  const [detail, setDetail] = useState<Post | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [at, setAt] = useState("");
  const shown = detail ?? post;
  const waiting = shown.targets.every((t) => t.status === "scheduled");

  async function run(action: () => Promise<Post>) {
    setError(null);
    try {
      const next = await action();
      if (detail) setDetail(next);
      onChange();
    } catch (err) {
      setError(describe(err));
    }
  }
  const path = { params: { path: { id: post.id } } };
  return (
    <article className="card post" data-testid="post" data-status={post.status}>
      <div className="row">
        <span className={`badge ${post.status}`} data-testid="post-status">{post.status}</span>
        <span className="muted small">{post.scheduled_at ? `scheduled for ${new Date(post.scheduled_at).toLocaleString()}` : `sent ${new Date(post.created_at).toLocaleString()}`}</span>
        <span className="spacer" />
        {waiting && (
          <>
            <input type="datetime-local" step={1} value={at} onChange={(e) => setAt(e.target.value)} />
            <button className="secondary" disabled={!at} onClick={() => void run(async () => unwrap(await client!.PATCH("/v1/posts/{id}", { ...path, body: { scheduled_at: new Date(at).toISOString() } })))}>Reschedule</button>
          </>
        )}
        {shown.targets.some((t) => t.status === "scheduled") && (
          <button className="danger" onClick={() => void run(async () => unwrap(await client!.POST("/v1/posts/{id}/cancel", path)))}>Cancel</button>
        )}
        {shown.targets.some((t) => t.status === "failed") && (
          <button onClick={() => void run(async () => unwrap(await client!.POST("/v1/posts/{id}/retry", path)))}>Retry failed</button>
        )}
        <button className="link" onClick={() => void (detail ? setDetail(null) : run(async () => { const full = unwrap(await client!.GET("/v1/posts/{id}", path)); setDetail(full); return full; }))}>
          {detail ? "hide attempts" : "attempts"}
        </button>
      </div>
      <p className="post-text">{post.text}</p>
      <table className="targets">
        <tbody>
          {shown.targets.map((t) => (
            <tr key={t.id} data-testid="target" data-status={t.status}>
              <td>{t.platform}</td>
              <td><span className={`badge ${t.status}`}>{t.status}</span></td>
              <td>{t.url ? <a href={t.url} target="_blank" rel="noreferrer" data-testid="target-link">{t.url}</a> : t.published_at ? "published" : `due ${new Date(t.due_at).toLocaleTimeString()}`}</td>
              <td className="small">{t.error ? <span className="error">{t.error.code}: {t.error.message}</span> : `${t.attempts} attempt${t.attempts === 1 ? "" : "s"}`}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {detail && (
        <ol className="attempts small" data-testid="attempt-log">
          {detail.targets.flatMap((t) => (t.attempt_log ?? []).map((a) => (
            <li key={`${t.id}-${a.attempt_no}`}>
              {t.platform} #{a.attempt_no} {new Date(a.started_at).toLocaleTimeString()}: <b>{a.outcome}</b>
              {a.http_status ? ` (HTTP ${a.http_status})` : ""}{a.error_message ? ` — ${a.error_message}` : ""}
            </li>
          )))}
        </ol>
      )}
      {error && <p className="error small">{error}</p>}
    </article>
  );
}
