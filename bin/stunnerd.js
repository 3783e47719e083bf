#!/usr/bin/env node
// The stunnerd command: Node runs the TypeScript sources directly (type stripping).
import "../src/cmd/stunnerd.ts";
