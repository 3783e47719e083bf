#!/usr/bin/env node
// The turncat command (src/cmd/turncat.ts), on any Node.js: see ts-command.js.
import { runTsCommand } from './ts-command.js';

await runTsCommand(new URL('../src/cmd/turncat.ts', import.meta.url));
