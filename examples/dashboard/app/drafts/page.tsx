"use client";
/** Drafts: edit the text in place, open one in the composer (to pick media, accounts, a time), delete. */
import Link from "next/link";
import { useState } from "react";
import { unwrap, type Draft } from "@postbridge/client";

import { useSession } from "../session";
import { describe, useLoad } from "@/lib/hooks";

export default function DraftsPage() {
  const { client } = useSession();
  const drafts = useLoad(client ? async () => unwrap(await client.GET("/v1/drafts", { params: { query: { limit: 100 } } })).items : null, [client]);
  const [error, setError] = useState<string | null>(null);
  if (!client) return null;

  async function create() {
    try {
      unwrap(await client!.POST("/v1/drafts", { body: { text: "" } }));
      await drafts.reload();
    } catch (err) {
      setError(describe(err));
    }
  }
  return (
    <div className="stack">
      <div className="row"><h2>Drafts</h2><span className="spacer" /><button onClick={() => void create()}>New draft</button></div>
      {(error ?? drafts.error) && <p className="error">{error ?? drafts.error}</p>}
      {(drafts.data ?? []).length === 0 && <p className="muted">No drafts.</p>}
      {(drafts.data ?? []).map((d) => <DraftCard key={d.id} draft={d} onChange={() => void drafts.reload()} onError={setError} />)}
    </div>
  );
}

function DraftCard({ draft, onChange, onError }: { draft: Draft; onChange: () => void; onError: (e: string) => void }) {
  const { client } = useSession();
  const [text, setText] = useState(draft.text);
  const path = { params: { path: { id: draft.id } } };
  async function save() {
    try {
      unwrap(await client!.PATCH("/v1/drafts/{id}", { ...path, body: { text } }));
      onChange();
    } catch (err) {
      onError(describe(err));
    }
  }
  async function remove() {
    try {
      unwrap(await client!.DELETE("/v1/drafts/{id}", path));
      onChange();
    } catch (err) {
      onError(describe(err));
    }
  }
  return (
    <article className="card">
      <textarea rows={3} value={text} onChange={(e) => setText(e.target.value)} />
      <div className="row">
        <span className="muted small">
          edited {new Date(draft.updated_at).toLocaleString()} · {draft.media_ids.length} media · {draft.account_ids.length} accounts
          {Object.keys(draft.variants as object).length ? ` · variants: ${Object.keys(draft.variants as object).join(", ")}` : ""}
        </span>
        <span className="spacer" />
        <button className="secondary" onClick={() => void save()} disabled={text === draft.text}>Save</button>
        <Link className="button" href={`/compose?draft=${draft.id}`}>Open in composer</Link>
        <button className="danger" onClick={() => void remove()}>Delete</button>
      </div>
    </article>
  );
}
