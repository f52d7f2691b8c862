"use client";
/** Navigation and the sign-in gate around every page. */
import Link from "next/link";
import { usePathname } from "next/navigation";
import { useState, type FormEvent, type ReactNode } from "react";

import { useSession } from "@/app/session";

const LINKS = [
  { href: "/", label: "Accounts" },
  { href: "/compose", label: "Compose" },
  { href: "/posts", label: "Posts" },
  { href: "/drafts", label: "Drafts" },
  { href: "/templates", label: "Templates" },
  { href: "/analytics", label: "Analytics" },
];

export function Shell({ children }: { children: ReactNode }) {
  const { ready, session, signOut } = useSession();
  const pathname = usePathname();
  return (
    <div className="shell">
      <header className="topbar">
        <strong className="brand">Postbridge</strong>
        {session && (
          <nav>
            {LINKS.map((l) => (
              <Link key={l.href} href={l.href} className={pathname === l.href ? "active" : ""} data-testid={`nav-${l.label.toLowerCase()}`}>
                {l.label}
              </Link>
            ))}
          </nav>
        )}
        <span className="spacer" />
        {session && (
          <span className="who">
            signed in as <b data-testid="signed-in-user">{session.user}</b>{" "}
            <button className="link" onClick={signOut}>sign out</button>
          </span>
        )}
      </header>
      <main>{!ready ? <p className="muted">Loading…</p> : session ? children : <SignIn />}</main>
    </div>
  );
}

function SignIn() {
  const { signIn } = useSession();
  const [user, setUser] = useState("alice");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn(user);
    } catch (err) {
      setError(String(err instanceof Error ? err.message : err));
    } finally {
      setBusy(false);
    }
  }
  return (
    <form className="card narrow" onSubmit={submit} data-testid="sign-in-form">
      <h1>Sign in</h1>
      <p className="muted">Development sign-in: any user name gets a token, as <code>make token USER=…</code> prints.</p>
      <label>
        User
        <input value={user} onChange={(e) => setUser(e.target.value)} name="user" data-testid="sign-in-user" />
      </label>
      <button type="submit" disabled={busy} data-testid="sign-in-submit">{busy ? "Signing in…" : "Sign in"}</button>
      {error && <p className="error">{error}</p>}
    </form>
  );
}
