import path from "node:path";

// The client package (clients/typescript) is linked from outside this folder, so the build's
// root is the repository.
const root = path.resolve(import.meta.dirname, "../..");

/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  outputFileTracingRoot: root,
  turbopack: { root },
};
export default nextConfig;
