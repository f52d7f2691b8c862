"use client";
/**
 * Analytics: engagement of the posts published in a range (`GET /v1/analytics`), per platform
 * and per account, with each platform's top posts; and one post's series per target
 * (`GET /v1/posts/{id}/metrics`) as plain SVG bars, with "read now"
 * (`POST /v1/posts/{id}/metrics/refresh`). Figures a platform does not give show as "–", never
 * as 0. `?post=<id>` opens a post's series (the Posts page links here).
 */
import { useEffect, useMemo, useState } from "react";
import {
  FIGURE_NAMES,
  getAccountMetrics,
  getAnalytics,
  getPostMetrics,
  lastDays,
  refreshAndWait,
  seriesOf,
  unwrap,
  type Account,
  type FigureName,
  type Figures,
  type Platform,
  type PostMetrics,
  type TargetMetrics,
  type TopPost,
} from "@postbridge/client";

import { useSession } from "../session";
import { describe, useLoad } from "@/lib/hooks";

const RANGES = [
  { days: 1, label: "last 24 hours" },
  { days: 7, label: "last 7 days" },
  { days: 30, label: "last 30 days" },
  { days: 90, label: "last 90 days" },
];

/** A figure as the platform gave it; `null` (not given) is not zero. */
function fig(value: number | null | undefined): string {
  return value == null ? "–" : value.toLocaleString();
}

export default function AnalyticsPage() {
  const { client } = useSession();
  const [days, setDays] = useState(30);
  const [platform, setPlatform] = useState<Platform | "">("");
  const [postId, setPostId] = useState<string | null>(null);
  const platforms = useLoad(client ? async () => unwrap(await client.GET("/v1/platforms")).items : null, [client]);
  const accounts = useLoad(
    client ? async () => unwrap(await client.GET("/v1/accounts", { params: { query: { limit: 100 } } })).items : null,
    [client],
  );
  const overview = useLoad(
    client ? async () => getAnalytics(client, lastDays(days), platform || undefined) : null,
    [client, days, platform],
  );
  const names = useMemo(() => new Map((accounts.data ?? []).map((a: Account) => [a.id, a.display_name ?? a.handle ?? a.platform_account_id])), [accounts.data]);

  useEffect(() => {
    setPostId(new URLSearchParams(window.location.search).get("post"));
  }, []);
  function open(id: string | null) {
    setPostId(id);
    window.history.replaceState(null, "", id ? `/analytics?post=${id}` : "/analytics");
  }

  if (!client) return null;
  const data = overview.data;
  return (
    <div className="stack" data-testid="analytics">
      <div className="row wrap">
        <h2>Analytics</h2>
        <span className="spacer" />
        <select value={days} onChange={(e) => setDays(Number(e.target.value))} data-testid="analytics-range">
          {RANGES.map((r) => <option key={r.days} value={r.days}>{r.label}</option>)}
        </select>
        <select value={platform} onChange={(e) => setPlatform(e.target.value as Platform | "")}>
          <option value="">every platform</option>
          {(platforms.data ?? []).filter((p) => p.capabilities.follow_ups.metrics).map((p) => <option key={p.platform} value={p.platform}>{p.platform}</option>)}
        </select>
        <button className="secondary" onClick={() => void overview.reload()} data-testid="analytics-reload">Reload</button>
      </div>
      {(overview.error ?? accounts.error) && <p className="error">{overview.error ?? accounts.error}</p>}
      {postId && <PostSeries postId={postId} names={names} onClose={() => open(null)} />}
      {data && data.platforms.length === 0 && (
        <p className="muted" data-testid="analytics-empty">
          No engagement read yet for posts published between {new Date(data.from).toLocaleString()} and {new Date(data.to).toLocaleString()}.
          The first read comes on the publisher&apos;s schedule after publishing, or now with &ldquo;read now&rdquo; on a post.
        </p>
      )}
      {data?.platforms.map((p) => (
        <section key={p.platform} className="card" data-testid="platform-analytics" data-platform={p.platform}>
          <div className="row">
            <h3>{p.platform}</h3>
            <span className="muted small">{p.posts} post{p.posts === 1 ? "" : "s"} with figures</span>
          </div>
          <FigureGrid figures={p.totals} testPrefix="total" />
          <h4>Accounts</h4>
          <table className="table" data-testid="account-analytics">
            <thead>
              <tr><th>account</th><th className="num">posts</th><th className="num">likes</th><th className="num">replies</th><th className="num">reposts</th><th className="num">impressions</th><th>followers in range</th></tr>
            </thead>
            <tbody>
              {p.accounts.map((a) => (
                <tr key={a.account_id}>
                  <td>{names.get(a.account_id) ?? a.account_id}</td>
                  <td className="num">{a.posts}</td>
                  <td className="num">{fig(a.totals.likes)}</td>
                  <td className="num">{fig(a.totals.replies)}</td>
                  <td className="num">{fig(a.totals.reposts)}</td>
                  <td className="num">{fig(a.totals.impressions)}</td>
                  <td><Followers accountId={a.account_id} days={days} /></td>
                </tr>
              ))}
            </tbody>
          </table>
          <h4>Top posts</h4>
          <TopPosts posts={p.top_posts} names={names} onOpen={open} />
        </section>
      ))}
    </div>
  );
}

/** An account's followers at each sync in the range (`GET /v1/accounts/{id}/metrics`): a sparkline and the change. */
function Followers({ accountId, days }: { accountId: string; days: number }) {
  const { client } = useSession();
  const series = useLoad(client ? async () => (await getAccountMetrics(client, accountId, lastDays(days))).series : null, [client, accountId, days]);
  const points = (series.data ?? []).flatMap((s) => (s.followers == null ? [] : [s.followers]));
  if (series.error) return <span className="error small">{series.error}</span>;
  if (points.length === 0) return <span className="muted small">–</span>;
  const first = points[0]!;
  const last = points[points.length - 1]!;
  const lo = Math.min(...points);
  const span = Math.max(1, Math.max(...points) - lo);
  const path = points.map((v, i) => `${points.length === 1 ? 50 : (i / (points.length - 1)) * 100},${18 - ((v - lo) / span) * 16}`).join(" ");
  return (
    <span className="row small" data-testid="account-followers" data-syncs={points.length}>
      <svg viewBox="0 0 100 20" width={80} height={18} aria-hidden="true">
        <polyline points={path} fill="none" stroke="currentColor" strokeWidth={2} />
      </svg>
      {last.toLocaleString()} ({last - first >= 0 ? "+" : ""}{(last - first).toLocaleString()}, {points.length} sync{points.length === 1 ? "" : "s"})
    </span>
  );
}

function FigureGrid({ figures, testPrefix }: { figures: Figures; testPrefix: string }) {
  return (
    <dl className="figures">
      {FIGURE_NAMES.map((name) => (
        <div key={name} className="figure">
          <dt>{name}</dt>
          <dd data-testid={`${testPrefix}-${name}`}>{fig(figures[name])}</dd>
        </div>
      ))}
    </dl>
  );
}

/** The best posts by interactions, each with a bar relative to the best. */
function TopPosts({ posts, names, onOpen }: { posts: TopPost[]; names: Map<string, string>; onOpen: (id: string) => void }) {
  const best = Math.max(1, ...posts.map((p) => p.interactions));
  return (
    <table className="table">
      <thead>
        <tr><th>published</th><th>account</th><th>interactions</th><th className="num">likes</th><th className="num">replies</th><th className="num">reposts</th><th className="num">impressions</th><th /></tr>
      </thead>
      <tbody>
        {posts.map((t) => (
          <tr key={t.target_id} data-testid="top-post">
            <td>{new Date(t.published_at).toLocaleString()}</td>
            <td>{names.get(t.account_id) ?? t.account_id}</td>
            <td style={{ width: "25%" }}>
              <div className="row">
                <div className="hbar" style={{ width: `${(t.interactions / best) * 100}%` }} />
                <span className="small">{t.interactions}</span>
              </div>
            </td>
            <td className="num">{fig(t.likes)}</td>
            <td className="num">{fig(t.replies)}</td>
            <td className="num">{fig(t.reposts)}</td>
            <td className="num">{fig(t.impressions)}</td>
            <td>
              <button className="link" onClick={() => onOpen(t.post_id)} data-testid="open-series">series</button>
              {t.url && <a href={t.url} target="_blank" rel="noreferrer" className="small">view</a>}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** One post's engagement per target over its reads, with "read now". */
function PostSeries({ postId, names, onClose }: { postId: string; names: Map<string, string>; onClose: () => void }) {
  const { client } = useSession();
  const [figure, setFigure] = useState<FigureName>("likes");
  const [metrics, setMetrics] = useState<PostMetrics | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!client) return;
    let live = true;
    getPostMetrics(client, postId)
      .then((m) => live && setMetrics(m))
      .catch((err) => live && setError(describe(err)));
    return () => {
      live = false;
    };
  }, [client, postId]);

  async function readNow() {
    setBusy(true);
    setError(null);
    try {
      setMetrics(await refreshAndWait(client!, postId, { timeoutMs: 20_000 }));
    } catch (err) {
      setError(describe(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card" data-testid="post-series">
      <div className="row wrap">
        <h3>Post {postId.slice(0, 8)}…</h3>
        <span className="spacer" />
        <select value={figure} onChange={(e) => setFigure(e.target.value as FigureName)} data-testid="series-figure">
          {FIGURE_NAMES.map((f) => <option key={f} value={f}>{f}</option>)}
        </select>
        <button onClick={() => void readNow()} disabled={busy} data-testid="refresh-metrics">{busy ? "Reading…" : "Read now"}</button>
        <button className="link" onClick={onClose}>close</button>
      </div>
      {error && <p className="error small">{error}</p>}
      {metrics?.targets.map((t) => <TargetSeries key={t.target_id} target={t} figure={figure} name={names.get(t.account_id) ?? t.account_id} />)}
    </section>
  );
}

function TargetSeries({ target, figure, name }: { target: TargetMetrics; figure: FigureName; name: string }) {
  const points = seriesOf(target, figure);
  return (
    <div className="stack" data-testid="target-series" data-platform={target.platform} data-reads={target.series.length}>
      <div className="row wrap small">
        <b>{target.platform}</b> · {name}
        {target.url && <a href={target.url} target="_blank" rel="noreferrer">view</a>}
        <span className="spacer" />
        <span className="muted">
          {target.series.length} read{target.series.length === 1 ? "" : "s"}
          {target.next_read_at ? ` · next ${new Date(target.next_read_at).toLocaleString()}` : target.published_at ? " · no read scheduled" : " · not published"}
        </span>
      </div>
      {target.latest && <FigureGrid figures={target.latest.figures} testPrefix={`latest-${target.platform}`} />}
      {target.series.length > 0 && points.length === 0 && <p className="muted small">{target.platform} gives no {figure}.</p>}
      {points.length > 0 && <Bars points={points} label={figure} />}
    </div>
  );
}

/** A bar per read, heights relative to the largest; plain SVG, no chart library. */
function Bars({ points, label }: { points: { at: Date; value: number }[]; label: string }) {
  const width = 1000;
  const height = 200;
  const pad = { top: 16, bottom: 18, left: 6, right: 6 };
  const max = Math.max(1, ...points.map((p) => p.value));
  const slot = (width - pad.left - pad.right) / points.length;
  const bar = Math.max(2, Math.min(40, slot * 0.7));
  const inner = height - pad.top - pad.bottom;
  const first = points[0]!;
  const last = points[points.length - 1]!;
  return (
    <svg className="chart" viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`${label} at each read`} data-testid="series-chart">
      <text x={pad.left} y={11}>{label}: max {max.toLocaleString()}</text>
      {points.map((p, i) => {
        const h = (p.value / max) * inner;
        return (
          <rect key={i} x={pad.left + i * slot + (slot - bar) / 2} y={pad.top + inner - h} width={bar} height={Math.max(h, 1)} data-testid="series-bar" data-value={p.value}>
            <title>{`${p.at.toLocaleString()}: ${p.value.toLocaleString()}`}</title>
          </rect>
        );
      })}
      <text x={pad.left} y={height - 4}>{first.at.toLocaleTimeString()}</text>
      {points.length > 1 && <text x={width - pad.right} y={height - 4} textAnchor="end">{last.at.toLocaleTimeString()}</text>}
    </svg>
  );
}
