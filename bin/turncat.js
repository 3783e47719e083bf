#!/usr/bin/env node
// The turncat command: Node runs the TypeScript sources directly (type stripping).
import "../src/cmd/turncat.ts";
