"use client";
/** Small data hooks over the client: load, reload, and an error message to show. */
import { useCallback, useEffect, useState } from "react";
import { PostbridgeError } from "@postbridge/client";

export function describe(err: unknown): string {
  if (err instanceof PostbridgeError) {
    return `${err.message} (${err.code}${err.requestId ? `, request ${err.requestId}` : ""})`;
  }
  if (err instanceof TypeError) {
    return `${err.message}: the API is unreachable or refused this page's origin (CORS); the gateway's log says which`;
  }
  return err instanceof Error ? err.message : String(err);
}

export function useLoad<T>(load: (() => Promise<T>) | null, deps: unknown[]) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const reload = useCallback(async () => {
    if (!load) return;
    try {
      setData(await load());
      setError(null);
    } catch (err) {
      setError(describe(err));
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { data, error, reload, setError };
}
