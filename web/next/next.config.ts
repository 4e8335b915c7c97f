import path from 'node:path';
import type { NextConfig } from 'next';

// The app's own folder (npm runs `next build` from here): the repository root has its own
// package-lock.json, and this app is its own root.
const here = path.resolve();

const config: NextConfig = {
  turbopack: { root: here },
  outputFileTracingRoot: here,
};

export default config;
