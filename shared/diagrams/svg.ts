// The few SVG pieces the site's diagrams are made of. Every text goes through escapeXml.
export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** Inside the SVG, so the picture looks the same inline in a page and opened on its own. */
const DIAGRAM_STYLE = [
  '.diagram{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;background:#fff}',
  '.node rect{stroke-width:1.5}',
  '.exchange rect{fill:#fff4e5;stroke:#e8590c}.queue rect{fill:#e7f5ff;stroke:#1c7ed6}.service rect{fill:#ebfbee;stroke:#2f9e44}',
  '.node-label{font-size:12px;font-weight:600;fill:#212529}.node-detail{font-size:10px;fill:#495057}',
  '.column-title{font-size:13px;font-weight:700;fill:#495057;text-transform:uppercase;letter-spacing:.08em}',
  '.edge{fill:none;stroke:#868e96;stroke-width:1.2}.edge.alt{stroke:#e8590c;stroke-dasharray:6 4}.edge.dead{stroke:#e03131;stroke-dasharray:2 3}',
  '.edge.copy{stroke:#adb5bd;stroke-dasharray:3 3}.edge.flow{stroke:#343a40;stroke-width:1.6}',
  '.arrowhead{fill:#868e96}.arrowhead.alt{fill:#e8590c}.arrowhead.dead{fill:#e03131}.arrowhead.copy{fill:#adb5bd}',
  '.edge-label{font-size:9.5px;fill:#495057;paint-order:stroke;stroke:#fff;stroke-width:3px}'+'.edge-label.alt{fill:#e8590c}',
  '.legend{font-size:11px;fill:#495057}',
  '.lifeline{stroke:#ced4da;stroke-dasharray:4 4}.event-label{font-size:11px;font-family:ui-monospace,monospace;fill:#212529}.step{font-size:10px;fill:#868e96}',
].join('');

export function svgDocument(width: number, height: number, title: string, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeXml(title)}" class="diagram">`,
    `<title>${escapeXml(title)}</title>`,
    '<defs>',
    ...['edge', 'dead', 'alt', 'copy'].map(
      (kind) => `<marker id="arrow-${kind}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrowhead ${kind}"/></marker>`,
    ),
    '</defs>',
    `<style>${DIAGRAM_STYLE}</style>`,
    ...body,
    '</svg>',
  ].join('\n');
}

export function text(x: number, y: number, content: string, className: string, anchor: 'start' | 'middle' | 'end' = 'middle'): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" text-anchor="${anchor}" class="${className}">${escapeXml(content)}</text>`;
}
