import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

/** @type {import('next').NextConfig} */
export default {
  // The repository root has its own package-lock.json; this app is its own root.
  turbopack: { root: here },
  outputFileTracingRoot: here,
};
