// `npm run docs`: the README, the nine lessons, docs/ and the grader's README as a website, with
// the learner's progress in the sidebar and diagrams drawn from the topology data. Needs no broker.
//   --build DIR   write the same site as static HTML into DIR instead of serving it
import http from 'node:http';
import path from 'node:path';
import { defineCli, EnvironmentError, runMain } from '../../shared/cli/args.ts';
import { buildSite, renderUrl } from '../site/site.ts';
import { isMain } from './shared.ts';

export const DOCS_CLI = defineCli({
  command: 'npm run docs',
  synopsis: ['npm run docs [-- --build <dir>] [--port <n>] [--host <address>]'],
  summary:
    "Serves the workshop's lessons and docs as a website (default http://localhost:4000), with your progress in the sidebar. Needs no broker.",
  options: {
    build: { type: 'string', value: '<dir>', description: 'write the site as static HTML files into <dir>, then exit' },
    port: { type: 'string', value: '<n>', description: 'port to listen on (default DOCS_PORT, else 4000; 0 picks a free one)' },
    host: { type: 'string', value: '<address>', description: 'address to listen on (default DOCS_HOST, else 127.0.0.1)' },
  },
});

/** Starts the server; resolves with its address once it listens. */
export function serveDocs(root: string, port: number, host: string): Promise<{ server: http.Server; url: string }> {
  const server = http.createServer((request, response) => {
    renderUrl(request.url ?? '/', root).then(
      (page) => {
        response.writeHead(page.status, { 'content-type': page.contentType, 'cache-control': 'no-store' });
        response.end(page.body);
      },
      (error: unknown) => {
        response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        response.end(`could not render this page: ${error instanceof Error ? error.message : String(error)}`);
      },
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      const actual = typeof address === 'object' && address ? address.port : port;
      resolve({ server, url: `http://${host === '127.0.0.1' || host === '::1' ? 'localhost' : host}:${actual}/` });
    });
  });
}

async function main(): Promise<number> {
  const { values } = DOCS_CLI.parse(process.argv.slice(2));
  const root = process.cwd();
  if (values.build) {
    const outDir = path.resolve(values.build);
    const { pages, broken } = await buildSite(root, outDir);
    console.log(`wrote ${pages} pages to ${outDir}`);
    if (broken.length > 0) {
      console.error(`broken internal links to: ${broken.join(', ')}`);
      return 1;
    }
    return 0;
  }
  const port = Number(values.port ?? process.env.DOCS_PORT ?? 4000);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw DOCS_CLI.usageError(`--port takes a port number, 0 to 65535 (got "${values.port ?? process.env.DOCS_PORT}")`);
  const host = values.host ?? process.env.DOCS_HOST ?? '127.0.0.1';
  const { url } = await serveDocs(root, port, host).catch((error: NodeJS.ErrnoException) => {
    // A port taken is the machine's, not a bug: exit 3 either way, with what to do about it.
    throw new EnvironmentError(
      error.code === 'EADDRINUSE' ? `port ${port} is in use: DOCS_PORT=4001 npm run docs, or --port 0 for any free port` : String(error),
      { cause: error },
    );
  });
  console.log(`The workshop's docs: ${url}  (Ctrl-C to stop)`);
  await new Promise(() => {});
  return 0;
}

if (isMain(import.meta.url)) await runMain(main);
