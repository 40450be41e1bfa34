import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig, type DefaultTheme } from 'vitepress';
import { isolationHeaders } from './isolation.mjs';
import { exampleFence } from './example-fence.js';

const apiSidebarFile = fileURLToPath(new URL('../api/sidebar.json', import.meta.url));

/** The API sidebar written by TypeDoc (scripts/prepare.mjs); absent until the first prepare. */
function apiSidebar(): DefaultTheme.SidebarItem[] {
  if (!existsSync(apiSidebarFile)) return [];
  return JSON.parse(readFileSync(apiSidebarFile, 'utf8')) as DefaultTheme.SidebarItem[];
}

const learn: DefaultTheme.SidebarItem[] = [
  {
    text: 'Start',
    items: [
      { text: 'Getting started', link: '/guide/getting-started' },
      { text: 'The bp command', link: '/guide/cli' },
      { text: 'How the examples run', link: '/guide/examples' },
    ],
  },
  {
    text: 'Concepts',
    items: [
      { text: 'The forward pass', link: '/concepts/forward-pass' },
      { text: 'Loss functions', link: '/concepts/loss-functions' },
      { text: 'The backward pass', link: '/concepts/backward-pass' },
      { text: 'micrograd in TypeScript', link: '/concepts/micrograd' },
      { text: "Backprop's four equations", link: '/concepts/backprop-equations' },
      { text: 'Gradient descent', link: '/concepts/gradient-descent' },
      { text: 'Optimizers compared', link: '/concepts/optimizers' },
      { text: 'Vanishing and exploding gradients', link: '/concepts/vanishing-exploding' },
      { text: 'Common mistakes', link: '/concepts/common-mistakes' },
    ],
  },
  {
    text: 'Guides',
    items: [
      { text: 'XOR from scratch', link: '/guides/xor' },
      { text: 'The PyTorch-style loop', link: '/guides/pytorch-loop' },
      { text: 'MNIST in the browser', link: '/guides/mnist' },
      { text: 'A small CNN', link: '/guides/cnn' },
      { text: 'From backprop to a GPT', link: '/guides/gpt' },
      { text: 'A custom layer', link: '/guides/custom-layer' },
      { text: 'A custom loss', link: '/guides/custom-loss' },
      { text: 'Swapping backends', link: '/guides/backends' },
      { text: 'Saving and loading', link: '/guides/save-load' },
      { text: 'Taking a model elsewhere', link: '/guides/elsewhere' },
      { text: 'Writing a backend', link: '/guides/writing-a-backend' },
    ],
  },
];

export default defineConfig({
  title: 'bp',
  description: 'Backpropagation you can read, run and trust, in TypeScript.',
  base: process.env.BP_DOCS_BASE ?? '/',
  srcExclude: ['README.md'],
  head: [['link', { rel: 'icon', type: 'image/svg+xml', href: `${process.env.BP_DOCS_BASE ?? '/'}favicon.svg` }]],
  cleanUrls: false,
  lastUpdated: false,
  // Every internal link must resolve, the guides' links into the API reference included.
  ignoreDeadLinks: false,
  themeConfig: {
    nav: [
      { text: 'Learn', link: '/guide/getting-started' },
      { text: 'Concepts', link: '/concepts/forward-pass' },
      { text: 'Guides', link: '/guides/xor' },
      { text: 'API', link: '/api/' },
    ],
    sidebar: {
      '/api/': [{ text: 'API reference', link: '/api/', items: apiSidebar() }],
      '/': learn,
    },
    outline: { level: [2, 3] },
    search: { provider: 'local' },
  },
  markdown: {
    config(md) {
      exampleFence(md);
    },
  },
  vite: {
    resolve: { conditions: ['@bp/source', 'browser', 'module', 'import', 'default'] },
    worker: { format: 'es' },
    // Cross-origin isolation, so the examples' worker can run bp's kernels on threads: a
    // middleware, since VitePress answers page requests itself (server.headers misses them).
    plugins: [
      {
        name: 'bp-cross-origin-isolation',
        configureServer(server) {
          server.middlewares.use((_req, res, next) => {
            for (const [k, v] of Object.entries(isolationHeaders)) res.setHeader(k, v);
            next();
          });
        },
      },
    ],
    // Keep class and function names through minification: bp's errors are named after
    // their class (`this.name = new.target.name`), and the examples print them.
    esbuild: { keepNames: true },
    build: { chunkSizeWarningLimit: 2000 },
  },
});
