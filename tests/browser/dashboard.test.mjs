// The dashboard in a real browser: headless Debian Chromium driven by playwright-core, against
// the real services and platform-sim (tests/browser/run.sh starts them): sign-in, connecting a
// sandbox account, a thread with a first comment and an image published on schedule, pausing
// and resuming the account, the post's engagement growing over its reads and the analytics
// totals, deleting the post from the platform, and disconnecting. Every step leaves a
// screenshot in $BROWSER_ARTIFACTS; a failure leaves one named failure.png and the page's
// console.
import { mkdirSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { deflateSync, crc32 } from "node:zlib";

import { chromium } from "playwright-core";

const DASHBOARD = process.env.DASHBOARD_URL ?? "http://localhost:3000";
const ARTIFACTS = process.env.BROWSER_ARTIFACTS ?? "target/browser-artifacts";
const STEP_TIMEOUT = 30_000;
mkdirSync(ARTIFACTS, { recursive: true });

/** A real PNG (a 96×64 gradient), so the gateway's content sniffing and probe accept it. */
function png(width, height) {
  const rows = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3);
    for (let x = 0; x < width; x++) row.set([(x * 255) / width, (y * 255) / height, 160], 1 + x * 3);
    rows.push(row);
  }
  const chunk = (type, data) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, "ascii");
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([Buffer.from(type, "ascii"), data])), 0);
    return Buffer.concat([head, data, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(Buffer.concat(rows))),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** `YYYY-MM-DDTHH:MM:SS` in local time, what a datetime-local input takes. */
function localInput(date) {
  const p = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())}T${p(date.getHours())}:${p(date.getMinutes())}:${p(date.getSeconds())}`;
}

const profile = mkdtempSync(path.join(tmpdir(), "postbridge-chromium-"));
// A fresh, empty profile (launchPersistentContext passes it as --user-data-dir).
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1280, height: 900 },
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
const page = context.pages()[0] ?? (await context.newPage());
page.setDefaultTimeout(STEP_TIMEOUT);
const consoleLines = [];
page.on("console", (m) => consoleLines.push(`[${m.type()}] ${m.text()}`));
page.on("pageerror", (e) => consoleLines.push(`[pageerror] ${e.message}`));

let stepNo = 0;
const started = Date.now();
async function step(name, body) {
  stepNo += 1;
  const t = Date.now();
  await body();
  const file = path.join(ARTIFACTS, `${String(stepNo).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`[browser] step ${stepNo} ${name}: ok in ${Date.now() - t} ms (${file})`);
}

let failed = false;
try {
  await step("signed-in", async () => {
    await page.goto(DASHBOARD);
    await page.getByTestId("sign-in-user").fill("browser-test");
    await page.getByTestId("sign-in-submit").click();
    await page.getByTestId("signed-in-user").getByText("browser-test").waitFor();
    await page.getByTestId("connect-sandbox").waitFor();
  });

  await step("connected-sandbox", async () => {
    // OAuth round trip: platform-sim approves at once, the gateway's callback sends the browser
    // back with ?platform=sandbox&ticket=…, and the page completes the ticket.
    const completed = page.waitForResponse((r) => r.url().endsWith("/v1/connections/complete") && r.request().method() === "POST");
    await page.getByTestId("connect-sandbox").click();
    const answer = await completed;
    if (answer.status() !== 200) throw new Error(`POST /v1/connections/complete answered ${answer.status()}`);
    await page.getByTestId("notice").getByText("Connected").waitFor();
    await page.locator('[data-testid="account"][data-platform="sandbox"]').first().waitFor();
    if (new URL(page.url()).search !== "") throw new Error(`the ticket stayed in the URL: ${page.url()}`);
  });

  await step("after-reload", async () => {
    await page.reload();
    const account = page.locator('[data-testid="account"][data-platform="sandbox"]').first();
    await account.waitFor();
    const avatar = account.getByTestId("avatar");
    if (await avatar.count()) {
      await page.waitForFunction((img) => img.complete && img.naturalWidth > 0, await avatar.elementHandle());
    }
  });

  await step("composed-with-image", async () => {
    await page.getByTestId("nav-compose").click();
    await page.getByTestId("compose-text").fill("Hello from the browser test: a gradient, scheduled a few seconds ahead");
    await page.locator('[data-testid="choose-account"][data-platform="sandbox"]').first().check();
    await page.getByTestId("counter-sandbox").waitFor();
    // The sandbox's follow_ups allow a thread and a first comment, so the composer offers both.
    await page.getByTestId("add-part").click();
    await page.getByTestId("thread-part").first().fill("Part two of the browser test's thread");
    await page.getByTestId("first-comment").fill("A first comment from the browser test");
    await page.getByTestId("alt-text").fill("a blue-green gradient");
    await page.getByTestId("media-file").setInputFiles({ name: "gradient.png", mimeType: "image/png", buffer: png(96, 64) });
    const preview = page.getByTestId("preview").first();
    await preview.waitFor();
    await page.waitForFunction((img) => img.complete && img.naturalWidth > 0, await preview.locator("img").elementHandle());
    await page.getByTestId("schedule-later").check();
    await page.getByTestId("schedule-at").fill(localInput(new Date(Date.now() + 6_000)));
  });

  await step("scheduled", async () => {
    await page.getByTestId("submit-post").click();
    await page.getByTestId("compose-result").getByText("is scheduled").waitFor();
  });

  await step("published", async () => {
    await page.getByTestId("nav-posts").click();
    const post = page.getByTestId("post").first();
    await post.waitFor();
    await page.locator('[data-testid="post"][data-status="published"]').first().waitFor({ timeout: 60_000 });
    const link = page.locator('[data-testid="post"][data-status="published"]').first().getByTestId("target-link");
    await link.waitFor();
    const href = await link.getAttribute("href");
    if (!href || !/^https?:\/\//.test(href)) throw new Error(`no platform link: ${href}`);
    // The post, its second part and the first comment, each published once.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const parts = page.locator('[data-testid="post"][data-status="published"]').first().getByTestId("target-parts").locator("li");
      await parts.nth(2).waitFor();
      const statuses = await parts.evaluateAll((items) => items.map((li) => li.getAttribute("data-status")));
      if (statuses.join(",") === "published,published,published") break;
      if (Date.now() > deadline) throw new Error(`thread parts after 30 s: ${statuses.join(",")}`);
      await page.waitForTimeout(1000);
      await page.reload();
    }
  });

  await step("week-view", async () => {
    await page.getByTestId("week-view").click();
    await page.locator(".week .slot.published").first().waitFor();
  });

  await step("paused", async () => {
    await page.getByTestId("nav-accounts").click();
    const account = page.locator('[data-testid="account"][data-platform="sandbox"]').first();
    await account.getByTestId("pause").click();
    await page.locator('[data-testid="account"][data-platform="sandbox"][data-paused="true"]').getByTestId("paused-badge").waitFor();
    await page.reload();
    await page.locator('[data-testid="account"][data-platform="sandbox"][data-paused="true"]').getByTestId("resume").waitFor();
  });

  await step("resumed", async () => {
    const account = page.locator('[data-testid="account"][data-platform="sandbox"]').first();
    await account.getByTestId("resume").click();
    await page.locator('[data-testid="account"][data-platform="sandbox"][data-paused="false"]').getByTestId("pause").waitFor();
    if (await account.getByTestId("paused-badge").count()) throw new Error("the paused badge stayed after resuming");
  });

  await step("post-engagement", async () => {
    // run.sh sets [publisher.metrics] schedule to 2s,10s,1h: two reads within seconds of
    // publishing; "Read now" asks for one more on demand (POST /v1/posts/{id}/metrics/refresh).
    await page.getByTestId("nav-posts").click();
    await page.locator('[data-testid="post"][data-status="published"]').first().getByTestId("post-metrics-link").click();
    await page.getByTestId("post-series").waitFor();
    await page.getByTestId("refresh-metrics").click();
    await page.getByTestId("refresh-metrics").getByText("Read now").waitFor();
    const deadline = Date.now() + 40_000;
    let values = [];
    for (;;) {
      const series = page.locator('[data-testid="target-series"][data-platform="sandbox"]');
      await series.waitFor();
      values = await series.getByTestId("series-bar").evaluateAll((bars) => bars.map((b) => Number(b.getAttribute("data-value"))));
      if (values.length >= 2 && values[values.length - 1] > values[0]) break;
      if (Date.now() > deadline) throw new Error(`likes did not grow over two reads within 40 s: [${values.join(", ")}]`);
      await page.waitForTimeout(1500);
      await page.reload();
    }
    const likes = await page.getByTestId("latest-sandbox-likes").textContent();
    if (!/^\d+$/.test(likes?.trim() ?? "")) throw new Error(`latest likes: ${likes}`);
    // The sandbox has no video views: shown as not given, never as 0.
    const views = await page.getByTestId("latest-sandbox-views").textContent();
    if (views?.trim() !== "–") throw new Error(`views should be "–" (not given), was ${views}`);
    console.log(`[browser] likes at each read: ${values.join(", ")}`);
  });

  await step("analytics-overview", async () => {
    const platform = page.locator('[data-testid="platform-analytics"][data-platform="sandbox"]');
    await platform.waitFor();
    const likes = Number((await platform.getByTestId("total-likes").textContent())?.replace(/\D/g, ""));
    const impressions = Number((await platform.getByTestId("total-impressions").textContent())?.replace(/\D/g, ""));
    if (!(likes > 0) || !(impressions > 0)) throw new Error(`sandbox totals: likes ${likes}, impressions ${impressions}`);
    await platform.getByTestId("top-post").first().waitFor();
    if ((await platform.getByTestId("account-analytics").locator("tbody tr").count()) !== 1) throw new Error("expected one account row");
    // account-registry stored a followers sample at the sync that followed connecting.
    const followers = platform.getByTestId("account-followers");
    await followers.waitFor();
    if (!(Number(await followers.getAttribute("data-syncs")) >= 1)) throw new Error("no followers sample for the account");
  });

  await step("deleted-from-platform", async () => {
    await page.getByTestId("nav-posts").click();
    const post = page.locator('[data-testid="post"][data-status="published"]').first();
    await post.getByTestId("delete-post").click();
    await post.getByTestId("confirm-delete").waitFor();
    await post.getByTestId("confirm-delete-yes").click();
    await page.locator('[data-testid="deletion"][data-status="deleted"]').first().waitFor({ timeout: 60_000 });
    await page.locator('[data-testid="post"][data-status="deleted"]').first().waitFor();
  });

  await step("disconnected", async () => {
    await page.getByTestId("nav-accounts").click();
    const account = page.locator('[data-testid="account"][data-platform="sandbox"]').first();
    await account.getByTestId("disconnect").click();
    await page.getByTestId("notice").getByText("Disconnecting").waitFor();
    // account-registry revokes and wipes it; then it is gone from the list.
    const deadline = Date.now() + 30_000;
    for (;;) {
      await page.reload();
      await page.getByTestId("accounts").waitFor({ state: "attached" });
      if ((await page.locator('[data-testid="account"][data-platform="sandbox"]').count()) === 0) break;
      if (Date.now() > deadline) throw new Error("the account was still listed 30 s after disconnecting");
      await page.waitForTimeout(500);
    }
  });
  console.log(`[browser] all ${stepNo} steps passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
} catch (err) {
  failed = true;
  console.error(`[browser] step ${stepNo + 1} failed: ${err instanceof Error ? err.stack ?? err.message : err}`);
  await page.screenshot({ path: path.join(ARTIFACTS, "failure.png"), fullPage: true }).catch(() => {});
  writeFileSync(path.join(ARTIFACTS, "console.log"), consoleLines.join("\n") + "\n");
  console.error(`[browser] page console:\n${consoleLines.slice(-30).join("\n")}`);
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
