/**
 * Character counters for the composer, one per platform's way of counting (the platform
 * list says which: `chars`, `graphemes` or `x_weighted`). The gateway checks again when the
 * post is sent; these only tell the user early.
 */
import type { Schemas } from "@postbridge/client";

type Counting = Schemas["TextCounting"];

const URL_PATTERN = /https?:\/\/\S+/g;

/** X counts a URL as 23 and most CJK characters and emoji as 2. */
function xWeighted(text: string): number {
  let count = 0;
  const withoutUrls = text.replace(URL_PATTERN, () => {
    count += 23;
    return "";
  });
  for (const ch of withoutUrls) {
    const code = ch.codePointAt(0) ?? 0;
    const light =
      code <= 0x10ff ||
      (code >= 0x2000 && code <= 0x200d) ||
      (code >= 0x2010 && code <= 0x201f) ||
      (code >= 0x2032 && code <= 0x2037);
    count += light ? 1 : 2;
  }
  return count;
}

function graphemes(text: string): number {
  const Segmenter = (Intl as { Segmenter?: typeof Intl.Segmenter }).Segmenter;
  if (!Segmenter) return [...text].length;
  return [...new Segmenter(undefined, { granularity: "grapheme" }).segment(text)].length;
}

export function countText(text: string, counting: Counting): number {
  switch (counting) {
    case "graphemes":
      return graphemes(text);
    case "x_weighted":
      return xWeighted(text);
    default:
      return [...text].length;
  }
}
