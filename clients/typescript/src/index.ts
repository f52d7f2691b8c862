/**
 * The Postbridge API client. Every call goes through openapi-fetch with the types that
 * openapi-typescript generated from docs/openapi.json (src/schema.d.ts): nothing here builds a
 * request by hand. The helpers cover what a frontend does in more than one call: connecting an
 * account (start, send the browser to the platform, complete the returned ticket), uploading
 * media, and creating a post that is safe to retry.
 */
import createClient, { type Client, type Middleware } from "openapi-fetch";

import type { components, operations, paths } from "./schema.js";

export type { components, operations, paths };

/** Every schema of the API, by name. */
export type Schemas = components["schemas"];
export type Account = Schemas["AccountView"];
export type AccountStatus = Schemas["AccountStatus"];
export type Platform = Schemas["Platform"];
export type PlatformInfo = Schemas["Page_PlatformView"]["items"][number];
export type Media = Schemas["MediaView"];
export type Draft = Schemas["DraftView"];
export type CreateDraft = Schemas["CreateDraft"];
export type UpdateDraft = Schemas["UpdateDraft"];
export type Post = Schemas["PostView"];
export type PostStatus = Schemas["PostStatus"];
export type Target = Schemas["TargetView"];
export type TargetStatus = Schemas["TargetStatus"];
export type Attempt = Schemas["AttemptView"];
export type CreatePost = Schemas["CreatePost"];
export type UpdatePost = Schemas["UpdatePost"];
export type Variant = Schemas["Variant"];
export type StartConnection = Schemas["StartConnection"];
export type CompletedConnection = Schemas["CompletedView"];
/** The body of every error answer: `{"error": {"code", "message", "details"?}}`. */
export type ErrorBody = Schemas["Error"];
export type ErrorDetails = Schemas["ErrorDetails"];
export type TargetProblems = Schemas["TargetProblems"];

/** The typed openapi-fetch client of the Postbridge API. */
export type PostbridgeClient = Client<paths>;

/** A bearer token, or a function that answers the current one (e.g. from a session). */
export type TokenSource = string | (() => string | null | undefined | Promise<string | null | undefined>);

export interface ClientOptions {
  /** The gateway, e.g. `http://127.0.0.1:8080`. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer …` on every request that has one. */
  token?: TokenSource;
  /** A fetch implementation (tests, server-side rendering); default: the global one. */
  fetch?: typeof globalThis.fetch;
}

/** A client whose every request carries the caller's bearer token. */
export function createPostbridgeClient(options: ClientOptions): PostbridgeClient {
  const client = createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ""),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const source = options.token;
  if (source !== undefined) {
    const auth: Middleware = {
      async onRequest({ request }) {
        const token = typeof source === "function" ? await source() : source;
        if (token) request.headers.set("Authorization", `Bearer ${token}`);
        return request;
      },
    };
    client.use(auth);
  }
  return client;
}

/** A refusal of the API, with everything the error body and headers said. */
export class PostbridgeError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: ErrorDetails | undefined;
  /** `X-Request-Id` of the answer: quote it when reporting a problem. */
  readonly requestId: string | null;
  /** `Retry-After` in seconds, on 429 and 503. */
  readonly retryAfterSecs: number | null;

  constructor(response: Response, body: ErrorBody | undefined) {
    const code = body?.error?.code ?? `http_${response.status}`;
    super(body?.error?.message ?? `${response.status} ${response.statusText}`);
    this.name = "PostbridgeError";
    this.status = response.status;
    this.code = code;
    this.details = body?.error?.details ?? undefined;
    this.requestId = response.headers.get("X-Request-Id");
    const retry = response.headers.get("Retry-After");
    this.retryAfterSecs = retry !== null && /^\d+$/.test(retry) ? Number(retry) : null;
  }

  /** Per-account problems of a refused post (422 `invalid_post`), keyed by account id. */
  targetProblems(): Map<string, TargetProblems> {
    return new Map((this.details?.targets ?? []).map((t) => [t.account_id, t]));
  }
}

/** What every openapi-fetch call answers. */
interface FetchResult<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The data of a successful answer; a refusal throws a [`PostbridgeError`]. */
export function unwrap<T>(result: FetchResult<T>): T {
  if (result.error !== undefined || !result.response.ok) {
    throw new PostbridgeError(result.response, asErrorBody(result.error));
  }
  return result.data as T;
}

function asErrorBody(value: unknown): ErrorBody | undefined {
  if (typeof value === "object" && value !== null && "error" in value) {
    return value as ErrorBody;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Connecting accounts
// ---------------------------------------------------------------------------------------------

/** What starting a connection led to. */
export type Started =
  | { kind: "authorize"; authorizeUrl: string }
  | { kind: "connected"; account: Account };

/**
 * Starts connecting `platform`. OAuth platforms answer an authorize URL to send the browser
 * to; Bluesky (app password) connects at once.
 */
export async function startConnection(
  client: PostbridgeClient,
  platform: Platform,
  body: StartConnection = {},
): Promise<Started> {
  const result = await client.POST("/v1/connections/{platform}", {
    params: { path: { platform } },
    body,
  });
  const data = unwrap(result);
  if (result.response.status === 201) {
    return { kind: "connected", account: data as Account };
  }
  return { kind: "authorize", authorizeUrl: (data as Schemas["AuthorizeView"]).authorize_url };
}

/** What the platform's redirect back to the frontend carries. */
export type ConnectionReturn =
  | { kind: "ticket"; platform: string; ticket: string }
  | { kind: "error"; platform: string | null; error: string };

/**
 * Reads the frontend URL the OAuth callback sent the browser back to
 * (`?platform=…&ticket=…` or `?error=…`); `null` when it is not such a return.
 */
export function readConnectionReturn(url: string | URL): ConnectionReturn | null {
  const params = new URL(url.toString(), "http://frontend.invalid").searchParams;
  const platform = params.get("platform");
  const ticket = params.get("ticket");
  const error = params.get("error");
  if (error) return { kind: "error", platform, error };
  if (platform && ticket) return { kind: "ticket", platform, ticket };
  return null;
}

/** Completes a connection with the ticket of the callback's redirect (works once, 5 minutes). */
export async function completeConnection(
  client: PostbridgeClient,
  ticket: string,
): Promise<CompletedConnection> {
  return unwrap(await client.POST("/v1/connections/complete", { body: { ticket } }));
}

/**
 * Starts a connection and follows it: for an OAuth platform the browser is sent to the
 * platform (`navigate`, default `location.assign`) and this never resolves; call
 * [`finishConnection`] on the page it comes back to. Bluesky resolves with the account.
 */
export async function connect(
  client: PostbridgeClient,
  platform: Platform,
  body: StartConnection = {},
  navigate: (url: string) => void = (url) => globalThis.location.assign(url),
): Promise<Account> {
  const started = await startConnection(client, platform, body);
  if (started.kind === "connected") return started.account;
  navigate(started.authorizeUrl);
  return new Promise<Account>(() => {});
}

/**
 * The second half of [`connect`]: if `url` is a return from a platform, completes its ticket
 * and answers what was connected; a platform's refusal throws; any other URL answers `null`.
 */
export async function finishConnection(
  client: PostbridgeClient,
  url: string | URL,
): Promise<CompletedConnection | null> {
  const back = readConnectionReturn(url);
  if (back === null) return null;
  if (back.kind === "error") {
    throw new PostbridgeError(
      new Response(null, { status: 400, statusText: back.error }),
      { error: { code: back.error, message: `the connection was not made: ${back.error}` } },
    );
  }
  return completeConnection(client, back.ticket);
}

// ---------------------------------------------------------------------------------------------
// Media and posts
// ---------------------------------------------------------------------------------------------

/** Uploads an image or video (its type is read from its content) with optional alt text. */
export async function uploadMedia(
  client: PostbridgeClient,
  file: Blob,
  options: { altText?: string; filename?: string } = {},
): Promise<Media> {
  const filename = options.filename ?? ("name" in file ? String(file.name) : "upload");
  return unwrap(
    await client.POST("/v1/media", {
      // The schema says `format: binary`, which openapi-typescript types as a string; the
      // serializer below sends the Blob itself as the `file` part.
      body: { file: file as unknown as string, alt_text: options.altText ?? null },
      bodySerializer() {
        const form = new FormData();
        form.append("file", file, filename);
        if (options.altText) form.append("alt_text", options.altText);
        return form;
      },
    }),
  );
}

/** A fresh Idempotency-Key. */
export function newIdempotencyKey(): string {
  return globalThis.crypto.randomUUID();
}

/**
 * Creates a post with an `Idempotency-Key` (a new one unless given), so a retry after a
 * network error or a 503 can never publish twice: keep the key and send the same body again.
 * `replayed` says the post already existed (the earlier attempt had gone through).
 */
export async function createPost(
  client: PostbridgeClient,
  body: CreatePost,
  idempotencyKey: string = newIdempotencyKey(),
): Promise<{ post: Post; replayed: boolean; idempotencyKey: string }> {
  const result = await client.POST("/v1/posts", {
    params: { header: { "Idempotency-Key": idempotencyKey } },
    body,
  });
  const post = unwrap(result);
  return { post, replayed: result.response.status === 200, idempotencyKey };
}
