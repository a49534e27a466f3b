#!/usr/bin/env node
// Thin launcher so `npx depthseg` works after `npm ci` (which runs `prepare` → tsc).
import { main } from "../dist/cli.js";

process.exitCode = await main(process.argv.slice(2));
