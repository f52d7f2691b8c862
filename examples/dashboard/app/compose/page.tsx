"use client";
/**
 * The composer: text with a counter per selected platform (counted that platform's way),
 * per-platform variants, media upload with previews and alt text, account selection,
 * publish now or at a time, and the 422's per-target problems shown next to each account.
 * A thread (more parts, each replying to the previous) and a first comment are offered only
 * when every chosen platform's `capabilities.follow_ups` says it can take them.
 * `?draft=<id>` starts from a draft; "Save draft" saves one.
 */
import { useEffect, useMemo, useState, type FormEvent } from "react";
import {
  PostbridgeError,
  createPost,
  newIdempotencyKey,
  unwrap,
  uploadMedia,
  type Media,
  type Platform,
  type TargetProblems,
  type Variant,
} from "@postbridge/client";

import { useSession } from "../session";
import { countText } from "@/lib/counting";
import { describe, useLoad } from "@/lib/hooks";

export default function ComposePage() {
  const { client } = useSession();
  const platforms = useLoad(client ? async () => unwrap(await client.GET("/v1/platforms")).items : null, [client]);
  const accounts = useLoad(
    client ? async () => unwrap(await client.GET("/v1/accounts", { params: { query: { limit: 100 } } })).items.filter((a) => a.status !== "disconnected" && a.status !== "disconnecting") : null,
    [client],
  );
  const [text, setText] = useState("");
  const [variants, setVariants] = useState<Partial<Record<Platform, string>>>({});
  const [parts, setParts] = useState<string[]>([]);
  const [firstComment, setFirstComment] = useState("");
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [media, setMedia] = useState<Media[]>([]);
  const [altText, setAltText] = useState("");
  const [uploading, setUploading] = useState(false);
  const [when, setWhen] = useState<"now" | "later">("now");
  const [at, setAt] = useState("");
  const [problems, setProblems] = useState<Map<string, TargetProblems>>(new Map());
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // One key per composed post: a retry of the same submission cannot publish twice.
  const [idempotencyKey, setIdempotencyKey] = useState(newIdempotencyKey);
  const [draftId, setDraftId] = useState<string | null>(null);

  // Start from a draft.
  useEffect(() => {
    if (!client) return;
    const id = new URLSearchParams(window.location.search).get("draft");
    if (!id) return;
    void (async () => {
      try {
        const draft = unwrap(await client.GET("/v1/drafts/{id}", { params: { path: { id } } }));
        setDraftId(draft.id);
        setText(draft.text);
        setSelected(new Set(draft.account_ids));
        const texts: Partial<Record<Platform, string>> = {};
        for (const [platform, v] of Object.entries(draft.variants as Record<string, Variant>)) {
          if (v.text) texts[platform as Platform] = v.text;
        }
        setVariants(texts);
        setMedia(await Promise.all(draft.media_ids.map(async (m) => unwrap(await client.GET("/v1/media/{id}", { params: { path: { id: m } } })))));
      } catch (err) {
        setError(describe(err));
      }
    })();
  }, [client]);

  const info = useMemo(() => new Map((platforms.data ?? []).map((p) => [p.platform, p])), [platforms.data]);
  const chosen = (accounts.data ?? []).filter((a) => selected.has(a.id));
  const chosenPlatforms = [...new Set(chosen.map((a) => a.platform))];
  const without = (what: "threads" | "first_comment") =>
    chosenPlatforms.filter((p) => info.get(p)?.capabilities.follow_ups[what] !== true);
  const noThreads = without("threads");
  const noComment = without("first_comment");
  const threadsOffered = chosenPlatforms.length > 0 && noThreads.length === 0;
  const commentOffered = chosenPlatforms.length > 0 && noComment.length === 0;
  const sentParts = threadsOffered ? parts.filter((p) => p.trim() !== "") : [];
  const sentComment = commentOffered && firstComment.trim() !== "" ? firstComment : null;

  if (!client) return null;

  function toggle(id: string) {
    const next = new Set(selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setSelected(next);
  }

  async function upload(files: FileList | null) {
    const file = files?.[0];
    if (!file) return;
    setUploading(true);
    setError(null);
    try {
      const stored = await uploadMedia(client!, file, { altText, filename: file.name });
      setMedia((m) => [...m, stored]);
      setAltText("");
    } catch (err) {
      setError(describe(err));
    } finally {
      setUploading(false);
    }
  }

  function variantBodies(): Record<string, Variant> | undefined {
    const entries = Object.entries(variants).filter(([, v]) => v && v.trim() !== "");
    return entries.length ? Object.fromEntries(entries.map(([p, v]) => [p, { text: v }])) : undefined;
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setResult(null);
    setProblems(new Map());
    try {
      const { post, replayed } = await createPost(
        client!,
        {
          text,
          account_ids: [...selected],
          media_ids: media.map((m) => m.id),
          variants: variantBodies(),
          ...(sentParts.length ? { parts: sentParts.map((t) => ({ text: t })) } : {}),
          ...(sentComment ? { first_comment: sentComment } : {}),
          scheduled_at: when === "later" && at ? new Date(at).toISOString() : null,
        },
        idempotencyKey,
      );
      setResult(`${replayed ? "Already accepted" : "Accepted"}: post ${post.id} is ${post.status}.`);
      setText("");
      setVariants({});
      setParts([]);
      setFirstComment("");
      setMedia([]);
      setIdempotencyKey(newIdempotencyKey());
    } catch (err) {
      if (err instanceof PostbridgeError && err.status === 422) setProblems(err.targetProblems());
      setError(describe(err));
    } finally {
      setBusy(false);
    }
  }

  async function saveDraft() {
    setError(null);
    try {
      const body = { text, account_ids: [...selected], media_ids: media.map((m) => m.id), variants: variantBodies() ?? {} };
      const draft = draftId
        ? unwrap(await client!.PATCH("/v1/drafts/{id}", { params: { path: { id: draftId } }, body }))
        : unwrap(await client!.POST("/v1/drafts", { body }));
      setDraftId(draft.id);
      setResult(`Draft ${draft.id} saved.`);
    } catch (err) {
      setError(describe(err));
    }
  }

  return (
    <form className="stack" onSubmit={submit} data-testid="composer">
      <section className="card">
        <h2>Compose{draftId ? " (from a draft)" : ""}</h2>
        <textarea rows={5} value={text} onChange={(e) => setText(e.target.value)} placeholder="What do you want to say?" data-testid="compose-text" />
        <div className="row wrap counters" data-testid="counters">
          {chosenPlatforms.map((p) => {
            const pinfo = info.get(p);
            if (!pinfo) return null;
            const body = variants[p] ?? text;
            const used = countText(body, pinfo.capabilities.text_counting);
            const limit = pinfo.capabilities.text_limit;
            return (
              <span key={p} className={`counter ${used > limit ? "over" : ""}`} data-testid={`counter-${p}`}>
                {p}: {used}/{limit}
              </span>
            );
          })}
          {chosenPlatforms.length === 0 && <span className="muted small">Pick accounts to see each platform&apos;s count.</span>}
        </div>
        {chosenPlatforms.map((p) => (
          <details key={p} className="variant" open={variants[p] !== undefined}>
            <summary>Different text for {p}</summary>
            <textarea rows={3} value={variants[p] ?? ""} onChange={(e) => setVariants({ ...variants, [p]: e.target.value })} placeholder={`Text for ${p} only (empty: the text above)`} />
          </details>
        ))}
      </section>

      <section className="card" data-testid="follow-ups">
        <h3>Thread and first comment</h3>
        {chosenPlatforms.length === 0 && <p className="muted small">Pick accounts to see what their platforms allow.</p>}
        {chosenPlatforms.length > 0 && !threadsOffered && (
          <p className="muted small">A thread is not possible on {noThreads.join(", ")}.</p>
        )}
        {threadsOffered && (
          <div>
            {parts.map((part, i) => {
              const over = chosenPlatforms.filter((p) => {
                const c = info.get(p)?.capabilities;
                return c ? countText(part, c.text_counting) > c.text_limit : false;
              });
              return (
                <div key={i} className="part-input">
                  <textarea rows={2} value={part} onChange={(e) => setParts(parts.map((x, j) => (j === i ? e.target.value : x)))} placeholder={`Part ${i + 2}: replies to part ${i + 1}`} data-testid="thread-part" />
                  <button type="button" className="link" onClick={() => setParts(parts.filter((_, j) => j !== i))}>remove</button>
                  {over.length > 0 && <span className="error small">too long for {over.join(", ")}</span>}
                </div>
              );
            })}
            <button type="button" className="secondary" onClick={() => setParts([...parts, ""])} data-testid="add-part">Add a thread part</button>
          </div>
        )}
        {chosenPlatforms.length > 0 && !commentOffered && (
          <p className="muted small">A first comment is not possible on {noComment.join(", ")}.</p>
        )}
        {commentOffered && (
          <label className="variant">
            First comment (posted under the post right after it{parts.length ? " and its parts" : ""})
            <textarea rows={2} value={firstComment} onChange={(e) => setFirstComment(e.target.value)} placeholder="optional" data-testid="first-comment" />
          </label>
        )}
      </section>

      <section className="card">
        <h3>Media</h3>
        <div className="row wrap">
          <input placeholder="alt text (describe the image)" value={altText} onChange={(e) => setAltText(e.target.value)} data-testid="alt-text" />
          <input type="file" accept="image/*,video/mp4,video/quicktime" onChange={(e) => void upload(e.target.files)} disabled={uploading} data-testid="media-file" />
          {uploading && <span className="muted">Uploading…</span>}
        </div>
        <div className="row wrap previews" data-testid="previews">
          {media.map((m) => (
            <figure key={m.id} className="preview" data-testid="preview">
              {m.mime_type.startsWith("image/") ? <img src={m.url} alt={m.alt_text ?? ""} /> : <video src={m.url} muted />}
              <figcaption>
                {m.alt_text ? `“${m.alt_text}”` : <i>no alt text</i>} · {m.width}×{m.height}
                <button type="button" className="link" onClick={() => setMedia(media.filter((x) => x.id !== m.id))}>remove</button>
              </figcaption>
            </figure>
          ))}
        </div>
      </section>

      <section className="card">
        <h3>Accounts</h3>
        {(accounts.data ?? []).length === 0 && <p className="muted">Connect an account first.</p>}
        {(accounts.data ?? []).map((a) => {
          const trouble = problems.get(a.id);
          return (
            <div key={a.id} className="target-choice">
              <label className="row">
                <input type="checkbox" checked={selected.has(a.id)} onChange={() => toggle(a.id)} data-testid="choose-account" data-platform={a.platform} />
                {a.avatar_url && <img className="avatar small" src={a.avatar_url} alt="" />}
                {a.display_name ?? a.platform_account_id} <span className="muted">({a.platform})</span>
              </label>
              {trouble && (
                <ul className="error small" data-testid="target-problems">
                  {trouble.problems.map((p, i) => <li key={i}>{p.message} <code>{p.code}</code></li>)}
                </ul>
              )}
            </div>
          );
        })}
      </section>

      <section className="card">
        <div className="row wrap">
          <label className="row"><input type="radio" checked={when === "now"} onChange={() => setWhen("now")} /> Publish now</label>
          <label className="row"><input type="radio" checked={when === "later"} onChange={() => setWhen("later")} data-testid="schedule-later" /> Schedule</label>
          {when === "later" && <input type="datetime-local" step={1} value={at} onChange={(e) => setAt(e.target.value)} data-testid="schedule-at" />}
          <span className="spacer" />
          <button type="button" className="secondary" onClick={() => void saveDraft()}>Save draft</button>
          <button type="submit" disabled={busy || selected.size === 0} data-testid="submit-post">{when === "now" ? "Publish" : "Schedule"}</button>
        </div>
        {result && <p className="notice" data-testid="compose-result">{result}</p>}
        {error && <p className="error" data-testid="compose-error">{error}</p>}
      </section>
    </form>
  );
}
