// Generates src/client from openapi.json (written by scripts/export_openapi.py).
// OPENAPI_TS_INPUT / OPENAPI_TS_OUTPUT let `make web-client-check` regenerate into a scratch folder and diff.
import { defineConfig } from '@hey-api/openapi-ts';

export default defineConfig({
  input: process.env.OPENAPI_TS_INPUT ?? './openapi.json',
  output: { path: process.env.OPENAPI_TS_OUTPUT ?? './src/client' },
  plugins: ['@hey-api/client-fetch', '@hey-api/typescript', '@hey-api/sdk', '@tanstack/react-query'],
});
