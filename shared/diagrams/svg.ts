// The few SVG pieces the site's diagrams are made of. Every text goes through escapeXml.
export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/**
 * Font sizes in the diagrams' own units. A diagram is drawn at its natural size and only ever
 * scaled down to fit its column, so these are what a reader gets at full width: a 1280 px screen
 * shows the topology at about 0.93 of its size, every label still 12 px or more.
 */
export const LABEL_FONT = { node: 13, detail: 13, edge: 13, legend: 13, event: 13, step: 13 } as const;

/**
 * Every text in a diagram is set in a monospace font, so its width is known here without a browser:
 * the layout reserves room for each label before the browser draws it. 0.61 em per character covers
 * DejaVu Sans Mono, Menlo, SF Mono and Consolas (0.55 to 0.602 em).
 */
const EM_PER_CHAR = 0.61;
export const MONOSPACE = '"DejaVu Sans Mono", Menlo, "SF Mono", Consolas, monospace';

export function textWidth(text: string, fontSize: number): number {
  return [...text].length * fontSize * EM_PER_CHAR;
}

/** Inside the SVG, so the picture looks the same inline in a page and opened on its own. */
const DIAGRAM_STYLE = [
  `.diagram{font-family:${MONOSPACE};background:#fff}`,
  '.node rect{stroke-width:1.5}',
  '.exchange rect{fill:#fff4e5;stroke:#c2410c}.queue rect{fill:#e7f5ff;stroke:#1864ab}.service rect{fill:#ebfbee;stroke:#2b8a3e}',
  `.node-label{font-size:${LABEL_FONT.node}px;font-weight:700;fill:#212529}.node-detail{font-size:${LABEL_FONT.detail}px;fill:#495057}`,
  '.edge{fill:none;stroke:#6c757d;stroke-width:1.3}.edge.alt{stroke:#c2410c;stroke-dasharray:6 4}.edge.dead{stroke:#c92a2a;stroke-dasharray:2 3}',
  '.edge.copy{stroke:#868e96;stroke-dasharray:3 3}.edge.flow{stroke:#343a40;stroke-width:1.6}',
  '.arrowhead{fill:#6c757d}.arrowhead.alt{fill:#c2410c}.arrowhead.dead{fill:#c92a2a}.arrowhead.copy{fill:#868e96}.arrowhead.flow{fill:#343a40}',
  '.label-bg{fill:#fff;fill-opacity:.9}',
  `.edge-label{font-size:${LABEL_FONT.edge}px;fill:#343a40}.edge-label.alt{fill:#c2410c}.edge-label.dead{fill:#c92a2a}`,
  `.legend{font-size:${LABEL_FONT.legend}px;fill:#495057}`,
  `.lifeline{stroke:#adb5bd;stroke-dasharray:4 4}.event-label{font-size:${LABEL_FONT.event}px;fill:#212529;paint-order:stroke;stroke:#fff;stroke-width:4px;stroke-linejoin:round}.event-note{font-size:${LABEL_FONT.event}px;fill:#495057}.step{font-size:${LABEL_FONT.step}px;fill:#495057}`,
].join('');

export function svgDocument(width: number, height: number, title: string, body: string[]): string {
  return [
    // width/height give the natural size; the page's CSS caps the width at the column (max-width: 100%).
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeXml(title)}" class="diagram">`,
    `<title>${escapeXml(title)}</title>`,
    '<defs>',
    ...['edge', 'dead', 'alt', 'copy', 'flow'].map(
      (kind) =>
        `<marker id="arrow-${kind}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrowhead ${kind}"/></marker>`,
    ),
    '</defs>',
    `<style>${DIAGRAM_STYLE}</style>`,
    ...body,
    '</svg>',
  ].join('\n');
}

/** Lines of text whose box starts at `top`: one line every 1.25 font sizes. */
export function textBlock(
  x: number,
  top: number,
  lines: string[],
  fontSize: number,
  className: string,
  anchor: 'start' | 'middle' | 'end' = 'start',
): string {
  const lineHeight = fontSize * 1.25;
  const baseline = (i: number) => top + i * lineHeight + fontSize * 0.95;
  return lines
    .map(
      (line, i) =>
        `<text x="${x.toFixed(1)}" y="${baseline(i).toFixed(1)}" text-anchor="${anchor}" class="${className}">${escapeXml(line)}</text>`,
    )
    .join('');
}

export function text(x: number, y: number, content: string, className: string, anchor: 'start' | 'middle' | 'end' = 'middle'): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" text-anchor="${anchor}" class="${className}">${escapeXml(content)}</text>`;
}
