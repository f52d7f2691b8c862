import type { Metadata } from "next";
import type { ReactNode } from "react";

import { Shell } from "@/components/Shell";

import { SessionProvider } from "./session";
import "./globals.css";

export const metadata: Metadata = {
  title: "Postbridge dashboard",
  description: "Connect social accounts and publish to them through the Postbridge API.",
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <SessionProvider>
          <Shell>{children}</Shell>
        </SessionProvider>
      </body>
    </html>
  );
}
