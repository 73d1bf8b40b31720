#!/usr/bin/env node
// The `relaydeck` command. It runs the compiled engine in dist/ (built by `npm install`
// through the package's prepare script, or by `npm run build`). It runs the CLI in this
// process (no child), so SIGTERM/SIGINT/SIGHUP reach the relay's own handlers directly.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../../dist/electron/engine/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  process.stderr.write('relaydeck: dist/ is missing; run `npm install` (or `npm run build`) first\n');
  process.exit(1);
}
const { main } = await import(cli.href);
process.exitCode = await main(process.argv.slice(2));
