import { defineConfig } from 'vite';

// No React plugin: esbuild compiles JSX with React's automatic runtime, which is all this app
// needs (no fast refresh).
export default defineConfig({
  esbuild: { jsx: 'automatic' },
});
