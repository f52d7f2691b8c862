"use client";
/** The signed-in user, their token and the API client, for every page. */
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import type { PostbridgeClient } from "@postbridge/client";

import { clientFor, loadSession, saveSession, type Session } from "@/lib/client";

interface SessionState {
  ready: boolean;
  session: Session | null;
  client: PostbridgeClient | null;
  signIn: (user: string) => Promise<void>;
  signOut: () => void;
}

const Context = createContext<SessionState | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<Session | null>(null);
  const [ready, setReady] = useState(false);
  useEffect(() => {
    setSession(loadSession());
    setReady(true);
  }, []);
  const signIn = useCallback(async (user: string) => {
    const response = await fetch("/api/dev-session", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ user }),
    });
    const body = (await response.json()) as { user?: string; token?: string; error?: { message: string } };
    if (!response.ok || !body.token || !body.user) {
      throw new Error(body.error?.message ?? `sign-in failed (${response.status})`);
    }
    const next = { user: body.user, token: body.token };
    saveSession(next);
    setSession(next);
  }, []);
  const signOut = useCallback(() => {
    saveSession(null);
    setSession(null);
  }, []);
  const client = useMemo(() => (session ? clientFor(session) : null), [session]);
  return <Context.Provider value={{ ready, session, client, signIn, signOut }}>{children}</Context.Provider>;
}

export function useSession(): SessionState {
  const state = useContext(Context);
  if (!state) throw new Error("useSession outside SessionProvider");
  return state;
}
