"use client";
/**
 * Posts: the list (newest first, filterable by status) and a week view of what is scheduled.
 * Each post shows its targets with status, platform link and, opened, the attempt log;
 * cancel, reschedule and retry act on it; a published post can be deleted from its platforms
 * (after a confirmation), each target then showing its own outcome (deleted, or unsupported
 * with the platform's reason). A thread shows its parts per target. The page refreshes every
 * 2 s while anything is still on its way.
 */
import Link from "next/link";
import { useEffect, useState } from "react";
import { deletePost, deletionOutcomes, unwrap, type Post, type PostStatus } from "@postbridge/client";

import { useSession } from "../session";
import { describe, useLoad } from "@/lib/hooks";

const STATUSES: PostStatus[] = ["scheduled", "publishing", "published", "partially_failed", "failed", "canceled", "deleting", "deleted", "partially_deleted"];

/** Something about the post is still on its way (publishing or deleting). */
function underWay(post: Post): boolean {
  return post.status === "scheduled" || post.status === "publishing" || post.status === "deleting" || deletionOutcomes(post).some((o) => o.pending);
}

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
  const pending = (posts.data ?? []).some(underWay);
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
  const [confirming, setConfirming] = useState(false);
  const shown = detail ?? post;
  const waiting = shown.targets.every((t) => t.status === "scheduled");
  const published = shown.targets.filter((t) => t.status === "published" && !t.deletion);
  // The list refreshes while something is under way; an open attempt log follows it.
  const openId = detail?.id;
  useEffect(() => {
    if (!client || !openId) return;
    let live = true;
    void client.GET("/v1/posts/{id}", { params: { path: { id: openId } } }).then((r) => {
      if (live && r.data) setDetail(r.data);
    });
    return () => {
      live = false;
    };
  }, [client, openId, post.updated_at, post.status]);

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
        {published.length > 0 && !confirming && (
          <button className="danger" onClick={() => setConfirming(true)} data-testid="delete-post">Delete from platforms</button>
        )}
        {shown.targets.some((t) => t.published_at) && (
          <Link href={`/analytics?post=${post.id}`} className="small" data-testid="post-metrics-link">engagement</Link>
        )}
        {shown.targets.some((t) => t.status === "failed") && (
          <button onClick={() => void run(async () => unwrap(await client!.POST("/v1/posts/{id}/retry", path)))}>Retry failed</button>
        )}
        <button className="link" onClick={() => void (detail ? setDetail(null) : run(async () => { const full = unwrap(await client!.GET("/v1/posts/{id}", path)); setDetail(full); return full; }))}>
          {detail ? "hide attempts" : "attempts"}
        </button>
      </div>
      {confirming && (
        <div className="confirm row wrap" data-testid="confirm-delete">
          <span>
            Delete this post from {published.map((t) => t.platform).join(", ")}? It disappears there for everyone; platforms
            whose API cannot delete (e.g. Instagram, TikTok) keep it and say so below.
          </span>
          <span className="spacer" />
          <button className="secondary" onClick={() => setConfirming(false)}>Keep it</button>
          <button
            className="danger"
            data-testid="confirm-delete-yes"
            onClick={() => void run(async () => { setConfirming(false); return (await deletePost(client!, post.id)).post; })}
          >
            Delete
          </button>
        </div>
      )}
      <p className="post-text">{post.text}</p>
      <table className="targets">
        <tbody>
          {shown.targets.map((t) => (
            <tr key={t.id} data-testid="target" data-status={t.status}>
              <td>{t.platform}</td>
              <td><span className={`badge ${t.status}`}>{t.status}</span></td>
              <td>
                {t.url ? <a href={t.url} target="_blank" rel="noreferrer" data-testid="target-link">{t.url}</a> : t.published_at ? "published" : `due ${new Date(t.due_at).toLocaleTimeString()}`}
                {t.parts && t.parts.length > 0 && (
                  <ul className="parts" data-testid="target-parts">
                    {t.parts.map((p) => (
                      <li key={`${p.kind}-${p.position}`} data-status={p.status}>
                        {p.kind === "first_comment" ? "first comment" : `part ${p.position + 1} of ${t.parts!.filter((x) => x.kind !== "first_comment").length}`}: <span className={`badge ${p.status}`}>{p.status}</span>{" "}
                        {p.url && <a href={p.url} target="_blank" rel="noreferrer">link</a>}
                      </li>
                    ))}
                  </ul>
                )}
              </td>
              <td className="small">
                {t.deletion ? (
                  <span data-testid="deletion" data-status={t.deletion.status}>
                    delete: <span className={`badge ${t.deletion.status}`}>{t.deletion.status}</span>
                    {t.deletion.error && <span className="error"> {t.deletion.error.message}</span>}
                  </span>
                ) : t.error ? (
                  <span className="error">{t.error.code}: {t.error.message}</span>
                ) : (
                  `${t.attempts} attempt${t.attempts === 1 ? "" : "s"}`
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {detail && (
        <ol className="attempts small" data-testid="attempt-log">
          {detail.targets.flatMap((t) => (t.attempt_log ?? []).map((a) => (
            <li key={`${t.id}-${a.attempt_no}`}>
              {t.platform} {a.kind === "delete" ? "delete " : ""}#{a.attempt_no} {new Date(a.started_at).toLocaleTimeString()}: <b>{a.outcome}</b>
              {a.http_status ? ` (HTTP ${a.http_status})` : ""}{a.error_message ? ` — ${a.error_message}` : ""}
            </li>
          )))}
        </ol>
      )}
      {error && <p className="error small">{error}</p>}
    </article>
  );
}
