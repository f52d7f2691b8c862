/**
 * Development sign-in: mints a JWT for a user name, exactly as `make token USER=…` does, by
 * running the gateway's own `postbridge-token` binary (which refuses in production and reads
 * the signing secret from the project's configuration, so none is copied here).
 *
 * Enabled only when POSTBRIDGE_DEV_SIGN_IN=1 (set by `make run` and the browser test); a
 * real deployment signs users in with its identity provider instead.
 */
import { execFile } from "node:child_process";
import path from "node:path";

export const runtime = "nodejs";
export const dynamic = "force-dynamic";

const ROOT = process.env.POSTBRIDGE_ROOT ?? path.resolve(/* turbopackIgnore: true */ process.cwd(), "../..");
const TOKEN_BIN =
  process.env.POSTBRIDGE_TOKEN_BIN ?? path.join(/* turbopackIgnore: true */ ROOT, "target", "debug", "postbridge-token");

function mint(user: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      TOKEN_BIN,
      [user],
      { cwd: ROOT, timeout: 10_000, env: { ...process.env, POSTBRIDGE_ENV: process.env.POSTBRIDGE_ENV ?? "development" } },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${TOKEN_BIN}: ${stderr.trim() || err.message}`));
        else resolve(stdout.trim());
      },
    );
  });
}

export async function POST(request: Request): Promise<Response> {
  if (process.env.POSTBRIDGE_DEV_SIGN_IN !== "1") {
    return Response.json(
      { error: { code: "dev_sign_in_disabled", message: "development sign-in is off (POSTBRIDGE_DEV_SIGN_IN=1 enables it)" } },
      { status: 404 },
    );
  }
  const body = (await request.json().catch(() => ({}))) as { user?: unknown };
  const user = typeof body.user === "string" ? body.user.trim() : "";
  if (!/^[A-Za-z0-9._@-]{1,64}$/.test(user)) {
    return Response.json(
      { error: { code: "invalid_user", message: "a user name is 1 to 64 letters, digits or . _ @ -" } },
      { status: 400 },
    );
  }
  try {
    return Response.json({ user, token: await mint(user) });
  } catch (err) {
    return Response.json(
      { error: { code: "token_failed", message: `could not mint a token (is the workspace built? cargo build -p auth-gateway): ${String(err)}` } },
      { status: 500 },
    );
  }
}
