"use client";
/**
 * Templates: a base text with `{placeholders}` (`{{` and `}}` for literal braces); create, delete,
 * and make a draft from one with a value per placeholder. A placeholder left without a value
 * is the API's 422 `missing_values`, shown naming each. The draft opens in the composer.
 */
import Link from "next/link";
import { useState, type FormEvent } from "react";
import { PostbridgeError, draftFromTemplate, unwrap, type Draft, type Template } from "@postbridge/client";

import { useSession } from "../session";
import { describe, useLoad } from "@/lib/hooks";

export default function TemplatesPage() {
  const { client } = useSession();
  const templates = useLoad(client ? async () => unwrap(await client.GET("/v1/templates", { params: { query: { limit: 100 } } })).items : null, [client]);
  const [name, setName] = useState("");
  const [text, setText] = useState("");
  const [error, setError] = useState<string | null>(null);
  if (!client) return null;

  async function create(event: FormEvent) {
    event.preventDefault();
    setError(null);
    try {
      unwrap(await client!.POST("/v1/templates", { body: { name, text } }));
      setName("");
      setText("");
      await templates.reload();
    } catch (err) {
      setError(describe(err));
    }
  }
  return (
    <div className="stack" data-testid="templates">
      <h2>Templates</h2>
      <form className="card stack" onSubmit={create}>
        <input placeholder="name" value={name} onChange={(e) => setName(e.target.value)} required data-testid="template-name" />
        <textarea rows={3} placeholder="Text with {placeholders}, e.g. Our {product} ships on {date}!" value={text} onChange={(e) => setText(e.target.value)} data-testid="template-text" />
        <div className="row"><span className="spacer" /><button type="submit" data-testid="template-create">Create template</button></div>
      </form>
      {(error ?? templates.error) && <p className="error">{error ?? templates.error}</p>}
      {(templates.data ?? []).length === 0 && <p className="muted">No templates.</p>}
      {(templates.data ?? []).map((t) => <TemplateCard key={t.id} template={t} onChange={() => void templates.reload()} />)}
    </div>
  );
}

function TemplateCard({ template, onChange }: { template: Template; onChange: () => void }) {
  const { client } = useSession();
  const [values, setValues] = useState<Record<string, string>>({});
  const [draft, setDraft] = useState<Draft | null>(null);
  const [error, setError] = useState<string | null>(null);
  const variants = Object.keys(template.variants as object);

  async function makeDraft(event: FormEvent) {
    event.preventDefault();
    setError(null);
    setDraft(null);
    try {
      // Empty fields are left out, so the API names them as missing.
      const given = Object.fromEntries(Object.entries(values).filter(([, v]) => v !== ""));
      setDraft(await draftFromTemplate(client!, template.id, { values: given }));
    } catch (err) {
      const missing = err instanceof PostbridgeError ? err.missingValues() : [];
      setError(missing.length ? `Missing values: ${missing.join(", ")}` : describe(err));
    }
  }
  async function remove() {
    try {
      unwrap(await client!.DELETE("/v1/templates/{id}", { params: { path: { id: template.id } } }));
      onChange();
    } catch (err) {
      setError(describe(err));
    }
  }
  return (
    <article className="card stack" data-testid="template">
      <div className="row">
        <b>{template.name}</b>
        <span className="muted small">{variants.length ? `variants: ${variants.join(", ")}` : ""}</span>
        <span className="spacer" />
        <button className="danger" onClick={() => void remove()}>Delete</button>
      </div>
      <p className="post-text">{template.text}</p>
      <form className="row wrap" onSubmit={makeDraft}>
        {template.placeholders.map((p) => (
          <input key={p} placeholder={p} value={values[p] ?? ""} onChange={(e) => setValues({ ...values, [p]: e.target.value })} data-testid={`value-${p}`} />
        ))}
        <button type="submit" data-testid="draft-from-template">New draft from template</button>
      </form>
      {draft && (
        <p className="notice small" data-testid="template-draft">
          Draft created: “{draft.text}” <Link href={`/compose?draft=${draft.id}`}>open in the composer</Link>
        </p>
      )}
      {error && <p className="error small" data-testid="template-error">{error}</p>}
    </article>
  );
}
