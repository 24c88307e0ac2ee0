// A document with a generated part between two HTML-comment markers and prose around it written by
// hand (docs/performance.md by bench:load, docs/reliability.md by chaos): only the part between the
// markers is rewritten.

/** `existing` with what is between `begin` and `end` replaced by `section` (which holds both markers); appended when there are none. */
export function replaceGeneratedSection(existing: string, section: string, begin: string, end: string): string {
  const start = existing.indexOf(begin);
  const stop = existing.indexOf(end);
  return start >= 0 && stop > start
    ? `${existing.slice(0, start)}${section}${existing.slice(stop + end.length)}`
    : `${existing.trimEnd()}\n\n${section}\n`;
}
