/**
 * The backend every example on the page runs with. One shared ref, so the
 * selector above the page switches all examples at once; the choice survives
 * navigation (localStorage) and can be preset with `?backend=gpu`.
 */
import { ref, watch } from 'vue';
import type { BackendChoice } from './protocol.js';

const KEY = 'bp-docs-backend';

function stored(): BackendChoice {
  const q = new URLSearchParams(window.location.search).get('backend');
  if (q === 'cpu' || q === 'gpu') return q;
  return window.localStorage?.getItem(KEY) === 'gpu' ? 'gpu' : 'cpu';
}

/** The selected backend for every example; 'cpu' until the page mounts, as on the server. */
export const backendChoice = ref<BackendChoice>('cpu');

let loaded = false;

/** Reads the stored or requested choice; called once mounted, so hydration sees the server's 'cpu'. */
export function loadBackendChoice(): void {
  if (loaded || typeof window === 'undefined') return;
  loaded = true;
  backendChoice.value = stored();
  watch(backendChoice, (v) => window.localStorage?.setItem(KEY, v));
}

/** `?quick=1`: examples use their smaller sizes (the browser test sets it). */
export function quickMode(): boolean {
  return typeof window !== 'undefined' && new URLSearchParams(window.location.search).get('quick') === '1';
}
