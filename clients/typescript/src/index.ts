/**
 * The Postbridge API client. Every call goes through openapi-fetch with the types that
 * openapi-typescript generated from docs/openapi.json (src/schema.d.ts): nothing here builds a
 * request by hand. The helpers cover what a frontend does in more than one call: connecting an
 * account (start, send the browser to the platform, complete the returned ticket), uploading
 * media, creating a post that is safe to retry, and what follows publishing (pausing an
 * account, deleting a post from its platforms and waiting for the outcome, engagement queries
 * over a range of dates, drafts from templates).
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
export type FollowUps = Schemas["FollowUpsView"];
export type Part = Schemas["PartInput"];
export type PartView = Schemas["PartView"];
export type Deletion = Schemas["DeletionView"];
export type DeletionStatus = Schemas["DeletionStatus"];
export type Figures = Schemas["Figures"];
export type MetricsSample = Schemas["MetricsSampleView"];
export type PostMetrics = Schemas["PostMetricsView"];
export type TargetMetrics = Schemas["TargetMetricsView"];
export type AccountMetrics = Schemas["AccountMetricsView"];
export type Analytics = Schemas["AnalyticsView"];
export type PlatformAnalytics = Schemas["PlatformAnalytics"];
export type AccountAnalytics = Schemas["AccountAnalytics"];
export type TopPost = Schemas["TopPostView"];
export type Template = Schemas["TemplateView"];
export type CreateTemplate = Schemas["CreateTemplate"];
export type DraftFromTemplate = Schemas["DraftFromTemplate"];

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

  /** The placeholders a template's draft lacked values for (422 `missing_values`). */
  missingValues(): string[] {
    return this.details?.missing ?? [];
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

// ---------------------------------------------------------------------------------------------
// Accounts: pausing
// ---------------------------------------------------------------------------------------------

/**
 * Pauses (`true`) or resumes (`false`) an account: a paused account keeps its tokens fresh and
 * accepts posts, but its due targets wait (not failed) until it is resumed. Idempotent; answers
 * the account as it now stands (`paused`, `paused_at`).
 */
export async function setPaused(client: PostbridgeClient, accountId: string, paused: boolean): Promise<Account> {
  const params = { params: { path: { id: accountId } } };
  return unwrap(
    paused
      ? await client.POST("/v1/accounts/{id}/pause", params)
      : await client.POST("/v1/accounts/{id}/resume", params),
  );
}

// ---------------------------------------------------------------------------------------------
// Deleting a post from its platforms
// ---------------------------------------------------------------------------------------------

/** One target's part in a deletion, in words a person reads. */
export interface TargetOutcome {
  targetId: string;
  accountId: string;
  platform: Platform;
  /**
   * `deleted`, `unsupported` (the platform's API cannot delete, e.g. Instagram), `failed`,
   * `pending`/`deleting` while under way, or `canceled` for a target that was never published.
   */
  outcome: DeletionStatus | "canceled" | "not_published";
  /** Why it was not deleted, when the platform or Postbridge said. */
  message: string | null;
  /** Still under way. */
  pending: boolean;
}

/** Each target's outcome of `DELETE /v1/posts/{id}` as the post shows it. */
export function deletionOutcomes(post: Post): TargetOutcome[] {
  return post.targets.map((t) => {
    const d = t.deletion ?? null;
    const outcome: TargetOutcome["outcome"] = d
      ? d.status
      : t.status === "canceled"
        ? "canceled"
        : t.status === "deleted"
          ? "deleted"
          : "not_published";
    return {
      targetId: t.id,
      accountId: t.account_id,
      platform: t.platform,
      outcome,
      message: d?.error?.message ?? null,
      pending: outcome === "pending" || outcome === "deleting" || t.status === "deleting",
    };
  });
}

/**
 * Deletes a post: a scheduled one is canceled; a published one is deleted from every platform
 * that can (the publisher does it, retried like publishing). `settled` is false while targets
 * are still being deleted (202): follow it with [`waitForDeletion`]. A 409
 * `publishing_in_progress` (a target is being published right now) throws; ask again shortly.
 */
export async function deletePost(
  client: PostbridgeClient,
  postId: string,
): Promise<{ post: Post; settled: boolean; outcomes: TargetOutcome[] }> {
  const result = await client.DELETE("/v1/posts/{id}", { params: { path: { id: postId } } });
  const post = unwrap(result);
  return { post, settled: result.response.status === 200, outcomes: deletionOutcomes(post) };
}

/**
 * Polls `GET /v1/posts/{id}` until no target's deletion is under way (or `timeoutMs` passes:
 * then the post as last seen, with `settled: false`).
 */
export async function waitForDeletion(
  client: PostbridgeClient,
  postId: string,
  options: { intervalMs?: number; timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<{ post: Post; settled: boolean; outcomes: TargetOutcome[] }> {
  const interval = options.intervalMs ?? 1000;
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    const post = unwrap(await client.GET("/v1/posts/{id}", { params: { path: { id: postId } } }));
    const outcomes = deletionOutcomes(post);
    const settled = !outcomes.some((o) => o.pending);
    if (settled || Date.now() >= deadline || options.signal?.aborted) return { post, settled, outcomes };
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}

// ---------------------------------------------------------------------------------------------
// Analytics
// ---------------------------------------------------------------------------------------------

/** A range of dates; either end may be left open (the API's defaults apply). */
export interface DateRange {
  from?: Date | string;
  to?: Date | string;
}

function rfc3339(value: Date | string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return typeof value === "string" ? value : value.toISOString();
}

function rangeQuery(range: DateRange): { from?: string; to?: string } {
  const from = rfc3339(range.from);
  const to = rfc3339(range.to);
  return { ...(from ? { from } : {}), ...(to ? { to } : {}) };
}

/** The last `days` days up to now. */
export function lastDays(days: number, now: Date = new Date()): { from: Date; to: Date } {
  return { from: new Date(now.getTime() - days * 86_400_000), to: now };
}

/**
 * Totals and top posts per platform and account for the posts published in `range` (default:
 * the last 30 days), optionally of one platform, from each post's latest engagement read.
 */
export async function getAnalytics(
  client: PostbridgeClient,
  range: DateRange = {},
  platform?: Platform,
): Promise<Analytics> {
  return unwrap(
    await client.GET("/v1/analytics", {
      params: { query: { ...rangeQuery(range), ...(platform ? { platform } : {}) } },
    }),
  );
}

/** An account's followers, following and posts at each sync in `range`, oldest first. */
export async function getAccountMetrics(
  client: PostbridgeClient,
  accountId: string,
  range: DateRange = {},
): Promise<AccountMetrics> {
  return unwrap(
    await client.GET("/v1/accounts/{id}/metrics", {
      params: { path: { id: accountId }, query: rangeQuery(range) },
    }),
  );
}

/** A post's engagement per target: the latest read and every read. */
export async function getPostMetrics(client: PostbridgeClient, postId: string): Promise<PostMetrics> {
  return unwrap(await client.GET("/v1/posts/{id}/metrics", { params: { path: { id: postId } } }));
}

/**
 * Asks for a post's engagement to be read now (202 with the targets that will be read; a 409
 * when nothing of it is published yet). The reads land a moment later: poll
 * [`getPostMetrics`], or use [`refreshAndWait`].
 */
export async function refreshPostMetrics(client: PostbridgeClient, postId: string): Promise<string[]> {
  return unwrap(await client.POST("/v1/posts/{id}/metrics/refresh", { params: { path: { id: postId } } })).target_ids;
}

/**
 * Refreshes a post's engagement and waits until every target asked for has a read newer than
 * the request (or `timeoutMs` passes), answering the metrics as they then stand.
 */
export async function refreshAndWait(
  client: PostbridgeClient,
  postId: string,
  options: { intervalMs?: number; timeoutMs?: number } = {},
): Promise<PostMetrics> {
  const asked = Date.now();
  const targets = new Set(await refreshPostMetrics(client, postId));
  const deadline = asked + (options.timeoutMs ?? 30_000);
  for (;;) {
    const metrics = await getPostMetrics(client, postId);
    const fresh = metrics.targets.every(
      (t) => !targets.has(t.target_id) || (t.latest != null && Date.parse(t.latest.fetched_at) >= asked - 1000),
    );
    if (fresh || Date.now() >= deadline) return metrics;
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 1000));
  }
}

/** The figures an analytics view can chart, by name. */
export type FigureName = keyof Figures;
export const FIGURE_NAMES: readonly FigureName[] = ["likes", "replies", "reposts", "quotes", "saves", "impressions", "views", "reach"];

/**
 * Interactions as the API ranks top posts: likes + replies + reposts + quotes + saves, a figure
 * the platform does not give counting nothing.
 */
export function interactions(figures: Figures): number {
  return (figures.likes ?? 0) + (figures.replies ?? 0) + (figures.reposts ?? 0) + (figures.quotes ?? 0) + (figures.saves ?? 0);
}

/** One figure of a target's series as points to plot; reads without that figure are left out. */
export function seriesOf(target: TargetMetrics, figure: FigureName): { at: Date; value: number }[] {
  return target.series.flatMap((s) => {
    const value = s.figures[figure];
    return value == null ? [] : [{ at: new Date(s.fetched_at), value }];
  });
}

// ---------------------------------------------------------------------------------------------
// Templates
// ---------------------------------------------------------------------------------------------

/**
 * A draft from a template, its `{placeholders}` filled with `values`. A placeholder without a
 * value is a 422 `missing_values` (the error's `missingValues()` names every one).
 */
export async function draftFromTemplate(
  client: PostbridgeClient,
  templateId: string,
  body: DraftFromTemplate,
): Promise<Draft> {
  return unwrap(
    await client.POST("/v1/templates/{id}/drafts", { params: { path: { id: templateId } }, body }),
  );
}
