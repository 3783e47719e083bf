#!/usr/bin/env node
// The stunnerd command (src/cmd/stunnerd.ts), on any Node.js: see ts-command.js.
import { runTsCommand } from './ts-command.js';

await runTsCommand(new URL('../src/cmd/stunnerd.ts', import.meta.url));
