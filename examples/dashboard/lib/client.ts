/**
 * The one way this dashboard talks to Postbridge: the typed client of clients/typescript,
 * with the signed-in user's token. The gateway is called from the browser (CORS allows
 * http://localhost:3000 in development).
 */
import { createPostbridgeClient, type PostbridgeClient } from "@postbridge/client";

/** The gateway; `NEXT_PUBLIC_POSTBRIDGE_API_URL` overrides it at build time. */
export const API_URL = process.env.NEXT_PUBLIC_POSTBRIDGE_API_URL ?? "http://127.0.0.1:8080";

const TOKEN_KEY = "postbridge.token";
const USER_KEY = "postbridge.user";

export interface Session {
  user: string;
  token: string;
}

export function loadSession(): Session | null {
  if (typeof window === "undefined") return null;
  const token = window.localStorage.getItem(TOKEN_KEY);
  const user = window.localStorage.getItem(USER_KEY);
  return token && user ? { token, user } : null;
}

export function saveSession(session: Session | null): void {
  if (session) {
    window.localStorage.setItem(TOKEN_KEY, session.token);
    window.localStorage.setItem(USER_KEY, session.user);
  } else {
    window.localStorage.removeItem(TOKEN_KEY);
    window.localStorage.removeItem(USER_KEY);
  }
}

export function clientFor(session: Session): PostbridgeClient {
  return createPostbridgeClient({ baseUrl: API_URL, token: session.token });
}
